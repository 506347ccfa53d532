/**
 * `createSecureClient` for browsers: the core SecureClient (same API and events as the Node client: attest,
 * infer, fetch, exportEvidence) with the page's `fetch` as transport and `@ccinfer/verifier`'s bundle
 * appraisal, plus verify-before-upload of a File or Blob through the encrypted channel.
 */
import {
  ChunkedRequestEncoder,
  ConfigError,
  MEDIA_TYPE_CHUNKED_REQUEST,
  MEDIA_TYPE_CHUNKED_RESPONSE,
  MemoryCache,
  OHTTP_PATH,
  PROBLEM_PREFIX,
  SecureClient,
  SessionError,
  TransportError,
  concat,
  decodeResponse,
  encodeRequest,
  fromUtf8,
  randomBytes,
  toHex,
  utf8,
  parseCollateralFile,
  loadCollateralFile,
  type Appraiser,
  type Cache,
  type CheckListener,
  type CollateralFile,
  type Fetcher,
  type Fields,
  type SecureClientOptions,
} from '@ccinfer/core';
import { encodeVarint, KEY_CONFIG_HEADER, keyConfigDigest } from '@ccinfer/core/internal';
import { appraise, PINNED_ANCHORS, type Policy, type ProvenanceInput, type TrustAnchors } from '@ccinfer/verifier';
import { proxiedFetcher, TieredCache } from './collateral.js';
import { IndexedDbCache } from './idb-cache.js';
import { attestedKeyConfig, progress, sealParts, sealFor, type ProgressListener, type SealProgress } from './seal.js';

export interface BrowserClientOptions extends Omit<SecureClientOptions, 'appraise' | 'fetch'> {
  /** Replaces the default appraiser (`@ccinfer/verifier` appraise with the options below). */
  appraise?: Appraiser;
  /** Transport to the pod. Default the page's `fetch`. */
  fetch?: Fetcher;
  policy?: Policy;
  /** Trust anchors; default the pinned AMD / Intel / NVIDIA roots. Replaceable, never switchable off. */
  anchors?: TrustAnchors;
  onCheck?: CheckListener;
  /** Accept a pod whose CPU measurement or initdata digest the policy does not pin. Default false (`ERR_POLICY_UNPINNED`). */
  allowUnpinnedMeasurements?: boolean;
  /** Collateral cache; default memory, in front of IndexedDB when `indexedDb` is set. */
  cache?: Cache;
  /** Keep fetched collateral in IndexedDB (true, or a database name). */
  indexedDb?: boolean | string;
  /** Collateral proxy: URL template with `{url}`, or a function from vendor URL to proxy URL. */
  collateralProxy?: string | ((url: string) => string);
  /** An offline collateral file written by `ccinfer collateral fetch` (bytes, text, or parsed). */
  collateralFile?: Uint8Array | string | CollateralFile;
  /**
   * Fetch collateral directly with this Fetcher (a PCCS or mirror that sends CORS headers). Without it and
   * without `collateralProxy`, collateral comes only from the bundle and the cache: nothing is fetched.
   */
  collateralFetcher?: Fetcher;
  /**
   * The signed provenance a policy's `snp.provenance` is checked against: the Sigstore bundle and a
   * `SigstoreBundleVerifier`, for pages `webSigstoreBundleVerifier()` from `@ccinfer/browser/provenance` (WebCrypto
   * only, kept out of the main entry for its size). Without it a policy with `snp.provenance` refuses every pod
   * (`ERR_PROVENANCE_MISSING`).
   */
  provenance?: ProvenanceInput;
}

export interface UploadOptions {
  /** Path (and query) inside the pod. Default `/v1/files`. */
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** `xhr` reports network progress (`uploading`); `fetch` reports it only when done. Default: xhr in pages. */
  transport?: 'xhr' | 'fetch';
  chunkSize?: number;
  /**
   * Where the page cannot stream a request body: a file up to this size is sent as one encrypted request to
   * `path`; a larger one in sequential encrypted parts of this size through the pod's OpenAI-style Uploads API
   * (`uploadsPath`), so the page never holds more than one sealed part. Default 8 MiB (OpenAI allows 64 MB parts).
   */
  partSize?: number;
  /** The Uploads API base path for a file sent in parts. Default `/v1/uploads`. */
  uploadsPath?: string;
  /** The Uploads API `purpose` of a file sent in parts. Default `user_data`. */
  purpose?: string;
  /** The file name the Uploads API records. Default the File's name, else `upload`. */
  filename?: string;
  /**
   * Upload again after re-attesting when the gateway answers `key-config-mismatch`. Default false: that answer
   * is unauthenticated, so the pod may already have received the upload.
   */
  retryOnKeyChange?: boolean;
}

