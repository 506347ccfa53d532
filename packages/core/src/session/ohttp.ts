/**
 * Oblivious HTTP message encapsulation: RFC 9458 §4 (one sealed request, one sealed response) and chunked
 * OHTTP, draft-ietf-ohai-chunked-ohttp-08 §3–6 (a header, then varint-length-prefixed sealed chunks, the final
 * chunk announced by a zero length and sealed with the AAD "final").
 *
 * What the chunk AEADs protect (draft §6): order (request: the HPKE sequence number; response: a counter
 * XORed into the nonce) and finality (the "final" AAD). So a dropped, reordered, replayed or altered chunk
 * fails to open, and a stream that ends without a final chunk is `ERR_OHTTP_TRUNCATED` — never a silently
 * short message.
 */
import { concat, utf8 } from '../bytes.js';
import { randomBytes } from '../crypto.js';
import { CcinferError } from '../errors.js';
import { webCryptoSessionCrypto, type AeadKeyHandle, type SessionCrypto } from './backend.js';
import { sessionError } from './errors.js';
import {
  aeadSizes,
  counterNonce,
  hmacOf,
  isSupported,
  setupBaseR,
  setupBaseS,
  SUPPORTED_ALGORITHMS,
  type GatewayKey,
  type HpkeContext,
  type RawKeyPair,
} from './hpke.js';
import { selectAlgorithm, type KeyConfig, type SymmetricAlgorithm } from './keyconfig.js';
import { hkdfExpand, hkdfExtract } from './hkdf.js';
import { readVarint, varintLength, writeVarint } from './varint.js';

export const MEDIA_TYPE_REQUEST = 'message/ohttp-req';
export const MEDIA_TYPE_RESPONSE = 'message/ohttp-res';
export const MEDIA_TYPE_CHUNKED_REQUEST = 'message/ohttp-chunked-req';
export const MEDIA_TYPE_CHUNKED_RESPONSE = 'message/ohttp-chunked-res';

const LABEL_REQUEST = 'message/bhttp request';
const LABEL_RESPONSE = 'message/bhttp response';
const LABEL_CHUNKED_REQUEST = 'message/bhttp chunked request';
const LABEL_CHUNKED_RESPONSE = 'message/bhttp chunked response';
const FINAL = utf8('final');
const EMPTY = new Uint8Array(0);
const KEY = utf8('key');
const NONCE = utf8('nonce');

/**
 * Chunk plaintext size senders use (draft §3: receivers must accept 2^14; senders should not exceed it). A
 * larger size would cut per-chunk overhead but is not ours to choose: a conforming receiver may refuse it.
 */
export const CHUNK_SIZE = 16384;
/** Largest sealed chunk we accept by default (RFC 9458 permits more; bounded so a peer cannot make us buffer). */
export const MAX_SEALED_CHUNK = 1024 * 1024;
const HEADER_LENGTH = 7;
const NENC = 32; // X25519

// ————— shared pieces —————

/** hdr = key_id (8) || kem_id (16) || kdf_id (16) || aead_id (16) — RFC 9458 §4.3. */
function encodeHeader(keyId: number, kemId: number, alg: SymmetricAlgorithm): Uint8Array {
  return new Uint8Array([keyId, kemId >> 8, kemId & 0xff, alg.kdfId >> 8, alg.kdfId & 0xff, alg.aeadId >> 8, alg.aeadId & 0xff]);
}

function info(label: string, hdr: Uint8Array): Uint8Array {
  return concat(utf8(label), new Uint8Array([0]), hdr);
}

function wrap(err: unknown, code: 'ERR_OHTTP_DECRYPT' | 'ERR_OHTTP_ENCAPSULATION', message: string): CcinferError {
  return err instanceof CcinferError ? err : sessionError(code, message, { cause: err });
}

interface ResponseKey {
  crypto: SessionCrypto;
  /** Imported once per response, never per chunk. */
  key: AeadKeyHandle;
  nonce: Uint8Array;
}

