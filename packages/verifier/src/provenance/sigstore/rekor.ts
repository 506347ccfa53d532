/**
 * The Rekor (v1) transparency-log entry of a bundle, verified offline:
 *
 * - Signed entry timestamp (Rekor "inclusion promise"): the log's ECDSA signature over the canonical JSON
 *   (RFC 8785: members sorted, no spaces) of `{body, integratedTime, logID, logIndex}`; it is what makes the
 *   integrated time, the time the certificate is checked at, a statement of the log.
 * - Inclusion proof: the RFC 9162 §2.1.3.2 audit-path check of the entry's leaf hash (RFC 6962 §2.1:
 *   SHA-256(0x00 ‖ body)) up to the root hash of a checkpoint, whose signed note (C2SP signed-note: the note
 *   text up to the blank line, signature lines `— <name> base64(keyHint ‖ signature)`, keyHint = the first four
 *   bytes of the log ID) verifies with the same log's key.
 * - Entry body: a `dsse` v0.0.1 entry names the envelope's one signature and the SHA-256 of its payload, so the
 *   log vouches for exactly the statement in the bundle.
 *
 * Everything refused here is `ERR_PROVENANCE_TLOG_INVALID`.
 */
import { VerificationError, concat, equalBytes, fromBase64, fromHex, sha256, toBase64, toHex, utf8, fromUtf8 } from '@ccinfer/core';
import type { InclusionProof, TlogEntry } from './bundle.js';
import { verifyLogSignature } from './keys.js';
import { within, type LogAuthority } from './trusted-root.js';

const refuse = (message: string, cause?: unknown): never => {
  throw new VerificationError('ERR_PROVENANCE_TLOG_INVALID', `Rekor entry: ${message}`, cause === undefined ? undefined : { cause });
};

/** The integrated time of an entry as a Date (seconds since the epoch). */
export const integratedTime = (entry: TlogEntry): Date => new Date(Number(entry.integratedTime) * 1000);

/** The trusted logs that may have signed `entry`: same log ID, key valid at its integrated time. */
function logsFor(entry: TlogEntry, tlogs: readonly LogAuthority[]): LogAuthority[] {
  const at = integratedTime(entry);
  const logs = tlogs.filter((t) => equalBytes(t.logId, entry.logId) && within(t.validFor, at));
  if (logs.length === 0) refuse(`log ${toBase64(entry.logId)} is not a log of the trusted root at ${at.toISOString()}`);
  return logs;
}

/** Verifies the signed entry timestamp; returns the log whose key signed it. */
export async function verifySignedEntryTimestamp(entry: TlogEntry, tlogs: readonly LogAuthority[]): Promise<LogAuthority> {
  if (!entry.signedEntryTimestamp) return refuse(`entry ${entry.logIndex} has no signed entry timestamp`);
  // RFC 8785 canonical form: the member names sorted, integers as plain decimals (the values are validated
  // decimal strings, written as such so no precision is lost).
  const payload = `{"body":${JSON.stringify(toBase64(entry.canonicalizedBody))},"integratedTime":${entry.integratedTime},"logID":"${toHex(entry.logId)}","logIndex":${entry.logIndex}}`;
  for (const log of logsFor(entry, tlogs)) {
    if (await verifyLogSignature(log, utf8(payload), entry.signedEntryTimestamp)) return log;
  }
  return refuse(`the signed entry timestamp of entry ${entry.logIndex} does not verify with the log's key`);
}

interface Checkpoint {
  origin: string;
  size: bigint;
  rootHash: Uint8Array;
}