/** The appraiser the browser client uses: the verifier's checklist (docs/checks.md "Bundle appraisal"). */
export function browserAppraiser(o: {
  policy?: Policy | undefined;
  anchors?: TrustAnchors | undefined;
  cache: Cache;
  fetcher?: Fetcher | undefined;
  onCheck?: CheckListener | undefined;
  clock?: SecureClientOptions['clock'];
  ready?: Promise<unknown>;
  allowUnpinnedMeasurements?: boolean | undefined;
  provenance?: ProvenanceInput | undefined;
}): Appraiser {
  return async (bundle, nonce) => {
    await o.ready;
    const r = await appraise(bundle, {
      nonce,
      policy: o.policy,
      anchors: o.anchors ?? PINNED_ANCHORS,
      cache: o.cache,
      fetcher: o.fetcher,
      clock: o.clock,
      onCheck: o.onCheck,
      requireReferenceValues: o.allowUnpinnedMeasurements !== true,
      provenance: o.provenance,
      // A pod with no attested GPU only when the policy says gpu.count.min 0 (ERR_NV_POLICY_NO_GPU).
      requireGpu: true,
    });
    return { ...r.document, keyConfig: r.keyConfig ?? new Uint8Array(0) };
  };
}

export class BrowserSecureClient extends SecureClient {
  readonly endpoint: string;
  private readonly transport: Fetcher;
  /** Whether uploads try a request stream first (cleared once the network refuses one). */
  private streams: boolean;

  constructor(options: SecureClientOptions & { fetch: Fetcher }) {
    super(options);
    this.endpoint = new URL(options.endpoint).href.replace(/\/+$/, '');
    this.transport = options.fetch;
    this.streams = options.streamRequestBodies ?? false;
  }

  /** Attests (or reuses a fresh appraisal), then seals `data` to the attested key. See {@link sealFor}. */
  async sealFor(data: Uint8Array | Blob, options: { onProgress?: ProgressListener } = {}): Promise<Uint8Array> {
    return sealFor(await this.attest(), data, options);
  }

  /**
   * Verify, then upload: attests the pod (nothing but the nonce leaves the page before the appraisal passes),
   * then sends `file` encrypted to the attested key, to `path` inside the pod (docs/wire-protocol.md "Uploads
   * from a page"). Resolves with the pod's response. How, depends on what the page can do:
   *  - where it can stream a request body (`streamRequestBodies`: Chromium over HTTP/2), the file is read,
   *    sealed and sent chunk by chunk as one request (`uploading` progress as chunks are sealed);
   *  - otherwise a file up to `partSize` is sealed slice by slice (64 KiB) and sent as one request
   *    (XMLHttpRequest reports its network progress), and a larger one goes in sequential encrypted parts through
   *    the pod's OpenAI-style Uploads API: create, one encrypted request per part, complete — resolving with the
   *    complete call's response. A stream the network refuses falls back to these (a cut stream is never
   *    forwarded as complete, so nothing arrives twice).
   */
  async upload(file: Blob | Uint8Array, options: UploadOptions = {}): Promise<Response> {
    const size = file instanceof Uint8Array ? file.length : file.size;
    if (this.streams) {
      try {
        return await this.streamUpload(file, size, options);
      } catch (err) {
        // Chromium refuses a request stream over HTTP/1.1 before sending it (a TypeError: unreachable).
        if (!(err instanceof TransportError && err.code === 'ERR_SESSION_UNREACHABLE') || options.signal?.aborted) throw err;
        this.streams = false;
      }
    }
    const partSize = options.partSize ?? DEFAULT_PART_SIZE;
    if (!(Number.isSafeInteger(partSize) && partSize > 0)) throw new ConfigError('ERR_SESSION_OPTIONS', 'partSize must be a positive integer', { fields: ['partSize'] });
    if (size <= partSize) {
      const url = new URL(options.path ?? '/v1/files', this.endpoint);
      const type = file instanceof Uint8Array ? '' : file.type;
      return this.sealedRequest(options.method ?? 'POST', url, { 'content-type': type || 'application/octet-stream', ...options.headers }, file, options, options.onProgress);
    }
    return this.uploadInParts(file, size, partSize, options);
  }