/**
 * RFC 9458 §4.4 (and draft §5.2 with its own label):
 *   secret = context.Export(label, max(Nn, Nk)); salt = enc || response_nonce
 *   prk = Extract(salt, secret); aead_key = Expand(prk, "key", Nk); aead_nonce = Expand(prk, "nonce", Nn)
 * HKDF runs synchronously (hkdf.ts on @noble/hashes, or the backend's HMAC); the AEAD key is imported once.
 */
async function deriveResponseKey(
  crypto: SessionCrypto,
  ctx: HpkeContext,
  label: string,
  aeadId: number,
  enc: Uint8Array,
  responseNonce: Uint8Array,
): Promise<ResponseKey> {
  const { nk, nn } = aeadSizes(aeadId);
  const h = hmacOf(crypto);
  const secret = ctx.export(utf8(label), Math.max(nn, nk));
  const prk = hkdfExtract(concat(enc, responseNonce), secret, h);
  return { crypto, key: await crypto.aeadKey(hkdfExpand(prk, KEY, nk, h)), nonce: hkdfExpand(prk, NONCE, nn, h) };
}

/** chunk_nonce = aead_nonce XOR encode(Nn, counter) (draft §5.2); counter 0 is RFC 9458's single response. */
async function aeadSeal(k: ResponseKey, counter: number, aad: Uint8Array, pt: Uint8Array): Promise<Uint8Array> {
  return k.crypto.seal(k.key, counterNonce(k.nonce, counter), aad, pt);
}

async function aeadOpen(k: ResponseKey, counter: number, aad: Uint8Array, ct: Uint8Array): Promise<Uint8Array> {
  try {
    return await k.crypto.open(k.key, counterNonce(k.nonce, counter), aad, ct);
  } catch (cause) {
    throw sessionError('ERR_OHTTP_DECRYPT', `response chunk ${counter} does not open`, { cause });
  }
}

/** varint(len(sealed)) || sealed, or 0 || sealed for the final chunk. */
function frame(sealed: Uint8Array, final: boolean): Uint8Array {
  if (final) return concat(new Uint8Array([0]), sealed);
  const n = varintLength(sealed.length);
  const out = new Uint8Array(n + sealed.length);
  writeVarint(out, 0, sealed.length, n);
  out.set(sealed, n);
  return out;
}

/**
 * Splits a chunked stream into sealed chunks as bytes arrive. A non-final chunk is complete when its length
 * has arrived; the final chunk (length 0) runs to the end of the stream, so it is only complete at `finish()`.
 */
class ChunkFramer {
  /**
   * Bytes received but not yet framed, as the pieces they arrived in: a chunk sent in many small segments is
   * copied once when it is complete, never re-concatenated per segment (which would be quadratic).
   */
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  private finalParts: Uint8Array[] | undefined;
  private finalLength = 0;

  constructor(private readonly maxChunk: number) {}

  get inFinal(): boolean {
    return this.finalParts !== undefined;
  }

  push(bytes: Uint8Array): Uint8Array[] {
    if (this.finalParts) {
      this.appendFinal(bytes);
      return [];
    }
    if (bytes.length > 0) {
      this.pending.push(bytes);
      this.pendingLength += bytes.length;
    }
    const out: Uint8Array[] = [];
    for (;;) {
      const len = readVarint(this.peek(8), 0);
      if (!len) break;
      if (len.value === 0) {
        this.take(len.next);
        this.finalParts = [];
        const rest = this.take(this.pendingLength);
        this.appendFinal(rest);
        return out;
      }
      if (len.value > this.maxChunk) throw sessionError('ERR_OHTTP_CHUNK_TOO_LARGE', `chunk of ${len.value} bytes exceeds ${this.maxChunk}`);
      if (this.pendingLength < len.next + len.value) break;
      out.push(this.take(len.next + len.value).subarray(len.next));
    }
    return out;
  }

