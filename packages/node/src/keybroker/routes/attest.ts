/**
 * `POST /kbs/v0/attest` (kbs_attestation_protocol.md "Attestation"): appraises the evidence answering the
 * session's challenge and returns an attestation token (an EAR JWT, ES256). The challenge is answered once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SessionError } from '@ccinfer/core';
import { appraise } from '@ccinfer/verifier';
import { bundleFromKbsAttestation, documentDigest, parseKbsAttestation } from '@ccinfer/verifier/trustee';
import type { BrokerContext, RequestRecord } from '../context.js';
import { readKbsJson, send } from '../reply.js';
import type { AttestedEvidence } from '../tokens.js';
import { AppraisalRefused } from './refused.js';

export async function attest(ctx: BrokerContext, req: IncomingMessage, res: ServerResponse, record: RequestRecord): Promise<void> {
  const s = ctx.sessions.fromCookie(req);
  record.session = s.id;
  record.tee = s.tee;
  // The challenge is answered once, whatever the outcome: a replayed or repeated attestation is refused.
  if (s.state !== 'challenged') throw new SessionError('ERR_KBS_NONCE_USED', 'this session’s challenge was already answered');
  s.state = 'answered';
  const att = parseKbsAttestation(await readKbsJson(req, ctx.maxBodyBytes));
  if (att.runtimeData.nonce !== s.nonce) throw new SessionError('ERR_KBS_NONCE_MISMATCH', 'the nonce in runtime-data is not this session’s challenge (stale or replayed evidence)');
  const tb = await bundleFromKbsAttestation(att, s.tee, { snpCrl: ctx.snpCrl });
  const a = await appraise(tb.bundle, { ...ctx.appraisal, nonce: tb.nonce, policy: ctx.attestationPolicy, now: ctx.now() });
  record.digest = await documentDigest(a.document);
  if (!a.document.ok) {
    const first = a.document.errors[0];
    throw new AppraisalRefused(first?.code ?? 'ERR_INTERNAL', first?.message ?? 'appraisal failed');
  }
  const attested: AttestedEvidence = { session: s.id, tee: s.tee, bundle: tb.bundle, nonce: tb.nonce, teePubkey: tb.runtimeData['tee-pubkey'] };
  const token = await ctx.tokens.issue({ ...a.ear, 'ccinfer.document-digest': record.digest }, attested, ctx.now());
  // Logged before the session (or the token) may ask for resources: an unwritable log leaves the session
  // unattested and the token never sent (fail closed).
  await ctx.audit.record({ event: 'attest', session: s.id, tee: s.tee, ok: true, documentDigest: record.digest }, ctx.now());
  s.state = 'attested';
  s.attested = attested;
  ctx.sessions.setCookie(res, s);
  send(res, 200, { token });
}
