/**
 * Binary HTTP messages (RFC 9292): known-length (framing 0 request, 1 response) and indeterminate-length
 * (2 request, 3 response). Both also decode incrementally ({@link BhttpRequestDecoder},
 * {@link BhttpResponseDecoder}) so streamed content flows as it arrives, in either direction.
 *
 * Truncation (RFC 9292 §3.8): a message may end at the start of a section after the control data, and the
 * missing sections are empty; it may not end inside one. Padding (§3.8) must be zero bytes.
 */
import { concat, fromUtf8, utf8 } from '../bytes.js';
import { sessionError } from './errors.js';
import { encodeVarint, readVarint, varintLength, writeVarint } from './varint.js';

export type Fields = [name: string, value: string][];

/**
 * Fields that describe one hop, not the end-to-end message (RFC 9110 §7.6.1 connection-specific fields, plus
 * `host` and `content-length`, which Binary HTTP carries as control data and framing, RFC 9292 §3.5–3.6). They
 * are dropped whenever a message crosses between an outer HTTP hop and an encapsulated one, in either
 * direction: the client's, the gateway's and the proxy's copies of a message must agree on this one set.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length']);

export interface BhttpRequest {
  method: string;
  scheme: string;
  authority: string;
  path: string;
  headers: Fields;
  content: Uint8Array;
  trailers: Fields;
}

export interface BhttpResponse {
  informational: { status: number; headers: Fields }[];
  status: number;
  headers: Fields;
  content: Uint8Array;
  trailers: Fields;
}

export const BHTTP_LIMITS = { fieldSection: 64 * 1024, controlData: 16 * 1024 } as const;

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const FIELD_VALUE = /^[^\0\r\n]*$/;
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const EMPTY = new Uint8Array(0);

// ————— encoding —————

function lenPrefixed(b: Uint8Array): Uint8Array {
  return concat(encodeVarint(b.length), b);
}

function fieldLines(fields: Fields): Uint8Array {
  return concat(
    ...fields.map(([n, v]) => {
      const name = n.toLowerCase();
      if (!TCHAR.test(name)) throw sessionError('ERR_BHTTP_FIELD', `field name "${n}" is not a token`);
      if (!FIELD_VALUE.test(v)) throw sessionError('ERR_BHTTP_FIELD', `field ${name} has CR, LF or NUL in its value`);
      return concat(lenPrefixed(utf8(name)), lenPrefixed(utf8(v)));
    }),
  );
}

const knownFields = (f: Fields): Uint8Array => lenPrefixed(fieldLines(f));
const indeterminateFields = (f: Fields): Uint8Array => concat(fieldLines(f), new Uint8Array([0]));

function controlData(r: BhttpRequestHead): Uint8Array {
  if (!METHOD.test(r.method)) throw sessionError('ERR_BHTTP_FIELD', `method "${r.method}" is not a token`);
  return concat(...[r.method, r.scheme, r.authority, r.path].map((s) => lenPrefixed(utf8(s))));
}

/**
 * Start of a streamed (indeterminate-length, framing 2) request: framing, control data and header fields. The
 * content follows as {@link encodeContentChunk}s, closed by {@link encodeMessageEnd} (RFC 9292 §3.2).
 */
export function encodeRequestHead(r: BhttpRequestHead): Uint8Array {
  return concat(encodeVarint(2), controlData(r), indeterminateFields(r.headers));
}

export function encodeRequest(r: BhttpRequest, opts: { indeterminate?: boolean } = {}): Uint8Array {
  if (opts.indeterminate) {
    const content = r.content.length > 0 ? encodeContentChunk(r.content) : EMPTY;
    return concat(encodeVarint(2), controlData(r), indeterminateFields(r.headers), content, new Uint8Array([0]), indeterminateFields(r.trailers));
  }
  return concat(encodeVarint(0), controlData(r), knownFields(r.headers), lenPrefixed(r.content), knownFields(r.trailers));
}

function status(s: number, informational: boolean): Uint8Array {
  const ok = informational ? s >= 100 && s <= 199 : s >= 200 && s <= 599;
  if (!Number.isInteger(s) || !ok) throw sessionError('ERR_BHTTP_STATUS', `status ${s} is not a valid ${informational ? 'informational' : 'final'} status`);
  return encodeVarint(s);
}

export function encodeResponse(r: BhttpResponse, opts: { indeterminate?: boolean } = {}): Uint8Array {
  if (opts.indeterminate) {
    return concat(
      encodeVarint(3),
      ...r.informational.map((i) => concat(status(i.status, true), indeterminateFields(i.headers))),
      encodeResponseHead(r.status, r.headers).subarray(1),
      r.content.length > 0 ? encodeContentChunk(r.content) : EMPTY,
      encodeResponseEnd(r.trailers),
    );
  }
  return concat(
    encodeVarint(1),
    ...r.informational.map((i) => concat(status(i.status, true), knownFields(i.headers))),
    status(r.status, false),
    knownFields(r.headers),
    lenPrefixed(r.content),
    knownFields(r.trailers),
  );
}

