/**
 * `GET /kbs/v0/resource/<repository>/<type>/<tag>`: the resource as a flattened JWE to the attested tee-pubkey,
 * if the requester attested and the resource's policy passes (the evidence is re-appraised against that policy).
 * The requester is the attestation token of `Authorization: Bearer` when present (KBS 0.4.0 §"Resource
 * Requests"; ../tokens.ts), else the session cookie's attestation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PolicyError, SessionError, fromUtf8 } from '@ccinfer/core';
import { releaseTo } from '@ccinfer/verifier/trustee';
import type { BrokerContext, RequestRecord } from '../context.js';
import { policyFor } from '../policy.js';
import { send } from '../reply.js';
import { resourceName, type ResourceId } from '../store.js';
import { bearerToken, type AttestedEvidence } from '../tokens.js';
import { AppraisalRefused } from './refused.js';

export async function resource(ctx: BrokerContext, req: IncomingMessage, res: ServerResponse, id: ResourceId, record: RequestRecord): Promise<void> {
  const who = await requester(ctx, req);
  record.session = who.session;
  record.tee = who.tee;
  const secret = await ctx.store.get(id);
  if (!secret) throw new SessionError('ERR_KBS_RESOURCE_UNKNOWN', `no resource ${resourceName(id)}`);
  const entry = policyFor(ctx.policies, id);
  if (!entry) throw new PolicyError('ERR_KBS_NO_POLICY', `no resource policy covers ${resourceName(id)}: never released`);
  // Sealed to the attested tee-pubkey (the token's, when one was presented: tokens.ts checks they agree).
  const r = await releaseTo(who.bundle, entry.policy, secret, { ...ctx.appraisal, nonce: who.nonce, now: ctx.now() });
  record.digest = r.documentDigest;
  if (!r.sealed) {
    const first = r.document.errors[0];
    throw new AppraisalRefused(first?.code ?? 'ERR_INTERNAL', first?.message ?? 'policy refused');
  }
  // No release without its audit entry: if the entry cannot be written, the sealed secret is never sent.
  await ctx.audit.record({ event: 'release', session: who.session, tee: who.tee, resource: resourceName(id), ok: true, documentDigest: r.documentDigest, detail: `policy ${entry.pattern}` }, ctx.now());
  send(res, 200, fromUtf8(r.sealed));
}

async function requester(ctx: BrokerContext, req: IncomingMessage): Promise<AttestedEvidence> {
  const token = bearerToken(req.headers.authorization);
  if (token !== undefined) return ctx.tokens.verify(token, ctx.now());
  const s = ctx.sessions.fromCookie(req);
  if (s.state !== 'attested' || !s.attested) throw new SessionError('ERR_KBS_NOT_ATTESTED', 'Attestation Token not found');
  return s.attested;
}
