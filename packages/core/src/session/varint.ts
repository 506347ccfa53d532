/**
 * Variable-length integers of RFC 9000 §16, as used by Binary HTTP (RFC 9292 §3) and chunked OHTTP
 * (draft-ietf-ohai-chunked-ohttp-08 §3–4). The two most significant bits give the length (1, 2, 4 or 8 bytes).
 * Values above 2^53 − 1 cannot be represented exactly in a JS number and are refused: no message we accept
 * comes near that size.
 */
import type { ErrorCode } from '../errors.js';
import { sessionError, type SessionErrorCode } from './errors.js';

export const VARINT_MAX = Number.MAX_SAFE_INTEGER;

export function varintLength(v: number): 1 | 2 | 4 | 8 {
  if (v < 0x40) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x40000000) return 4;
  return 8;
}

/** Shortest encoding of `v` (RFC 9000 §16 recommends it; RFC 9292 §3 requires nothing stronger). */
export function encodeVarint(v: number): Uint8Array {
  if (!Number.isSafeInteger(v) || v < 0) throw sessionError('ERR_OHTTP_VARINT', `${v} is not a varint value`);
  const n = varintLength(v);
  const out = new Uint8Array(n);
  writeVarint(out, 0, v, n);
  return out;
}

export function writeVarint(out: Uint8Array, at: number, v: number, n: 1 | 2 | 4 | 8 = varintLength(v)): number {
  let x = v;
  for (let i = n - 1; i >= 0; i--) {
    out[at + i] = x & 0xff;
    x = Math.floor(x / 256);
  }
  out[at] = out[at]! | ({ 1: 0x00, 2: 0x40, 4: 0x80, 8: 0xc0 } as const)[n];
  return at + n;
}

/**
 * Reads a varint at `at`. Returns `undefined` when the buffer ends first (a stream decoder then waits for
 * more bytes), otherwise the value and the offset after it.
 */
export function readVarint(
  buf: Uint8Array,
  at: number,
  tooLarge: ErrorCode & SessionErrorCode = 'ERR_OHTTP_VARINT',
): { value: number; next: number } | undefined {
  if (at >= buf.length) return undefined;
  const first = buf[at]!;
  const n = 1 << (first >> 6);
  if (at + n > buf.length) return undefined;
  let v = first & 0x3f;
  for (let i = 1; i < n; i++) v = v * 256 + buf[at + i]!;
  if (!Number.isSafeInteger(v)) throw sessionError(tooLarge, `varint at ${at} exceeds 2^53`);
  return { value: v, next: at + n };
}
