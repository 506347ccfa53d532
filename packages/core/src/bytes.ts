/**
 * Byte helpers over plain `Uint8Array` (no `Buffer`): hex, UTF-8, concatenation, comparison and a
 * bounds-checked little/big-endian reader. Every byte the SDK parses is attacker-controlled, so every read
 * is checked against the end of the buffer and reported with its offset.
 */
import { ParseError, type ErrorCode } from './errors.js';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

/** Strict hex decoding: even length, `[0-9a-fA-F]` only, optional `0x` prefix. */
export function fromHex(hex: string, code: ErrorCode = 'ERR_HEX_INVALID'): Uint8Array {
  const h = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) {
    throw new ParseError(code, 'not a hex string of whole bytes');
  }
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(i * 2, 2), 16);
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(b64: string, code: ErrorCode = 'ERR_BASE64_INVALID'): Uint8Array {
  let bin: string;
  try {
    bin = atob(b64.replace(/\s+/g, ''));
  } catch (cause) {
    throw new ParseError(code, 'not valid base64', { cause });
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function fromBase64Url(s: string, code: ErrorCode = 'ERR_BASE64_INVALID'): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new ParseError(code, 'not valid base64url');
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(b64 + '='.repeat((4 - (b64.length % 4)) % 4), code);
}

export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Strict UTF-8 decoding (RFC 3629): malformed sequences are an error, never U+FFFD. */
export function fromUtf8(bytes: Uint8Array, code: ErrorCode = 'ERR_UTF8_INVALID'): string {
  try {
    return strictDecoder.decode(bytes);
  } catch (cause) {
    throw new ParseError(code, 'not valid UTF-8', { cause });
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Equality that does not stop at the first differing byte (for digests and MACs). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function isZero(bytes: Uint8Array): boolean {
  let d = 0;
  for (let i = 0; i < bytes.length; i++) d |= bytes[i]!;
  return d === 0;
}

/** A private copy, so that a caller mutating its buffer cannot race a verification in progress. */
export function snapshot(bytes: Uint8Array): Uint8Array {
  return bytes.slice();
}

/** Reverses a little-endian byte string into big-endian order (new array). */
export function reverse(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[bytes.length - 1 - i]!;
  return out;
}

/**
 * A cursor over a byte range. Every read checks bounds and throws a {@link ParseError} with the caller's
 * `truncated` code and the offset at which the data ran out.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private pos = 0;

  constructor(
    bytes: Uint8Array,
    private readonly truncated: ErrorCode,
  ) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number, what: string): number {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.bytes.length - this.pos) {
      throw new ParseError(this.truncated, `${what}: needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`, {
        offset: this.pos,
      });
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(what = 'u8'): number {
    return this.view.getUint8(this.need(1, what));
  }
  u16le(what = 'u16'): number {
    return this.view.getUint16(this.need(2, what), true);
  }
  u16be(what = 'u16'): number {
    return this.view.getUint16(this.need(2, what), false);
  }
  u24le(what = 'u24'): number {
    const at = this.need(3, what);
    return this.bytes[at]! | (this.bytes[at + 1]! << 8) | (this.bytes[at + 2]! << 16);
  }
  u32le(what = 'u32'): number {
    return this.view.getUint32(this.need(4, what), true);
  }
  u32be(what = 'u32'): number {
    return this.view.getUint32(this.need(4, what), false);
  }
  u64le(what = 'u64'): bigint {
    return this.view.getBigUint64(this.need(8, what), true);
  }
  /** A view (no copy) of the next `n` bytes. */
  bytesView(n: number, what = 'bytes'): Uint8Array {
    const at = this.need(n, what);
    return this.bytes.subarray(at, at + n);
  }
  skip(n: number, what = 'skip'): void {
    this.need(n, what);
  }
  /** Moves to an absolute offset within the buffer. */
  seek(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.bytes.length) {
      throw new ParseError(this.truncated, `offset ${offset} outside 0..${this.bytes.length}`, { offset });
    }
    this.pos = offset;
  }
}
