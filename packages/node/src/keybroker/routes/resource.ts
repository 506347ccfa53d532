/**
 * `GET /kbs/v0/resource/<repository>/<type>/<tag>`: the resource as a flattened JWE to the session's tee-pubkey,
 * if the session attested and the resource's policy passes (the evidence is re-appraised against that policy).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PolicyError, SessionError, fromUtf8 } from '@ccinfer/core';
import { releaseTo } from '@ccinfer/verifier/trustee';
import type { BrokerContext, RequestRecord } from '../context.js';
import { policyFor } from '../policy.js';
import { send } from '../reply.js';
import { resourceName, type ResourceId } from '../store.js';
import { AppraisalRefused } from './refused.js';

export async function resource(ctx: BrokerContext, req: IncomingMessage, res: ServerResponse, id: ResourceId, record: RequestRecord): Promise<void> {
  const s = ctx.sessions.fromCookie(req);
  record.session = s.id;
  record.tee = s.tee;
  if (s.state !== 'attested' || !s.attested) throw new SessionError('ERR_KBS_NOT_ATTESTED', 'Attestation Token not found');
  const secret = await ctx.store.get(id);
  if (!secret) throw new SessionError('ERR_KBS_RESOURCE_UNKNOWN', `no resource ${resourceName(id)}`);
  const entry = policyFor(ctx.policies, id);
  if (!entry) throw new PolicyError('ERR_KBS_NO_POLICY', `no resource policy covers ${resourceName(id)}: never released`);
  const r = await releaseTo(s.attested.bundle, entry.policy, secret, { ...ctx.appraisal, nonce: s.attested.nonce, now: ctx.now() });
  record.digest = r.documentDigest;
  if (!r.sealed) {
    const first = r.document.errors[0];
    throw new AppraisalRefused(first?.code ?? 'ERR_INTERNAL', first?.message ?? 'policy refused');
  }
  // No release without its audit entry: if the entry cannot be written, the sealed secret is never sent.
  await ctx.audit.record({ event: 'release', session: s.id, tee: s.tee, resource: resourceName(id), ok: true, documentDigest: r.documentDigest, detail: `policy ${entry.pattern}` }, ctx.now());
  send(res, 200, fromUtf8(r.sealed));
}
