/**
 * Strict DER (ITU-T X.690 §10) reading and writing, the subset X.509, CRLs and OCSP need.
 *
 * Reading keeps every element as a view of the input, so a signature is always checked over the exact bytes
 * that were signed, never over a re-encoding. It rejects what DER forbids and what an attacker would use to
 * confuse a parser: indefinite lengths, non-minimal length octets, lengths past the end, high tag numbers
 * beyond 30 bits, and trailing bytes after the top-level element.
 *
 * A hand-written DER codec instead of asn1js/@peculiar/asn1-schema: those add ~32 KB gzip to the browser
 * client (budget: 100 KB for everything) and re-serialize TBSCertificate instead of exposing its bytes.
 */
import { ParseError } from './errors.js';
import { concat, fromUtf8, toHex, utf8 } from './bytes.js';

export const enum Tag {
  Boolean = 0x01,
  Integer = 0x02,
  BitString = 0x03,
  OctetString = 0x04,
  Null = 0x05,
  Oid = 0x06,
  Enumerated = 0x0a,
  Utf8String = 0x0c,
  PrintableString = 0x13,
  T61String = 0x14,
  Ia5String = 0x16,
  UtcTime = 0x17,
  GeneralizedTime = 0x18,
  BmpString = 0x1e,
  Sequence = 0x30,
  Set = 0x31,
}

/** One decoded TLV. `tag` is the full identifier octet (class | constructed | number) for low tag numbers. */
export interface DerNode {
  readonly tag: number;
  readonly cls: number; // 0 universal, 1 application, 2 context, 3 private
  readonly constructed: boolean;
  readonly number: number;
  /** The complete encoding (identifier, length and contents). */
  readonly raw: Uint8Array;
  /** The contents octets. */
  readonly value: Uint8Array;
  /** Offset of `raw` within the top-level input. */
  readonly offset: number;
}

const ERR = 'ERR_DER_MALFORMED';

function fail(msg: string, offset: number): never {
  throw new ParseError(ERR, `DER: ${msg} at offset ${offset}`, { offset });
}

function readNode(buf: Uint8Array, at: number, base: number): DerNode {
  let p = at;
  if (p >= buf.length) fail('missing identifier', base + p);
  const id = buf[p++]!;
  let number = id & 0x1f;
  if (number === 0x1f) {
    number = 0;
    let b: number;
    let n = 0;
    do {
      if (p >= buf.length) fail('truncated tag', base + p);
      b = buf[p++]!;
      if (n === 0 && b === 0x80) fail('non-minimal tag', base + p);
      number = number * 128 + (b & 0x7f);
      if (++n > 4) fail('tag number too large', base + p);
    } while (b & 0x80);
    if (number < 0x1f) fail('non-minimal tag', base + p);
  }
  if (p >= buf.length) fail('missing length', base + p);
  let len = buf[p++]!;
  if (len === 0x80) fail('indefinite length', base + p);
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4) fail('length too large', base + p);
    if (p + n > buf.length) fail('truncated length', base + p);
    if (buf[p] === 0) fail('non-minimal length', base + p);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
    if (len < 0x80) fail('non-minimal length', base + p);
  }
  if (len > buf.length - p) fail(`length ${len} past end`, base + p);
  return {
    tag: id,
    cls: id >> 6,
    constructed: (id & 0x20) !== 0,
    number,
    raw: buf.subarray(at, p + len),
    value: buf.subarray(p, p + len),
    offset: base + at,
  };
}

/** Decodes exactly one element; trailing bytes are an error. */
export function decodeDer(bytes: Uint8Array): DerNode {
  const node = readNode(bytes, 0, 0);
  if (node.raw.length !== bytes.length) fail('trailing bytes after element', node.raw.length);
  return node;
}

/** The elements inside a constructed node, in order. */
export function children(node: DerNode): DerNode[] {
  if (!node.constructed) fail('expected a constructed element', node.offset);
  const out: DerNode[] = [];
  const base = node.offset + (node.raw.length - node.value.length);
  for (let p = 0; p < node.value.length; ) {
    const c = readNode(node.value, p, base);
    out.push(c);
    p += c.raw.length;
  }
  return out;
}

/** Asserts a node's identifier octet. */
export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node) throw new ParseError(ERR, `DER: missing ${what}`);
  if (node.tag !== tag) fail(`${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`, node.offset);
  return node;
}

/** Children of a SEQUENCE (or the given constructed tag), checked. */
export function sequence(node: DerNode | undefined, what: string, tag: number = Tag.Sequence): DerNode[] {
  return children(expectTag(node, tag, what));
}