  /** Up to `n` leading pending bytes (a small copy only when they span pieces). */
  private peek(n: number): Uint8Array {
    const first = this.pending[0];
    if (!first) return EMPTY;
    if (first.length >= n || this.pending.length === 1) return first.subarray(0, n);
    const out = new Uint8Array(Math.min(n, this.pendingLength));
    let o = 0;
    for (const p of this.pending) {
      const k = Math.min(p.length, out.length - o);
      out.set(p.subarray(0, k), o);
      o += k;
      if (o === out.length) break;
    }
    return out;
  }

  /** Removes and returns the first `n` pending bytes (one allocation when they span pieces). */
  private take(n: number): Uint8Array {
    const first = this.pending[0];
    if (n === 0) return EMPTY;
    if (first && first.length >= n) {
      const head = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
      this.pendingLength -= n;
      return head;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const p = this.pending[0]!;
      const k = Math.min(p.length, n - o);
      out.set(p.subarray(0, k), o);
      o += k;
      if (k === p.length) this.pending.shift();
      else this.pending[0] = p.subarray(k);
    }
    this.pendingLength -= n;
    return out;
  }

  private appendFinal(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.finalLength += bytes.length;
    if (this.finalLength > this.maxChunk) throw sessionError('ERR_OHTTP_CHUNK_TOO_LARGE', `final chunk exceeds ${this.maxChunk} bytes`);
    this.finalParts!.push(bytes.slice());
  }

  finish(): Uint8Array {
    if (!this.finalParts) throw sessionError('ERR_OHTTP_TRUNCATED', 'the stream ended before its final chunk');
    return concat(...this.finalParts);
  }
}

// ————— client side —————

export interface EncapsulateOptions {
  /** KDF/AEAD preference; the first the key config offers is used. */
  algorithms?: readonly SymmetricAlgorithm[];
  /** Fixed ephemeral key pair (raw X25519 keys): for reproducing published examples only. */
  ephemeralKeyPair?: RawKeyPair;
  /** Crypto primitives; default WebCrypto ({@link webCryptoSessionCrypto}). */
  crypto?: SessionCrypto;
}

interface Sender {
  crypto: SessionCrypto;
  ctx: HpkeContext;
  hdr: Uint8Array;
  enc: Uint8Array;
  aeadId: number;
}

async function setupSender(kc: KeyConfig, label: string, opts: EncapsulateOptions): Promise<Sender> {
  const alg = selectAlgorithm(kc, opts.algorithms ?? SUPPORTED_ALGORITHMS);
  const crypto = opts.crypto ?? webCryptoSessionCrypto;
  const hdr = encodeHeader(kc.keyId, kc.kemId, alg);
  try {
    const { enc, ctx } = await setupBaseS(crypto, { kemId: kc.kemId, ...alg }, kc.publicKey, info(label, hdr), opts.ephemeralKeyPair);
    return { crypto, ctx, hdr, enc, aeadId: alg.aeadId };
  } catch (err) {
    throw wrap(err, 'ERR_OHTTP_ENCAPSULATION', 'HPKE setup to the key config failed');
  }
}

/**
 * RFC 9458 §4.3: enc_request = hdr || enc || ct. Returns the message and a function that opens the matching
 * RFC 9458 §4.4 response.
 */
export async function encapsulateRequest(
  kc: KeyConfig,
  request: Uint8Array,
  opts: EncapsulateOptions = {},
): Promise<{ encapsulated: Uint8Array; openResponse(encResponse: Uint8Array): Promise<Uint8Array> }> {
  const s = await setupSender(kc, LABEL_REQUEST, opts);
  const ct = await s.ctx.seal(request);
  return {
    encapsulated: concat(s.hdr, s.enc, ct),
    async openResponse(encResponse: Uint8Array): Promise<Uint8Array> {
      const { nk, nn } = aeadSizes(s.aeadId);
      const entropy = Math.max(nk, nn);
      if (encResponse.length < entropy + 16) throw sessionError('ERR_OHTTP_TRUNCATED', 'encapsulated response too short');
      const k = await deriveResponseKey(s.crypto, s.ctx, LABEL_RESPONSE, s.aeadId, s.enc, encResponse.subarray(0, entropy));
      return aeadOpen(k, 0, EMPTY, encResponse.subarray(entropy));
    },
  };
}

