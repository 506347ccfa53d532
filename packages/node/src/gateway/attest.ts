/**
 * `POST /.well-known/ccinfer/attest` (ccinfer/1): the body is a CBOR attest request carrying the client's
 * nonce; the answer is the evidence bundle whose report data binds that nonce and the current key config,
 * with the vendor collateral it lacks attached when an attacher is configured (collateral.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CcinferError, decodeAttestRequest, encodeBundle } from '@ccinfer/core';
import { BodyTooLarge, readBody } from '../http.js';
import type { CollateralAttacher } from './collateral.js';
import type { EvidenceProvider } from './evidence/provider.js';
import type { KeyRing } from './key-ring.js';
import { sendProblem } from './problem.js';
import { sendBusy, Slots, type GatewayLog } from './slots.js';

/** An attest request is a nonce in a small CBOR map; anything larger is not one. */
const MAX_ATTEST_REQUEST_BYTES = 256;

export interface AttestHandlerOptions {
  keys: KeyRing;
  evidence: EvidenceProvider;
  attacher: CollateralAttacher | undefined;
  evidenceTimeoutMs: number;
  /** Evidence collections at once; beyond it 503 + Retry-After. */
  maxConcurrent: number;
  log: GatewayLog;
  /** Called once per attest request received. */
  counted: () => void;
}

export function createAttestHandler(o: AttestHandlerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const slots = new Slots(o.maxConcurrent);

  async function collect(nonce: Uint8Array, res: ServerResponse): Promise<void> {
    const key = o.keys.current;
    let bundle: Uint8Array;
    try {
      const evidence = await withTimeout(o.evidence.collect({ nonce, keyConfig: key.encoded }), o.evidenceTimeoutMs, 'evidence collection timed out');
      // After the binding is computed, and outside it: collateral is vendor-signed, not vouched for by the pod.
      bundle = encodeBundle(o.attacher ? await o.attacher.attach(evidence) : evidence);
    } catch (err) {
      o.log('evidence-failed', { code: err instanceof CcinferError ? err.code : 'unknown' });
      return sendProblem(res, 503, 'evidence-unavailable', 'evidence could not be collected');
    }
    res.writeHead(200, { 'content-type': 'application/cbor', 'cache-control': 'no-store', 'content-length': bundle.length });
    res.end(bundle);
  }

  return async (req, res) => {
    o.counted();
    // The request is read before a slot is taken: a client that sends headers and then nothing must not hold
    // one of the few evidence-collection slots while the request timeout runs.
    let nonce: Uint8Array;
    try {
      nonce = decodeAttestRequest(await readBody(req, MAX_ATTEST_REQUEST_BYTES)).nonce;
    } catch (err) {
      const tooLarge = err instanceof BodyTooLarge;
      return sendProblem(res, tooLarge ? 413 : 400, tooLarge ? 'too-large' : 'bad-request', 'not a ccinfer/1 attest request');
    }
    // A flood of attests must not queue up CPU and GPU report signing.
    if (!slots.take()) {
      return sendBusy(res, 'attestations');
    }
    try {
      await collect(nonce, res);
    } finally {
      slots.release();
    }
  };
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
