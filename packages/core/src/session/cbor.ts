/**
 * Strict CBOR (RFC 8949) for the ccinfer/1 wire messages. `cbor-x` does the decoding and encoding; before it
 * sees a byte, {@link checkStrictCbor} walks the item and refuses what a lenient decoder would let through:
 * indefinite lengths and non-shortest heads (RFC 8949 §4.2.1 core deterministic encoding, so one message has
 * one encoding), tags, floats and simple values (nothing in docs/wire-protocol.md "Evidence bundle" uses them), map keys that are not
 * text, duplicate keys (§5.6: a decoder keeping the last one would let two parties read two different
 * bundles), invalid UTF-8, excessive nesting, and trailing bytes. Decoding is into `Map`s
 * (`mapsAsObjects: false`), which also sidesteps cbor-x's `__proto__` renaming.
 */
import { Decoder, Encoder } from 'cbor-x';
import { equalBytes, fromUtf8 } from '../bytes.js';
import { sessionError } from './errors.js';

export type CborValue = number | string | Uint8Array | CborValue[] | Map<string, CborValue>;

const MAX_DEPTH = 8;

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false } as never);
const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, variableMapSize: true, tagUint8Array: false } as never);

export function checkStrictCbor(bytes: Uint8Array, maxItems: number): void {
  let items = 0;
  const head = (at: number): { major: number; arg: number; next: number } => {
    if (at >= bytes.length) throw sessionError('ERR_BUNDLE_CBOR_MALFORMED', `CBOR ends at ${at}`);
    const ib = bytes[at]!;
    const major = ib >> 5;
    const ai = ib & 0x1f;
    if (ai < 24) return { major, arg: ai, next: at + 1 };
    if (ai === 31) throw sessionError('ERR_BUNDLE_CBOR_NOT_CANONICAL', `indefinite length at ${at}`);
    if (ai > 27) throw sessionError('ERR_BUNDLE_CBOR_MALFORMED', `reserved additional information at ${at}`);
    const n = 1 << (ai - 24);
    if (at + 1 + n > bytes.length) throw sessionError('ERR_BUNDLE_CBOR_MALFORMED', `CBOR head at ${at} truncated`);
    let arg = 0;
    for (let i = 0; i < n; i++) arg = arg * 256 + bytes[at + 1 + i]!;
    if (!Number.isSafeInteger(arg)) throw sessionError('ERR_BUNDLE_CBOR_UNSUPPORTED', `CBOR argument at ${at} exceeds 2^53`);
    // Shortest form: each width must be needed (RFC 8949 §4.2.1).
    const min = ai === 24 ? 24 : ai === 25 ? 0x100 : ai === 26 ? 0x10000 : 0x100000000;
    if (arg < min) throw sessionError('ERR_BUNDLE_CBOR_NOT_CANONICAL', `CBOR argument at ${at} not in shortest form`);
    return { major, arg, next: at + 1 + n };
  };
  const item = (at: number, depth: number): number => {
    if (++items > maxItems) throw sessionError('ERR_BUNDLE_TOO_LARGE', `more than ${maxItems} CBOR items`);
    if (depth > MAX_DEPTH) throw sessionError('ERR_BUNDLE_CBOR_UNSUPPORTED', `CBOR nested deeper than ${MAX_DEPTH}`);
    const h = head(at);
    switch (h.major) {
      case 0:
        return h.next;
      case 2:
      case 3: {
        if (h.arg > bytes.length - h.next) throw sessionError('ERR_BUNDLE_CBOR_MALFORMED', `string at ${at} runs past the end`);
        if (h.major === 3) fromUtf8(bytes.subarray(h.next, h.next + h.arg), 'ERR_BUNDLE_CBOR_MALFORMED');
        return h.next + h.arg;
      }
      case 4: {
        let p = h.next;
        for (let i = 0; i < h.arg; i++) p = item(p, depth + 1);
        return p;
      }
      case 5: {
        let p = h.next;
        const keys: Uint8Array[] = [];
        for (let i = 0; i < h.arg; i++) {
          const k = head(p);
          if (k.major !== 3) throw sessionError('ERR_BUNDLE_CBOR_UNSUPPORTED', `map key at ${p} is not a text string`);
          const end = item(p, depth + 1);
          const key = bytes.subarray(k.next, end);
          if (keys.some((x) => equalBytes(x, key))) throw sessionError('ERR_BUNDLE_DUPLICATE_KEY', `duplicate map key at ${p}`);
          keys.push(key);
          p = item(end, depth + 1);
        }
        return p;
      }
      default:
        throw sessionError('ERR_BUNDLE_CBOR_UNSUPPORTED', `CBOR major type ${h.major} at ${at} is not used by ccinfer/1`);
    }
  };
  const end = item(0, 0);
  if (end !== bytes.length) throw sessionError('ERR_BUNDLE_CBOR_MALFORMED', `${bytes.length - end} bytes after the CBOR item`);
}

/** Decodes after {@link checkStrictCbor}; byte strings come back as plain `Uint8Array` copies. */
export function decodeStrictCbor(bytes: Uint8Array, maxItems: number): CborValue {
  checkStrictCbor(bytes, maxItems);
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (cause) {
    throw sessionError('ERR_BUNDLE_CBOR_MALFORMED', 'CBOR decoding failed', { cause });
  }
  return normalise(value);
}

function normalise(v: unknown): CborValue {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(normalise);
  if (v instanceof Map) {
    const m = new Map<string, CborValue>();
    for (const [k, x] of v) m.set(k as string, normalise(x));
    return m;
  }
  return v as CborValue;
}

export function encodeCbor(value: CborValue): Uint8Array {
  return new Uint8Array(encoder.encode(value));
}