/** The client's half of a chunked exchange (draft §4 and §5.1), and the decoder of the response (§5.2). */
export class ChunkedRequestEncoder {
  private done = false;
  private constructor(private readonly s: Sender) {}

  static async create(kc: KeyConfig, opts: EncapsulateOptions = {}): Promise<ChunkedRequestEncoder> {
    return new ChunkedRequestEncoder(await setupSender(kc, LABEL_CHUNKED_REQUEST, opts));
  }

  /** Chunked Request Header: hdr || enc. */
  header(): Uint8Array {
    return concat(this.s.hdr, this.s.enc);
  }

  /** Seals one chunk; a non-final chunk must not be empty (draft §5). */
  async seal(chunk: Uint8Array, final: boolean): Promise<Uint8Array> {
    return frame(await this.sealUnframed(chunk, final), final);
  }

  private async sealUnframed(chunk: Uint8Array, final: boolean): Promise<Uint8Array> {
    if (this.done) throw sessionError('ERR_OHTTP_STATE', 'the final chunk was already sealed');
    if (!final && chunk.length === 0) throw sessionError('ERR_OHTTP_EMPTY_CHUNK', 'a non-final chunk must not be empty');
    this.done = final;
    return this.s.ctx.seal(chunk, final ? FINAL : EMPTY);
  }

  /**
   * The whole encapsulated request for a body known in advance, split into `chunkSize` chunks: the same bytes
   * as `header()` and `seal()` chunk by chunk, written once into one buffer (no per-chunk framing copies).
   */
  async encapsulateAll(body: Uint8Array, chunkSize = CHUNK_SIZE): Promise<Uint8Array> {
    const sealed: Uint8Array[] = [];
    let at = 0;
    while (body.length - at > chunkSize) {
      sealed.push(await this.sealUnframed(body.subarray(at, at + chunkSize), false));
      at += chunkSize;
    }
    const last = await this.sealUnframed(body.subarray(at), true);
    let total = HEADER_LENGTH + this.s.enc.length + 1 + last.length;
    for (const c of sealed) total += varintLength(c.length) + c.length;
    const out = new Uint8Array(total);
    out.set(this.s.hdr);
    out.set(this.s.enc, HEADER_LENGTH);
    let o = HEADER_LENGTH + this.s.enc.length;
    for (const c of sealed) {
      const n = varintLength(c.length);
      writeVarint(out, o, c.length, n);
      out.set(c, o + n);
      o += n + c.length;
    }
    out[o] = 0; // the final chunk's zero length (draft §4)
    out.set(last, o + 1);
    return out;
  }

  responseDecoder(maxChunk = MAX_SEALED_CHUNK): ChunkedResponseDecoder {
    return new ChunkedResponseDecoder(this.s.crypto, this.s.ctx, this.s.enc, this.s.aeadId, maxChunk);
  }
}

export class ChunkedResponseDecoder {
  private nonceBuf: Uint8Array = EMPTY;
  private key: ResponseKey | undefined;
  private counter = 0;
  private readonly framer: ChunkFramer;
  private readonly entropy: number;
  private failed: CcinferError | undefined;

  constructor(
    private readonly crypto: SessionCrypto,
    private readonly ctx: HpkeContext,
    private readonly enc: Uint8Array,
    private readonly aeadId: number,
    maxChunk: number,
  ) {
    const { nk, nn } = aeadSizes(aeadId);
    this.entropy = Math.max(nk, nn);
    this.framer = new ChunkFramer(maxChunk);
  }