  /** The whole file as one request whose body is encrypted as it is read and sent. */
  private async streamUpload(file: Blob | Uint8Array, size: number, options: UploadOptions): Promise<Response> {
    const type = file instanceof Uint8Array ? '' : file.type;
    const headers: Record<string, string> = { 'content-type': type || 'application/octet-stream', ...options.headers };
    if (options.retryOnKeyChange) headers['idempotency-key'] = toHex(randomBytes(16));
    const body = file instanceof Uint8Array ? new Blob([file as Uint8Array<ArrayBuffer>]) : file;
    options.onProgress?.(progress('uploading', 0, size));
    const res = await this.fetchWithProgress(
      new URL(options.path ?? '/v1/files', this.endpoint),
      { method: options.method ?? 'POST', headers, body, ...(options.signal ? { signal: options.signal } : {}) },
      (n) => options.onProgress?.(progress('uploading', n, size)),
    );
    options.onProgress?.(progress('uploading', size, size));
    return res;
  }

  /**
   * OpenAI's Uploads API (create an Upload, add Parts, complete it): each call is one encrypted request; a part
   * is `multipart/form-data` with its bytes in the `data` field, read and sealed one slice at a time. A part
   * that fails cancels the Upload (best effort) and the error is thrown.
   */
  private async uploadInParts(file: Blob | Uint8Array, size: number, partSize: number, options: UploadOptions): Promise<Response> {
    const base = (options.uploadsPath ?? '/v1/uploads').replace(/\/+$/, '');
    const type = (file instanceof Uint8Array ? '' : file.type) || 'application/octet-stream';
    const filename = options.filename ?? (typeof File !== 'undefined' && file instanceof File ? file.name : 'upload');
    const json = (o: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json', ...options.headers }, body: JSON.stringify(o), ...(options.signal ? { signal: options.signal } : {}) });
    const created = await uploadsCall(this.fetch(this.endpoint + base, json({ purpose: options.purpose ?? 'user_data', filename, bytes: size, mime_type: type })), 'create');
    const id = created.id;
    const partIds: string[] = [];
    try {
      for (let at = 0; at < size; at += partSize) {
        const end = Math.min(size, at + partSize);
        const boundary = `ccinfer-${toHex(randomBytes(12))}`;
        const part = { prefix: utf8(`--${boundary}\r\ncontent-disposition: form-data; name="data"; filename="${filename.replace(/["\r\n\\]/g, '_')}"\r\ncontent-type: application/octet-stream\r\n\r\n`), suffix: utf8(`\r\n--${boundary}--\r\n`) };
        const slice = file instanceof Uint8Array ? file.subarray(at, end) : file.slice(at, end);
        const from = at;
        const onPart = options.onProgress ? (p: SealProgress) => options.onProgress!(progress(p.phase, from + Math.round((p.total === 0 ? 1 : p.loaded / p.total) * (end - from)), size)) : undefined;
        const res = this.sealedRequest('POST', new URL(`${base}/${id}/parts`, this.endpoint), { ...options.headers, 'content-type': `multipart/form-data; boundary=${boundary}` }, slice, options, onPart, part);
        partIds.push((await uploadsCall(res, 'part')).id);
      }
    } catch (err) {
      await this.fetch(`${this.endpoint}${base}/${id}/cancel`, json({})).then((r) => r.body?.cancel(), () => undefined);
      throw err;
    }
    return this.fetch(`${this.endpoint}${base}/${id}/complete`, json({ part_ids: partIds }));
  }

  /**
   * One request whose body (`content` framed by `around`) is sealed slice by slice into a Blob of sealed chunks
   * and sent by XMLHttpRequest (network progress) or fetch; re-sent once to a new key after
   * `key-config-mismatch` only with `retryOnKeyChange`.
   */
  private async sealedRequest(
    method: string,
    url: URL,
    fields: Record<string, string>,
    content: Blob | Uint8Array,
    options: UploadOptions,
    onProgress: ProgressListener | undefined,
    around: { prefix: Uint8Array; suffix: Uint8Array } = { prefix: new Uint8Array(0), suffix: new Uint8Array(0) },
  ): Promise<Response> {
    const size = content instanceof Uint8Array ? content.length : content.size;
    const headers: Fields = Object.entries(fields).map(([n, v]) => [n.toLowerCase(), v]);
    // RFC 9292 §3.1 known-length request with empty content and trailers ends in two zero varints; the
    // content length goes in their place and the trailer section after the streamed content.
    const head = encodeRequest({ method, scheme: url.protocol.replace(':', ''), authority: url.host, path: url.pathname + url.search, headers, content: new Uint8Array(0), trailers: [] });
    const prefix = concat(head.subarray(0, head.length - 2), encodeVarint(around.prefix.length + size + around.suffix.length), around.prefix);
    const suffix = concat(around.suffix, new Uint8Array([0]));
    const { onProgress: _own, ...rest } = options;
    const o: UploadOptions = { ...rest, ...(onProgress ? { onProgress } : {}) };
    const useXhr = (options.transport ?? (typeof XMLHttpRequest === 'function' ? 'xhr' : 'fetch')) === 'xhr';
    for (let attempt = 0; ; attempt++) {
      const attested = await this.attest(attempt > 0 ? { force: true } : {});
      const encoder = await ChunkedRequestEncoder.create(attestedKeyConfig(attested));
      // The key config the upload is sealed to, by digest: a replica that does not hold it forwards the upload
      // to the one that does (docs/architecture.md "Replicas"), and a restarted pod refuses it unopened.
      const keyDigest = keyConfigDigest(attested.keyConfig!);
      const parts = await sealParts(encoder, content, { prefix, suffix, chunkSize: options.chunkSize, onProgress, signal: options.signal });
      // Sealed chunks go to the transport as a Blob of parts: no second contiguous copy (browsers may keep
      // large Blobs on disk). The plaintext was only ever read one slice at a time.
      const body = new Blob(parts as Uint8Array<ArrayBuffer>[]);
      const res = useXhr ? await xhrPost(this.endpoint + OHTTP_PATH, body, keyDigest, o) : await this.fetchPost(body, keyDigest, o);
      if (res.status === 200 && res.contentType.startsWith(MEDIA_TYPE_CHUNKED_RESPONSE)) {
        const dec = encoder.responseDecoder();
        const plain = concat(...(await dec.push(res.body)), await dec.finish());
        const inner = decodeResponse(plain);
        const h = new Headers();
        for (const [n, v] of inner.headers) h.append(n, v);
        const nullBody = [101, 103, 204, 205, 304].includes(inner.status);
        return new Response(nullBody ? null : (inner.content as Uint8Array<ArrayBuffer>), { status: inner.status, headers: h });
      }
      const problem = problemType(res);
      if (problem === 'key-config-mismatch') {
        if (attempt > 0) throw new TransportError('ERR_SESSION_KEY_CONFIG_MISMATCH', 'the pod refused a freshly attested key', { status: res.status });
        // The pod rotated its key (docs/architecture.md "Data flow"): re-attest. The answer is unauthenticated (a man-in-the-middle may have
        // delivered the upload and forged it), so the upload is sent again only if the caller allows it.
        if (options.retryOnKeyChange) continue;
        await this.attest({ force: true });
        throw new TransportError('ERR_SESSION_NOT_RETRIED', 'the gateway answered key-config-mismatch (unauthenticated: the upload may have been received); re-attested, not resent', { status: res.status });
      }
      if (res.status === 200) throw new SessionError('ERR_SESSION_RESPONSE_TYPE', `gateway answered ${res.contentType || 'no content type'}`);
      throw new TransportError('ERR_SESSION_GATEWAY_HTTP', `gateway answered HTTP ${res.status}${problem ? ` (${problem})` : ''}`, { status: res.status });
    }
  }

  private async fetchPost(body: Blob, keyDigest: string, o: UploadOptions): Promise<RawResponse> {
    let res: Response;
    try {
      res = await this.transport(this.endpoint + OHTTP_PATH, {
        method: 'POST',
        headers: { 'content-type': MEDIA_TYPE_CHUNKED_REQUEST, accept: MEDIA_TYPE_CHUNKED_RESPONSE, [KEY_CONFIG_HEADER]: keyDigest },
        body,
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (cause) {
      throw new TransportError('ERR_UPLOAD_NETWORK', 'the encrypted upload did not reach the gateway', { cause });
    }
    o.onProgress?.(progress('uploading', body.size, body.size));
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: new Uint8Array(await res.arrayBuffer()) };
  }
}

interface RawResponse {
  status: number;
  contentType: string;
  body: Uint8Array;
}

/** XMLHttpRequest, because only it reports upload progress for a request body (`fetch` does not). */
function xhrPost(url: string, body: Blob, keyDigest: string, o: UploadOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.responseType = 'arraybuffer';
    xhr.setRequestHeader('content-type', MEDIA_TYPE_CHUNKED_REQUEST);
    xhr.setRequestHeader('accept', MEDIA_TYPE_CHUNKED_RESPONSE);
    xhr.setRequestHeader(KEY_CONFIG_HEADER, keyDigest);
    xhr.upload.onprogress = (e) => o.onProgress?.(progress('uploading', e.loaded, e.lengthComputable ? e.total : body.size));
    xhr.onload = () => resolve({ status: xhr.status, contentType: xhr.getResponseHeader('content-type') ?? '', body: new Uint8Array(xhr.response as ArrayBuffer) });
    const fail = (why: string) => () => reject(new TransportError('ERR_UPLOAD_NETWORK', `the encrypted upload did not reach the gateway (${why})`));
    xhr.onerror = fail('network error');
    xhr.ontimeout = fail('timeout');
    xhr.onabort = () => reject(new TransportError('ERR_FETCH_ABORTED', 'upload aborted', { cause: o.signal?.reason }));
    o.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

function problemType(res: RawResponse): string | undefined {
  if (!res.contentType.startsWith('application/problem+json')) return undefined;
  try {
    const p = JSON.parse(fromUtf8(res.body)) as { type?: unknown };
    return typeof p.type === 'string' && p.type.startsWith(PROBLEM_PREFIX) ? p.type.slice(PROBLEM_PREFIX.length) : undefined;
  } catch {
    return undefined;
  }
}

/** Parts of a file larger than this go through the Uploads API when the page cannot stream. */
const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/**
 * One Uploads API call's answer: a 2xx JSON object with an `id` safe to put in a path (the pod is attested, but
 * its answer still must not steer later requests elsewhere). Anything else is the call's failure.
 */
async function uploadsCall(response: Promise<Response>, step: 'create' | 'part'): Promise<{ id: string }> {
  const res = await response;
  const text = await res.text();
  if (!res.ok) throw new TransportError('ERR_SESSION_UPSTREAM_STATUS', `the Uploads API ${step} call answered HTTP ${res.status}: ${text.slice(0, 300)}`, { status: res.status });
  let id: unknown;
  try {
    id = (JSON.parse(text) as { id?: unknown }).id;
  } catch (cause) {
    throw new SessionError('ERR_SESSION_JSON', `the Uploads API ${step} call did not answer JSON`, { cause });
  }
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new SessionError('ERR_UPLOAD_PART', `the Uploads API ${step} call answered no usable id`);
  return { id };
}

/**
 * Whether this page can send a request body as a stream (Fetch `duplex: 'half'`): the documented feature test —
 * a browser that knows request streams reads the `duplex` member and sets no content type for a stream body.
 * Chromium also needs HTTP/2 or later for them, which browsers negotiate only over TLS: plain `http:` pods get
 * the encrypted parts.
 */
export function canStreamRequests(endpoint: string): boolean {
  if (new URL(endpoint).protocol !== 'https:' || typeof ReadableStream !== 'function' || typeof Request !== 'function') return false;
  let duplexRead = false;
  try {
    const init = { method: 'POST', body: new ReadableStream(), get duplex() {
      duplexRead = true;
      return 'half';
    } };
    const hasType = new Request('https://example.invalid/', init as RequestInit).headers.has('content-type');
    return duplexRead && !hasType;
  } catch {
    return false;
  }
}

/**
 * A SecureClient for browsers: `attest`, `infer`, `fetch`, `exportEvidence` and the same events as the Node
 * client, plus `upload` and `sealFor` (verify, then encrypt a File / Blob to the attested key).
 *
 * Each attestation runs `@ccinfer/verifier`'s `appraise` in the page with this client's nonce: against
 * `anchors` (default the pinned AMD / Intel / NVIDIA roots) and `policy`, and — unless
 * `allowUnpinnedMeasurements: true` — refusing a pod whose CPU measurement and initdata digest the policy do not both pin
 * (`ERR_POLICY_UNPINNED`). `maxEvidenceAgeSeconds` defaults to the policy's `freshness.maxEvidenceAgeSeconds`,
 * then 3600.
 *
 * Collateral comes from the bundle, the cache (`cache`, default memory; in front of IndexedDB with `indexedDb`;
 * preloaded from `collateralFile`), and then only from `collateralProxy` or `collateralFetcher`: the page never
 * calls AMD or Intel directly (they send no CORS headers), and with neither option nothing is fetched. Whatever
 * the source, collateral is verified by signature. Throws ConfigError `ERR_SESSION_OPTIONS` when no `fetch`
 * exists, `ERR_IDB_UNAVAILABLE` for `indexedDb` without IndexedDB, `ERR_COLLATERAL_PROXY_URL` for a proxy
 * template without `{url}`, and `ERR_COLLATERAL_FILE_INVALID` for `collateralFile` bytes or text that are not a collateral file.
 *
 * @example
 * ```ts
 * import { createSecureClient, parsePolicyText } from '@ccinfer/browser';
 *
 * const policy = parsePolicyText(await (await fetch('/policy.json')).text()); // strict JSON: no repeated keys
 * const client = createSecureClient({ endpoint: 'https://pod.example', policy, collateralProxy: '/collateral?url={url}' });
 * client.on('rejected', ({ error }) => show(`refused (${error.code}): nothing was sent`));
 * const document = await client.attest(); // verified here, in the page
 * const res = await client.upload(file, { path: '/v1/files', onProgress: (p) => show(`${p.phase} ${p.percent}%`) });
 * ```
 */
export function createSecureClient(o: BrowserClientOptions): BrowserSecureClient {
  const fetch: Fetcher | undefined = o.fetch ?? (globalThis.fetch?.bind(globalThis) as Fetcher | undefined);
  if (!fetch) throw new ConfigError('ERR_SESSION_OPTIONS', 'no fetch available; pass options.fetch', { fields: ['fetch'] });
  const file = o.collateralFile === undefined ? undefined : typeof o.collateralFile === 'string' || o.collateralFile instanceof Uint8Array ? parseCollateralFile(o.collateralFile) : o.collateralFile;
  if (o.indexedDb && !(globalThis as { indexedDB?: unknown }).indexedDB) {
    throw new ConfigError('ERR_IDB_UNAVAILABLE', 'IndexedDB is not available in this environment', { fields: ['indexedDb'] });
  }
  const cache = o.cache ?? (o.indexedDb ? new TieredCache(new MemoryCache(), IndexedDbCache.open(typeof o.indexedDb === 'string' ? o.indexedDb : undefined)) : new MemoryCache());
  const ready = file ? loadCollateralFile(cache, file) : Promise.resolve(0);
  ready.catch(() => undefined); // surfaced by the first appraisal
  const collateralFetcher = o.collateralProxy !== undefined ? proxiedFetcher(o.collateralProxy, o.collateralFetcher ?? fetch) : o.collateralFetcher;
  const { appraise: custom, policy, anchors, onCheck, allowUnpinnedMeasurements, provenance, cache: _c, indexedDb: _i, collateralProxy: _p, collateralFile: _f, collateralFetcher: _cf, fetch: _t, ...rest } = o;
  const maxAge = o.maxEvidenceAgeSeconds ?? policy?.freshness?.maxEvidenceAgeSeconds;
  return new BrowserSecureClient({
    streamRequestBodies: canStreamRequests(o.endpoint),
    ...rest,
    ...(maxAge !== undefined ? { maxEvidenceAgeSeconds: maxAge } : {}),
    fetch,
    appraise: custom ?? browserAppraiser({ policy, anchors, cache, fetcher: collateralFetcher, onCheck, clock: o.clock, ready, allowUnpinnedMeasurements, provenance }),
  });
}