/** Parses and verifies a checkpoint's signed note with `log`'s key (C2SP signed-note, tlog-checkpoint). */
async function verifyCheckpoint(envelope: string, log: LogAuthority): Promise<Checkpoint> {
  const split = envelope.indexOf('\n\n');
  if (split < 0) refuse('the checkpoint has no signature block');
  const note = envelope.slice(0, split + 1);
  const sigLines = envelope.slice(split + 2).split('\n');
  // The note ends with a newline, as every signature line does; nothing may follow the last one.
  if (sigLines.pop() !== '') refuse('the checkpoint signature block does not end with a newline');
  const host = new URL(log.baseUrl).host;
  const hint = log.logId.subarray(0, 4);
  let signed = false;
  for (const line of sigLines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/.exec(line);
    if (!m) return refuse('the checkpoint has a malformed signature line');
    const sig = fromBase64(m[2]!, 'ERR_PROVENANCE_TLOG_INVALID');
    if (sig.length < 5) refuse('the checkpoint has a truncated signature');
    if (m[1] !== host || !equalBytes(sig.subarray(0, 4), hint)) continue;
    if (await verifyLogSignature(log, utf8(note), sig.subarray(4))) signed = true;
  }
  if (!signed) refuse(`the checkpoint is not signed by ${host}`);
  const lines = note.slice(0, -1).split('\n');
  if (lines.length < 3 || !/^(0|[1-9][0-9]*)$/.test(lines[1]!)) refuse('the checkpoint body is not origin / size / root hash');
  const rootHash = fromBase64(lines[2]!, 'ERR_PROVENANCE_TLOG_INVALID');
  if (rootHash.length !== 32) refuse('the checkpoint root hash is not 32 bytes');
  return { origin: lines[0]!, size: BigInt(lines[1]!), rootHash };
}

const hashNode = (left: Uint8Array, right: Uint8Array): Promise<Uint8Array> => sha256(concat(Uint8Array.of(1), left, right));

/** RFC 9162 §2.1.3.2: the root hash the audit path yields for `leafHash` at `index` in a tree of `size`. */
export async function rootFromPath(index: bigint, size: bigint, leafHash: Uint8Array, path: readonly Uint8Array[]): Promise<Uint8Array> {
  if (index >= size) refuse(`leaf index ${index} is outside a tree of ${size}`);
  let fn = index;
  let sn = size - 1n;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0n) refuse('the audit path is longer than the tree is deep');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await hashNode(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await hashNode(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) refuse('the audit path is shorter than the tree is deep');
  return r;
}

/** Verifies the inclusion proof against its checkpoint, signed by `log`. */
export async function verifyInclusion(entry: TlogEntry, proof: InclusionProof, log: LogAuthority): Promise<void> {
  const checkpoint = await verifyCheckpoint(proof.checkpoint, log);
  if (checkpoint.size !== proof.treeSize || !equalBytes(checkpoint.rootHash, proof.rootHash)) refuse('the inclusion proof is not for the signed checkpoint');
  const leaf = await sha256(concat(Uint8Array.of(0), entry.canonicalizedBody));
  const root = await rootFromPath(proof.logIndex, proof.treeSize, leaf, proof.hashes);
  if (!equalBytes(root, checkpoint.rootHash)) refuse('the inclusion proof does not lead to the checkpoint root hash');
}

/**
 * Checks that a `dsse` v0.0.1 entry is the bundle's envelope: its one signature is the envelope's and its
 * payload hash the SHA-256 of the envelope payload. Other kinds and versions are refused.
 */
export async function verifyDsseEntryBody(entry: TlogEntry, envelope: { payload: Uint8Array; signature: Uint8Array }): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(fromUtf8(entry.canonicalizedBody, 'ERR_PROVENANCE_TLOG_INVALID'));
  } catch (cause) {
    refuse('the entry body is not JSON', cause);
  }
  const kind = field(body, 'kind');
  const apiVersion = field(body, 'apiVersion');
  if (kind !== entry.kind || apiVersion !== entry.version) refuse(`the entry body is ${String(kind)}/${String(apiVersion)}, the bundle says ${entry.kind}/${entry.version}`);
  if (entry.kind !== 'dsse' || entry.version !== '0.0.1') refuse(`entry kind ${entry.kind} ${entry.version} is not supported (dsse 0.0.1)`);
  const spec = field(body, 'spec');
  const sigs = field(spec, 'signatures');
  const sig = Array.isArray(sigs) && sigs.length === 1 ? field(sigs[0], 'signature') : undefined;
  if (typeof sig !== 'string') return refuse('the entry does not name exactly one signature');
  if (!equalBytes(fromBase64(sig, 'ERR_PROVENANCE_TLOG_INVALID'), envelope.signature)) refuse('the entry names another signature than the envelope');
  const hash = field(spec, 'payloadHash');
  const value = field(hash, 'value');
  if (field(hash, 'algorithm') !== 'sha256' || typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) return refuse('the entry has no SHA-256 payload hash');
  if (!equalBytes(fromHex(value), await sha256(envelope.payload))) refuse('the entry payload hash is not the SHA-256 of the envelope payload');
}

/** A member of a JSON object, or undefined for anything else. */
function field(v: unknown, name: string): unknown {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, name) ? (v as Record<string, unknown>)[name] : undefined;
}