export function readOid(node: DerNode | undefined, what = 'OBJECT IDENTIFIER'): string {
  const v = expectTag(node, Tag.Oid, what).value;
  if (v.length === 0 || v[v.length - 1]! & 0x80) fail(`${what}: malformed`, node!.offset);
  const arcs: number[] = [];
  let acc = 0;
  for (let i = 0; i < v.length; i++) {
    if (acc === 0 && v[i] === 0x80) fail(`${what}: non-minimal arc`, node!.offset);
    acc = acc * 128 + (v[i]! & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 128) fail(`${what}: arc too large`, node!.offset);
    if (!(v[i]! & 0x80)) {
      if (arcs.length === 0) {
        const first = acc < 40 ? 0 : acc < 80 ? 1 : 2;
        arcs.push(first, acc - first * 40);
      } else arcs.push(acc);
      acc = 0;
    }
  }
  return arcs.join('.');
}

/** INTEGER contents as unsigned big-endian magnitude bytes (leading sign byte removed). Rejects negatives. */
export function readUnsigned(node: DerNode | undefined, what = 'INTEGER'): Uint8Array {
  const v = expectTag(node, Tag.Integer, what).value;
  if (v.length === 0) fail(`${what}: empty`, node!.offset);
  if (v.length > 1 && ((v[0] === 0 && !(v[1]! & 0x80)) || (v[0] === 0xff && v[1]! & 0x80))) {
    fail(`${what}: non-minimal`, node!.offset);
  }
  if (v[0]! & 0x80) fail(`${what}: negative`, node!.offset);
  return v[0] === 0 && v.length > 1 ? v.subarray(1) : v;
}

/** A small non-negative INTEGER or ENUMERATED as a number. */
export function readSmallInt(node: DerNode | undefined, what = 'INTEGER', tag: number = Tag.Integer): number {
  const n = expectTag(node, tag, what);
  const m = readUnsigned({ ...n, tag: Tag.Integer }, what);
  if (m.length > 6) fail(`${what}: too large`, n.offset);
  let x = 0;
  for (const b of m) x = x * 256 + b;
  return x;
}

export function readBoolean(node: DerNode | undefined, what = 'BOOLEAN'): boolean {
  const v = expectTag(node, Tag.Boolean, what).value;
  if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) fail(`${what}: not DER`, node!.offset);
  return v[0] === 0xff;
}

/** BIT STRING contents with no unused bits (keys and signatures). */
export function readBitStringBytes(node: DerNode | undefined, what = 'BIT STRING'): Uint8Array {
  const v = expectTag(node, Tag.BitString, what).value;
  if (v.length === 0 || v[0] !== 0) fail(`${what}: unused bits not allowed here`, node!.offset);
  return v.subarray(1);
}

/** BIT STRING as a bit array, bit 0 first (KeyUsage, ReasonFlags). */
export function readBitFlags(node: DerNode | undefined, what = 'BIT STRING'): boolean[] {
  const v = expectTag(node, Tag.BitString, what).value;
  if (v.length === 0 || v[0]! > 7 || (v.length === 1 && v[0] !== 0)) fail(`${what}: malformed`, node!.offset);
  const bits: boolean[] = [];
  const total = (v.length - 1) * 8 - v[0]!;
  for (let i = 0; i < total; i++) bits.push((v[1 + (i >> 3)]! & (0x80 >> (i & 7))) !== 0);
  return bits;
}

export function readOctets(node: DerNode | undefined, what = 'OCTET STRING'): Uint8Array {
  return expectTag(node, Tag.OctetString, what).value;
}

/** Any of the X.520 string types, as text. */
export function readString(node: DerNode | undefined, what = 'string'): string {
  if (!node) throw new ParseError(ERR, `DER: missing ${what}`);
  switch (node.tag) {
    case Tag.Utf8String:
      return fromUtf8(node.value, ERR);
    case Tag.PrintableString:
    case Tag.Ia5String:
    case Tag.T61String:
      for (const b of node.value) if (b > 0x7e) fail(`${what}: non-ASCII byte`, node.offset);
      return String.fromCharCode(...node.value);
    case Tag.BmpString: {
      if (node.value.length % 2) fail(`${what}: odd BMPString`, node.offset);
      let s = '';
      for (let i = 0; i < node.value.length; i += 2) s += String.fromCharCode((node.value[i]! << 8) | node.value[i + 1]!);
      return s;
    }
    default:
      return fail(`${what}: not a string (tag 0x${node.tag.toString(16)})`, node.offset);
  }
}