/** Start of a streamed (indeterminate-length, framing 3) response: framing, status and header fields. */
export function encodeResponseHead(s: number, headers: Fields): Uint8Array {
  return concat(encodeVarint(3), status(s, false), indeterminateFields(headers));
}

/** One Indeterinate-Length Content Chunk (length ≥ 1). */
export function encodeContentChunk(data: Uint8Array): Uint8Array {
  if (data.length === 0) throw sessionError('ERR_BHTTP_FRAMING', 'a content chunk must not be empty');
  const n = varintLength(data.length);
  const out = new Uint8Array(n + data.length);
  writeVarint(out, 0, data.length, n);
  out.set(data, n);
  return out;
}

/** Content terminator and trailer section that close a streamed (indeterminate-length) request or response. */
export function encodeMessageEnd(trailers: Fields = []): Uint8Array {
  return concat(new Uint8Array([0]), indeterminateFields(trailers));
}

/** {@link encodeMessageEnd}: a response closes the same way as a request (RFC 9292 §3.2). */
export const encodeResponseEnd = encodeMessageEnd;

// ————— decoding —————

/** Thrown internally when a complete element is not yet in the buffer. */
const NEED_MORE = Symbol('need more');

class Cursor {
  constructor(
    readonly buf: Uint8Array,
    public at = 0,
  ) {}
  get atEnd(): boolean {
    return this.at >= this.buf.length;
  }
  varint(): number {
    const v = readVarint(this.buf, this.at, 'ERR_BHTTP_FRAMING');
    if (!v) throw NEED_MORE;
    this.at = v.next;
    return v.value;
  }
  bytes(n: number): Uint8Array {
    if (n > this.buf.length - this.at) throw NEED_MORE;
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  text(max: number, what: string): string {
    const n = this.varint();
    if (n > max) throw sessionError('ERR_BHTTP_TOO_LARGE', `${what} longer than ${max}`);
    return fromUtf8(this.bytes(n), 'ERR_BHTTP_FIELD');
  }
}

function fieldLine(c: Cursor): [string, string] {
  const name = c.text(BHTTP_LIMITS.fieldSection, 'field name');
  const value = c.text(BHTTP_LIMITS.fieldSection, 'field value');
  if (!TCHAR.test(name)) throw sessionError('ERR_BHTTP_FIELD', `field name "${name}" is not a lowercase token`);
  if (!FIELD_VALUE.test(value)) throw sessionError('ERR_BHTTP_FIELD', `field ${name} has CR, LF or NUL in its value`);
  return [name, value];
}

function knownFieldSection(c: Cursor): Fields {
  const n = c.varint();
  if (n > BHTTP_LIMITS.fieldSection) throw sessionError('ERR_BHTTP_TOO_LARGE', `field section of ${n} bytes`);
  const inner = new Cursor(c.bytes(n));
  const out: Fields = [];
  try {
    while (!inner.atEnd) out.push(fieldLine(inner));
  } catch (e) {
    if (e === NEED_MORE) throw sessionError('ERR_BHTTP_FIELD', 'field line runs past its section');
    throw e;
  }
  return out;
}

function indeterminateFieldSection(c: Cursor): Fields {
  const start = c.at;
  const out: Fields = [];
  for (;;) {
    if (c.at - start > BHTTP_LIMITS.fieldSection) throw sessionError('ERR_BHTTP_TOO_LARGE', 'field section too large');
    const v = readVarint(c.buf, c.at, 'ERR_BHTTP_FRAMING');
    if (!v) throw NEED_MORE;
    if (v.value === 0) {
      c.at = v.next;
      return out;
    }
    out.push(fieldLine(c));
  }
}

function checkPadding(rest: Uint8Array): void {
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] !== 0) throw sessionError('ERR_BHTTP_PADDING', 'padding is not all zero bytes');
  }
}

/** Runs `f`, mapping "ran out of bytes" to truncation (whole-message decoding). */
function whole<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e === NEED_MORE) throw sessionError('ERR_BHTTP_TRUNCATED', 'the message ends inside a section');
    throw e;
  }
}