  /** Feeds received bytes; returns the plaintext of every non-final chunk completed by them, in order. */
  async push(bytes: Uint8Array): Promise<Uint8Array[]> {
    return this.guard(async () => {
      let rest = bytes;
      if (!this.key) {
        const need = this.entropy - this.nonceBuf.length;
        this.nonceBuf = concat(this.nonceBuf, rest.subarray(0, need));
        rest = rest.subarray(need);
        if (this.nonceBuf.length < this.entropy) return [];
        this.key = await deriveResponseKey(this.crypto, this.ctx, LABEL_CHUNKED_RESPONSE, this.aeadId, this.enc, this.nonceBuf);
      }
      const out: Uint8Array[] = [];
      for (const sealed of this.framer.push(rest)) {
        const pt = await aeadOpen(this.key, this.counter++, EMPTY, sealed);
        if (pt.length === 0) throw sessionError('ERR_OHTTP_EMPTY_CHUNK', 'a non-final response chunk is empty');
        out.push(pt);
      }
      return out;
    });
  }

  /** Call at end of stream: opens the final chunk, or fails if the stream stopped before it. */
  async finish(): Promise<Uint8Array> {
    return this.guard(async () => {
      if (!this.key) throw sessionError('ERR_OHTTP_TRUNCATED', 'the response ended inside its nonce');
      return aeadOpen(this.key, this.counter++, FINAL, this.framer.finish());
    });
  }

  private async guard<T>(f: () => Promise<T>): Promise<T> {
    if (this.failed) throw this.failed;
    try {
      return await f();
    } catch (err) {
      this.failed = wrap(err, 'ERR_OHTTP_DECRYPT', 'response decoding failed');
      throw this.failed;
    }
  }
}

/**
 * Reads the next piece of a chunked response body and opens the chunks it completes, in order (maybe none).
 * `done` once the body ended and its final chunk opened (its plaintext, if any, is the last of `chunks`). A
 * carrier that breaks (connection reset, abort) is `ERR_OHTTP_TRUNCATED`: the message ended before its final
 * chunk. One read and one call per piece, so a reader can decode on top of it without another stream layer.
 */
export async function readResponseChunks(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  decoder: ChunkedResponseDecoder,
): Promise<{ chunks: Uint8Array[]; done: boolean }> {
  let r: ReadableStreamReadResult<Uint8Array>;
  try {
    r = await reader.read();
  } catch (cause) {
    throw cause instanceof CcinferError ? cause : sessionError('ERR_OHTTP_TRUNCATED', 'the response stream failed before its final chunk', { cause });
  }
  if (!r.done) return { chunks: await decoder.push(r.value), done: false };
  const last = await decoder.finish();
  return { chunks: last.length > 0 ? [last] : [], done: true };
}

/**
 * Decrypts a chunked response body as it streams. The returned stream errors (with the SessionError) on any
 * bad chunk and on a body that ends before its final chunk, so a reader never mistakes a cut for an end.
 */
export function decryptResponseStream(body: ReadableStream<Uint8Array>, decoder: ChunkedResponseDecoder): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { chunks, done } = await readResponseChunks(reader, decoder);
        for (const c of chunks) controller.enqueue(c);
        if (done) return controller.close();
        if (chunks.length > 0) return;
      }
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
}

// ————— gateway side —————

/** Finds the gateway key for a key identifier; `undefined` = not ours (problem type key-config-mismatch). */
export type KeyLookup = (keyId: number) => GatewayKey | undefined;

interface Receiver {
  crypto: SessionCrypto;
  ctx: HpkeContext;
  enc: Uint8Array;
  aeadId: number;
}

export interface DecapsulateOptions {
  /** Crypto primitives; default WebCrypto ({@link webCryptoSessionCrypto}). */
  crypto?: SessionCrypto;
}