/** UTCTime (RFC 5280 §4.1.2.5.1: YYMMDDHHMMSSZ, 1950–2049) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
export function readTime(node: DerNode | undefined, what = 'Time'): Date {
  if (!node) throw new ParseError(ERR, `DER: missing ${what}`);
  const s = String.fromCharCode(...node.value);
  let m: RegExpMatchArray | null;
  let year: number;
  if (node.tag === Tag.UtcTime && (m = s.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/))) {
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (node.tag === Tag.GeneralizedTime && (m = s.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/))) {
    year = Number(m[1]);
  } else {
    return fail(`${what}: not a DER time`, node.offset);
  }
  const [mo, d, h, mi, se] = [2, 3, 4, 5, 6].map((i) => Number(m![i]));
  const t = Date.UTC(year, mo! - 1, d!, h!, mi!, se!);
  const back = new Date(t);
  if (back.getUTCMonth() !== mo! - 1 || back.getUTCDate() !== d! || h! > 23 || mi! > 59 || se! > 59) {
    fail(`${what}: invalid date`, node.offset);
  }
  return back;
}

export function oidHex(node: DerNode): string {
  return toHex(node.raw);
}

// ---------------------------------------------------------------------------------------------------------
// Encoding. Used to build OCSP requests and, in `@ccinfer/verifier/testing`, to mint certificates.

function encLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function tlv(tag: number, value: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(tag), encLength(value.length), value);
}

export const der = {
  seq: (...items: Uint8Array[]): Uint8Array => tlv(Tag.Sequence, concat(...items)),
  set: (...items: Uint8Array[]): Uint8Array => tlv(Tag.Set, concat(...items)),
  /** Context-specific tag `[n]`, constructed (explicit) unless `primitive`. */
  ctx: (n: number, value: Uint8Array, primitive = false): Uint8Array => tlv((primitive ? 0x80 : 0xa0) | n, value),
  null: (): Uint8Array => Uint8Array.of(Tag.Null, 0),
  bool: (b: boolean): Uint8Array => Uint8Array.of(Tag.Boolean, 1, b ? 0xff : 0),
  /** Unsigned INTEGER from big-endian magnitude bytes or a non-negative number/bigint. */
  int: (v: number | bigint | Uint8Array): Uint8Array => {
    let m: Uint8Array;
    if (v instanceof Uint8Array) m = v;
    else {
      let x = BigInt(v);
      const bytes: number[] = [];
      do {
        bytes.unshift(Number(x & 0xffn));
        x >>= 8n;
      } while (x > 0n);
      m = Uint8Array.from(bytes);
    }
    let i = 0;
    while (i < m.length - 1 && m[i] === 0) i++;
    m = m.subarray(i);
    if (m.length === 0) m = Uint8Array.of(0);
    return tlv(Tag.Integer, m[0]! & 0x80 ? concat(Uint8Array.of(0), m) : m);
  },
  enumerated: (n: number): Uint8Array => {
    const i = der.int(n);
    i[0] = Tag.Enumerated;
    return i;
  },
  oid: (dotted: string): Uint8Array => {
    const arcs = dotted.split('.').map(Number);
    const out: number[] = [];
    const push = (x: number): void => {
      const b: number[] = [x & 0x7f];
      for (x = Math.floor(x / 128); x > 0; x = Math.floor(x / 128)) b.unshift(0x80 | (x & 0x7f));
      out.push(...b);
    };
    push(arcs[0]! * 40 + arcs[1]!);
    for (const a of arcs.slice(2)) push(a);
    return tlv(Tag.Oid, Uint8Array.from(out));
  },
  octets: (v: Uint8Array): Uint8Array => tlv(Tag.OctetString, v),
  bits: (v: Uint8Array, unused = 0): Uint8Array => tlv(Tag.BitString, concat(Uint8Array.of(unused), v)),
  utf8: (s: string): Uint8Array => tlv(Tag.Utf8String, utf8(s)),
  printable: (s: string): Uint8Array => tlv(Tag.PrintableString, utf8(s)),
  ia5: (s: string): Uint8Array => tlv(Tag.Ia5String, utf8(s)),
  utcTime: (d: Date): Uint8Array => tlv(Tag.UtcTime, utf8(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z')),
  generalizedTime: (d: Date): Uint8Array =>
    tlv(Tag.GeneralizedTime, utf8(d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z')),
  /** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after. */
  time: (d: Date): Uint8Array => (d.getUTCFullYear() < 2050 ? der.utcTime(d) : der.generalizedTime(d)),
};