export function decodeRequest(bytes: Uint8Array): BhttpRequest {
  return whole(() => {
    const c = new Cursor(bytes);
    const framing = c.varint();
    if (framing !== 0 && framing !== 2) throw sessionError('ERR_BHTTP_FRAMING', `framing indicator ${framing} is not a request`);
    const known = framing === 0;
    const req: BhttpRequest = { ...controlDataOf(c), headers: [], content: EMPTY, trailers: [] };
    // §3.8: sections after the control data may be truncated away entirely.
    if (c.atEnd) return req;
    req.headers = known ? knownFieldSection(c) : indeterminateFieldSection(c);
    if (c.atEnd) return req;
    if (known) {
      req.content = c.bytes(c.varint()).slice();
    } else {
      const parts: Uint8Array[] = [];
      for (let n = c.varint(); n !== 0; n = c.varint()) parts.push(c.bytes(n));
      req.content = concat(...parts);
    }
    if (c.atEnd) return req;
    req.trailers = known ? knownFieldSection(c) : indeterminateFieldSection(c);
    checkPadding(c.buf.subarray(c.at));
    return req;
  });
}

export type BhttpResponseEvent =
  | { type: 'informational'; status: number; headers: Fields }
  | { type: 'head'; status: number; headers: Fields }
  | { type: 'data'; data: Uint8Array }
  | { type: 'end'; trailers: Fields };

/** The request line and header fields of a streamed request: everything but content and trailers. */
export type BhttpRequestHead = Omit<BhttpRequest, 'content' | 'trailers'>;

export type BhttpRequestEvent = ({ type: 'head' } & BhttpRequestHead) | { type: 'data'; data: Uint8Array } | { type: 'end'; trailers: Fields };

type State = 'framing' | 'head' | 'headers' | 'content' | 'contentBody' | 'trailers' | 'padding';

/**
 * The part of incremental decoding that requests and responses share (RFC 9292 §3.5–3.8): buffering, content
 * (known- and indeterminate-length), trailers and padding. Subclasses decode what precedes the content — control
 * data and fields — in `head`. Content is emitted as soon as it arrives (partial chunks included), so a streamed
 * body never accumulates here; only an element not yet complete (a varint, a field section) is buffered.
 */
abstract class BhttpStreamDecoder<E extends { type: string }> {
  private buf: Uint8Array = EMPTY;
  protected state: State = 'framing';
  protected known = true;
  private remaining = 0;
  private ended = false;

  /** Returns the events completed by the new bytes. */
  push(bytes: Uint8Array): (E | ContentEvent)[] {
    this.buf = this.buf.length === 0 ? bytes : concat(this.buf, bytes);
    const out: (E | ContentEvent)[] = [];
    const c = new Cursor(this.buf);
    try {
      for (;;) {
        const mark = c.at;
        try {
          if (!this.step(c, out)) break;
        } catch (e) {
          if (e === NEED_MORE) {
            c.at = mark;
            break;
          }
          throw e;
        }
      }
    } finally {
      this.buf = c.at === 0 ? this.buf : this.buf.slice(c.at);
    }
    return out;
  }

  /** Reads the framing indicator; true for known-length framing. */
  protected abstract framing(f: number): boolean;
  /** Decodes one element before the content; false when the head is not complete yet. */
  protected abstract head(c: Cursor, out: (E | ContentEvent)[]): void;
  /** The events for a message that ends (as §3.8 permits) before its content. */
  protected abstract truncatedHead(): (E | ContentEvent)[];

  /** One element; false when nothing more can be done with the buffered bytes. */
  private step(c: Cursor, out: (E | ContentEvent)[]): boolean {
    if (c.atEnd && this.state !== 'padding') return false;
    switch (this.state) {
      case 'framing':
        this.known = this.framing(c.varint());
        this.state = 'head';
        return true;
      case 'head':
      case 'headers':
        this.head(c, out);
        return true;
      case 'content': {
        const n = c.varint();
        if (n === 0) this.state = 'trailers';
        else {
          this.remaining = n;
          this.state = 'contentBody';
        }
        return true;
      }
      case 'contentBody': {
        const take = Math.min(this.remaining, c.buf.length - c.at);
        out.push({ type: 'data', data: c.bytes(take).slice() });
        this.remaining -= take;
        if (this.remaining === 0) this.state = this.known ? 'trailers' : 'content';
        return true;
      }
      case 'trailers': {
        const trailers = this.known ? knownFieldSection(c) : indeterminateFieldSection(c);
        out.push({ type: 'end', trailers });
        this.ended = true;
        this.state = 'padding';
        return true;
      }
      case 'padding':
        checkPadding(c.bytes(c.buf.length - c.at));
        return false;
    }
  }

  /** The message ends here: checks it ended at a permitted point (§3.8) and returns the closing events. */
  finish(): (E | ContentEvent)[] {
    if (this.buf.length > 0 && this.state !== 'padding') throw sessionError('ERR_BHTTP_TRUNCATED', 'the message ends inside a section');
    switch (this.state) {
      case 'framing':
      case 'head':
      case 'headers':
        return this.truncatedHead();
      case 'content':
        // §3.8 allows a known-length message to end here; an indeterminate one must carry its terminator.
        if (!this.known) throw sessionError('ERR_BHTTP_TRUNCATED', 'the content ends without its terminator');
        return [{ type: 'end', trailers: [] }];
      case 'contentBody':
        throw sessionError('ERR_BHTTP_TRUNCATED', 'the message ends inside its content');
      case 'trailers':
        return [{ type: 'end', trailers: [] }];
      case 'padding':
        return this.ended ? [] : [{ type: 'end', trailers: [] }];
    }
  }
}