async function setupReceiver(keys: KeyLookup, header: Uint8Array, label: string, crypto: SessionCrypto): Promise<Receiver> {
  const keyId = header[0]!;
  const kemId = (header[1]! << 8) | header[2]!;
  const kdfId = (header[3]! << 8) | header[4]!;
  const aeadId = (header[5]! << 8) | header[6]!;
  const key = keys(keyId);
  if (!key) throw sessionError('ERR_OHTTP_KEY_ID', `key identifier ${keyId} is not this gateway's`);
  if (kemId !== key.config.kemId || !key.config.algorithms.some((a) => a.kdfId === kdfId && a.aeadId === aeadId) || !isSupported(kemId, kdfId, aeadId)) {
    throw sessionError('ERR_OHTTP_SUITE', 'the request names a KEM/KDF/AEAD the key config does not offer');
  }
  const enc = header.slice(HEADER_LENGTH, HEADER_LENGTH + NENC);
  try {
    const ctx = await setupBaseR(crypto, { kemId, kdfId, aeadId }, key.keyPair.privateKey, key.config.publicKey, enc, info(label, header.subarray(0, HEADER_LENGTH)));
    return { crypto, ctx, enc, aeadId };
  } catch (err) {
    throw wrap(err, 'ERR_OHTTP_ENCAPSULATION', 'HPKE decapsulation failed');
  }
}

/** RFC 9458 §4.3–4.4, gateway side: opens the request and returns a sealer for the single response. */
export async function decapsulateRequest(
  keys: KeyLookup,
  encRequest: Uint8Array,
  opts: DecapsulateOptions = {},
): Promise<{ request: Uint8Array; keyId: number; enc: Uint8Array; encapsulateResponse(response: Uint8Array, responseNonce?: Uint8Array): Promise<Uint8Array> }> {
  if (encRequest.length < HEADER_LENGTH + NENC + 16) throw sessionError('ERR_OHTTP_TRUNCATED', 'encapsulated request too short');
  const r = await setupReceiver(keys, encRequest.subarray(0, HEADER_LENGTH + NENC), LABEL_REQUEST, opts.crypto ?? webCryptoSessionCrypto);
  let request: Uint8Array;
  try {
    request = await r.ctx.open(encRequest.subarray(HEADER_LENGTH + NENC));
  } catch (err) {
    throw wrap(err, 'ERR_OHTTP_DECRYPT', 'the request does not open');
  }
  return {
    request,
    keyId: encRequest[0]!,
    enc: r.enc,
    async encapsulateResponse(response: Uint8Array, responseNonce?: Uint8Array): Promise<Uint8Array> {
      const { nk, nn } = aeadSizes(r.aeadId);
      const nonce = responseNonce ?? randomBytes(Math.max(nk, nn));
      const k = await deriveResponseKey(r.crypto, r.ctx, LABEL_RESPONSE, r.aeadId, r.enc, nonce);
      return concat(nonce, await aeadSeal(k, 0, EMPTY, response));
    },
  };
}

/** Gateway side of a chunked request: feed bytes as they arrive, get request plaintext chunks in order. */
export class ChunkedRequestDecoder {
  private head: Uint8Array = EMPTY;
  private r: Receiver | undefined;
  private readonly framer: ChunkFramer;
  private failed: CcinferError | undefined;
  private finished = false;
  private chunks = 0;

  constructor(
    private readonly keys: KeyLookup,
    private readonly opts: DecapsulateOptions & { maxChunk?: number; maxChunks?: number } = {},
  ) {
    this.framer = new ChunkFramer(opts.maxChunk ?? MAX_SEALED_CHUNK);
  }

  /** True once the header is in and the HPKE context is set up (key id and suite were accepted). */
  get started(): boolean {
    return this.r !== undefined;
  }

  /**
   * The request's key identifier and HPKE `enc` once the header is in: what a gateway remembers to refuse a
   * replayed request (RFC 9458 §6.5 leaves replay protection to it; a fresh `enc` per request is RFC 9180 §5.1).
   */
  get encapsulation(): { keyId: number; enc: Uint8Array } | undefined {
    return this.r ? { keyId: this.head[0]!, enc: this.r.enc } : undefined;
  }

