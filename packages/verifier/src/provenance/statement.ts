/**
 * The in-toto attestation framework Statement (in-toto/attestation spec v1, `statement.md`) carried as the
 * payload of a DSSE envelope (DSSE v1 `envelope.md`, payloadType `application/vnd.in-toto+json`). Parsing only:
 * the bytes here are trusted only after the bundle verifier has checked the DSSE signature over them.
 */
import { ParseError, fromUtf8 } from '@ccinfer/core';
import { duplicateJsonKey } from '@ccinfer/core/internal';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** Statement `_type`s: v1, and v0.1 which older signers still emit with the same layout. */
const STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'];

export interface InTotoSubject {
  name: string;
  /** Algorithm → lowercase hex digest; `sha256` is always present (checked). */
  digest: Record<string, string>;
}

export interface InTotoStatement {
  type: string;
  subject: InTotoSubject[];
  predicateType: string;
  predicate: Record<string, unknown>;
}

const invalid = (message: string, cause?: unknown): never => {
  throw new ParseError('ERR_PROVENANCE_BUNDLE_INVALID', message, cause === undefined ? undefined : { cause });
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a DSSE payload as an in-toto Statement: `_type`, a non-empty subject list with SHA-256 digests, predicate. */
export function parseInTotoStatement(payloadType: string, payload: Uint8Array): InTotoStatement {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) invalid(`DSSE payloadType is ${payloadType}, expected ${IN_TOTO_PAYLOAD_TYPE}`);
  const text = fromUtf8(payload, 'ERR_PROVENANCE_BUNDLE_INVALID');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    invalid('the DSSE payload is not JSON', cause);
  }
  // JSON.parse keeps the last of a repeated member; a signer or another verifier may read the first, so the
  // signed statement would mean two different things.
  const duplicate = duplicateJsonKey(text);
  if (duplicate !== undefined) invalid(`duplicate JSON member ${duplicate} in the statement`);
  if (!isObject(json)) return invalid('the statement is not a JSON object');
  const type = json['_type'];
  if (typeof type !== 'string' || !STATEMENT_TYPES.includes(type)) invalid(`statement _type ${String(type)} is not an in-toto Statement`);
  const subjects = json['subject'];
  if (!Array.isArray(subjects) || subjects.length === 0) invalid('statement has no subject');
  const subject = (subjects as unknown[]).map((s, i): InTotoSubject => {
    if (!isObject(s) || !isObject(s['digest'])) return invalid(`subject[${i}] has no digest`);
    const digest: Record<string, string> = {};
    for (const [alg, v] of Object.entries(s['digest'])) {
      if (typeof v !== 'string' || !/^[0-9a-fA-F]+$/.test(v)) invalid(`subject[${i}].digest.${alg} is not hex`);
      digest[alg] = (v as string).toLowerCase();
    }
    // The statement spec lets a subject carry any algorithm set; we require SHA-256 so the subject can be compared.
    if (digest['sha256']?.length !== 64) invalid(`subject[${i}] has no 32-byte sha256 digest`);
    return { name: typeof s['name'] === 'string' ? s['name'] : '', digest };
  });
  const predicateType = json['predicateType'];
  if (typeof predicateType !== 'string' || predicateType.length === 0) invalid('statement has no predicateType');
  const predicate = json['predicate'];
  if (!isObject(predicate)) return invalid('statement predicate is not an object');
  return { type: type as string, subject, predicateType: predicateType as string, predicate };
}

/**
 * The measurement value(s) at a dotted `path` of the predicate: a hex string or an array of them, lowercased.
 * Returns undefined when the path is absent or holds anything else.
 */
export function predicateMeasurements(predicate: Record<string, unknown>, path: string): string[] | undefined {
  let v: unknown = predicate;
  for (const part of path.split('.')) {
    if (!isObject(v) || !Object.hasOwn(v, part)) return undefined;
    v = v[part];
  }
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every((x): x is string => typeof x === 'string' && /^[0-9a-fA-F]{96}$/.test(x))) return undefined;
  return list.map((x) => x.toLowerCase());
}