type ContentEvent = { type: 'data'; data: Uint8Array } | { type: 'end'; trailers: Fields };

/**
 * Incremental response decoder. `push` returns the events completed by the new bytes; content is emitted as
 * soon as it arrives (partial chunks included). `finish` checks the message ended at a permitted point and
 * returns the closing events.
 */
export class BhttpResponseDecoder extends BhttpStreamDecoder<BhttpResponseEvent> {
  private status = 0;

  protected framing(f: number): boolean {
    if (f !== 1 && f !== 3) throw sessionError('ERR_BHTTP_FRAMING', `framing indicator ${f} is not a response`);
    return f === 1;
  }

  protected head(c: Cursor, out: BhttpResponseEvent[]): void {
    if (this.state === 'head') {
      const s = c.varint();
      if (s < 100 || s > 599) throw sessionError('ERR_BHTTP_STATUS', `status ${s} out of range`);
      this.status = s;
      this.state = 'headers';
      return;
    }
    const headers = this.known ? knownFieldSection(c) : indeterminateFieldSection(c);
    // Informational responses (1xx) precede the final one, each with its own fields (§3.5.1).
    out.push(this.status < 200 ? { type: 'informational', status: this.status, headers } : { type: 'head', status: this.status, headers });
    this.state = this.status < 200 ? 'head' : 'content';
  }

  protected truncatedHead(): BhttpResponseEvent[] {
    if (this.state !== 'headers') throw sessionError('ERR_BHTTP_TRUNCATED', 'the response ends before its final status');
    return [
      { type: 'head', status: this.status, headers: [] },
      { type: 'end', trailers: [] },
    ];
  }
}

/**
 * Incremental request decoder (the gateway's side of a streamed request): a `head` event with the control data
 * and header fields, then `data` events as content arrives, then `end`. Field sections and control data are
 * bounded by {@link BHTTP_LIMITS}; the content is not (the caller bounds the whole message).
 */
export class BhttpRequestDecoder extends BhttpStreamDecoder<BhttpRequestEvent> {
  private control: Omit<BhttpRequestHead, 'headers'> | undefined;

  protected framing(f: number): boolean {
    if (f !== 0 && f !== 2) throw sessionError('ERR_BHTTP_FRAMING', `framing indicator ${f} is not a request`);
    return f === 0;
  }

  protected head(c: Cursor, out: BhttpRequestEvent[]): void {
    if (this.state === 'head') {
      this.control = controlDataOf(c);
      this.state = 'headers';
      return;
    }
    const headers = this.known ? knownFieldSection(c) : indeterminateFieldSection(c);
    out.push({ type: 'head', ...this.control!, headers });
    this.state = 'content';
  }

  protected truncatedHead(): BhttpRequestEvent[] {
    // §3.8: a request may end after its control data; its fields, content and trailers are then empty.
    if (this.state !== 'headers') throw sessionError('ERR_BHTTP_TRUNCATED', 'the request ends before its control data');
    return [
      { type: 'head', ...this.control!, headers: [] },
      { type: 'end', trailers: [] },
    ];
  }
}

/** Request control data (§3.4): method, scheme, authority, path, each length-prefixed. */
function controlDataOf(c: Cursor): Omit<BhttpRequestHead, 'headers'> {
  const max = BHTTP_LIMITS.controlData;
  const method = c.text(max, 'method');
  const scheme = c.text(max, 'scheme');
  const authority = c.text(max, 'authority');
  const path = c.text(max, 'path');
  if (!METHOD.test(method)) throw sessionError('ERR_BHTTP_FIELD', `method "${method}" is not a token`);
  return { method, scheme, authority, path };
}

export function decodeResponse(bytes: Uint8Array): BhttpResponse {
  const d = new BhttpResponseDecoder();
  const events = [...d.push(bytes), ...d.finish()];
  const res: BhttpResponse = { informational: [], status: 0, headers: [], content: EMPTY, trailers: [] };
  const parts: Uint8Array[] = [];
  for (const e of events) {
    if (e.type === 'informational') res.informational.push({ status: e.status, headers: e.headers });
    else if (e.type === 'head') {
      res.status = e.status;
      res.headers = e.headers;
    } else if (e.type === 'data') parts.push(e.data);
    else res.trailers = e.trailers;
  }
  res.content = concat(...parts);
  return res;
}