  async push(bytes: Uint8Array): Promise<Uint8Array[]> {
    return this.guard(async () => {
      let rest = bytes;
      if (!this.r) {
        const need = HEADER_LENGTH + NENC - this.head.length;
        this.head = concat(this.head, rest.subarray(0, need));
        rest = rest.subarray(need);
        if (this.head.length < HEADER_LENGTH + NENC) return [];
        this.r = await setupReceiver(this.keys, this.head, LABEL_CHUNKED_REQUEST, this.opts.crypto ?? webCryptoSessionCrypto);
      }
      const out: Uint8Array[] = [];
      for (const sealed of this.framer.push(rest)) out.push(await this.open(sealed, false));
      return out;
    });
  }

  async finish(): Promise<Uint8Array> {
    return this.guard(async () => {
      if (!this.r) throw sessionError('ERR_OHTTP_TRUNCATED', 'the request ended inside its header');
      const pt = await this.open(this.framer.finish(), true);
      this.finished = true;
      return pt;
    });
  }

  private async open(sealed: Uint8Array, final: boolean): Promise<Uint8Array> {
    if (++this.chunks > (this.opts.maxChunks ?? 1 << 20)) throw sessionError('ERR_OHTTP_TOO_MANY_CHUNKS', 'too many request chunks');
    let pt: Uint8Array;
    try {
      pt = await this.r!.ctx.open(sealed, final ? FINAL : EMPTY);
    } catch (err) {
      throw wrap(err, 'ERR_OHTTP_DECRYPT', `request chunk ${this.chunks - 1} does not open`);
    }
    if (!final && pt.length === 0) throw sessionError('ERR_OHTTP_EMPTY_CHUNK', 'a non-final request chunk is empty');
    return pt;
  }

  /** The sealer for the response; only after the request opened completely. */
  async responseEncoder(responseNonce?: Uint8Array): Promise<ChunkedResponseEncoder> {
    if (!this.finished || !this.r) throw sessionError('ERR_OHTTP_STATE', 'respond only to a complete request');
    const { nk, nn } = aeadSizes(this.r.aeadId);
    const nonce = responseNonce ?? randomBytes(Math.max(nk, nn));
    return new ChunkedResponseEncoder(nonce, await deriveResponseKey(this.r.crypto, this.r.ctx, LABEL_CHUNKED_RESPONSE, this.r.aeadId, this.r.enc, nonce));
  }

  private async guard<T>(f: () => Promise<T>): Promise<T> {
    if (this.failed) throw this.failed;
    try {
      return await f();
    } catch (err) {
      this.failed = wrap(err, 'ERR_OHTTP_DECRYPT', 'request decoding failed');
      throw this.failed;
    }
  }
}

/** Seals response chunks (draft §5.2). Emit `header()` (the response nonce) first. */
export class ChunkedResponseEncoder {
  private counter = 0;
  private done = false;

  constructor(
    private readonly nonce: Uint8Array,
    private readonly key: ResponseKey,
  ) {}

  header(): Uint8Array {
    return this.nonce;
  }

  async seal(chunk: Uint8Array, final: boolean): Promise<Uint8Array> {
    if (this.done) throw sessionError('ERR_OHTTP_STATE', 'the final chunk was already sealed');
    if (!final && chunk.length === 0) throw sessionError('ERR_OHTTP_EMPTY_CHUNK', 'a non-final chunk must not be empty');
    // 2^32 chunks is far inside the 256^Nn hard limit and the draft §7 security margins for one key.
    if (this.counter >= 0xffffffff) throw sessionError('ERR_OHTTP_TOO_MANY_CHUNKS', 'too many response chunks');
    this.done = final;
    return frame(await aeadSeal(this.key, this.counter++, final ? FINAL : EMPTY, chunk), final);
  }
}
