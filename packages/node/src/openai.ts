/**
 * `@ccinfer/node/openai`: the OpenAI client with attestation inside. {@link AttestedOpenAI} *is* an `OpenAI`
 * (the `openai` package, an optional peer dependency, 6.x) whose every request first attests the pod and then
 * travels end-to-end encrypted through a {@link SecureClient}.
 *
 * Why not `new OpenAI({ fetch: client.fetch })` alone: the SDK turns anything its `fetch` throws into
 * `APIConnectionError` and retries it (`maxRetries`, default 2), so a refused pod is attested three times and
 * surfaces as "Connection error.". Here attestation runs in the SDK's `prepareOptions` hook, which the SDK awaits
 * before its retry loop, so a refusal is thrown once, as our typed error; an error of the session inside `fetch`
 * (e.g. a re-attestation after a key rotation that is refused) is answered to the SDK as a non-retryable status
 * (`x-should-retry: false`) and rethrown as the same typed error by `makeStatusError`.
 */
import OpenAI, { type APIError, type ClientOptions } from 'openai';
import { CcinferError, ConfigError, OHTTP_PATH, VerificationError, type AttestedDocument, type SecureClient, type VerificationDocument } from '@ccinfer/core';
import { createSecureClient, type CreateSecureClientOptions } from './client.js';

/** The codes of this module (stable public API). */
export type OpenAIErrorCode = 'ERR_OPENAI_ATTESTATION_REFUSED'; // AttestationRefusedError: the pod's evidence was refused; nothing was sent

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<OpenAIErrorCode, true> {}
}

/**
 * The pod's evidence was refused: nothing but the attest nonce was sent. Never retried. `document` is the
 * verification document (every check, with the failed ones in `errors`), `bundle` the evidence as received,
 * `cause` the SecureClient's error (`ERR_SESSION_REJECTED` or the appraiser's own code).
 */
export class AttestationRefusedError extends VerificationError {
  static override readonly kind: string = 'AttestationRefusedError';
  readonly document: VerificationDocument;
  readonly bundle: Uint8Array | undefined;
  constructor(cause: CcinferError, document: VerificationDocument, bundle: Uint8Array | undefined) {
    const failed = document.errors.map((e) => e.code).join(', ') || cause.code;
    super('ERR_OPENAI_ATTESTATION_REFUSED', `the pod's evidence was refused (${failed}); nothing was sent`, { cause });
    this.document = document;
    this.bundle = bundle;
  }
}

/** The `OpenAI` options that pass through unchanged (`baseURL` and `fetch` are this client's own). */
export type AttestedOpenAIClientOptions = Omit<ClientOptions, 'baseURL' | 'fetch' | 'fetchOptions' | 'dangerouslyAllowBrowser'>;

/**
 * Options of {@link AttestedOpenAI}: those of `createSecureClient` (endpoint, policy, anchors, …) and those of
 * `OpenAI` (`timeout`, `maxRetries`, `logger`, `logLevel`, `defaultHeaders`, …), in one object.
 */
export interface AttestedOpenAIOptions extends Partial<CreateSecureClientOptions>, AttestedOpenAIClientOptions {
  /** Use this SecureClient (shared attestation) instead of creating one from the options; `endpoint` must be its pod. */
  secureClient?: SecureClient | undefined;
  /** Path prefix of the OpenAI API inside the pod. Default `/v1`. */
  apiPath?: string | undefined;
}

const OPENAI_KEYS = ['apiKey', 'organization', 'project', 'webhookSecret', 'timeout', 'maxRetries', 'defaultHeaders', 'defaultQuery', 'logLevel', 'logger'] as const;
/** Marks a status answer that stands for a session error thrown inside `fetch` (see the module comment). */
const ERROR_HEADER = 'x-ccinfer-error-id';

/**
 * An `OpenAI` client for a ccinfer pod: each request attests first (an accepted appraisal is reused for the
 * policy's freshness window) and is sent end-to-end encrypted; the pod sees nothing before the appraisal passes.
 *
 * Refusal: {@link AttestationRefusedError} (`ERR_OPENAI_ATTESTATION_REFUSED`, with the verification document),
 * thrown once and never retried, whatever `maxRetries` says. Other ccinfer errors (the pod unreachable:
 * `ERR_SESSION_UNREACHABLE`, something that is not a pod: `ERR_SESSION_NOT_A_POD`; a session failure) are thrown as themselves, also never retried by the SDK;
 * `maxRetries` applies to the OpenAI API's own temporary failures (429, 5xx, the encrypted request's connection).
 *
 * Defaults: `apiKey` `"ccinfer"` (the pod's gateway does not read it; set it when the model server behind
 * does), `maxRetries` 2 and `timeout` 10 min as in `OpenAI`; when `timeout` is set and `attestTimeoutMs`
 * is not, the attest request gets the same timeout. `withOptions()` returns a client sharing the attestation.
 *
 * @example
 * ```ts
 * import { AttestedOpenAI, AttestationRefusedError } from '@ccinfer/node/openai';
 * import { parsePolicyText } from '@ccinfer/node';
 *
 * const openai = new AttestedOpenAI({ endpoint: 'https://pod.example', policy: parsePolicyText(policyJson), timeout: 60_000 });
 * try {
 *   const reply = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
 * } catch (e) {
 *   if (e instanceof AttestationRefusedError) console.error(e.document.errors);
 * }
 * ```
 */
export class AttestedOpenAI extends OpenAI {
  /** The SecureClient underneath: `on('attested' | 'rejected')`, `exportEvidence()`, `attest()`. */
  readonly secureClient: SecureClient;
  readonly #options: AttestedOpenAIOptions;
  readonly #pending: Map<string, CcinferError>;

  constructor(options: AttestedOpenAIOptions) {
    const { secureClient, apiPath, ...rest } = options;
    let base: URL;
    try {
      base = new URL(options.endpoint ?? '');
    } catch (cause) {
      throw new ConfigError('ERR_SESSION_OPTIONS', `endpoint "${String(options.endpoint)}" is not a URL`, { cause, fields: ['endpoint'] });
    }
    const openaiOptions: Record<string, unknown> = {};
    const ccinferOptions: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) ((OPENAI_KEYS as readonly string[]).includes(k) ? openaiOptions : ccinferOptions)[k] = v;
    const client =
      secureClient ??
      createSecureClient({
        ...(ccinferOptions as unknown as CreateSecureClientOptions),
        ...(options.attestTimeoutMs === undefined && options.timeout !== undefined ? { attestTimeoutMs: options.timeout } : {}),
      });
    const pending = new Map<string, CcinferError>();
    super({
      apiKey: 'ccinfer',
      ...openaiOptions,
      baseURL: base.href.replace(/\/+$/, '') + (apiPath ?? '/v1'),
      fetch: sessionFetch(client, pending),
    });
    this.secureClient = client;
    this.#options = options;
    this.#pending = pending;
  }

  /** Attests (or reuses a fresh appraisal) before the SDK's retry loop, so that a refusal is thrown once. */
  // `unknown`: the SDK's FinalRequestOptions type is not exported; it is passed through untouched.
  protected override async prepareOptions(options: unknown): Promise<void> {
    await super.prepareOptions(options as never);
    await attestOnce(this.secureClient);
  }

  /** A session error thrown inside `fetch` comes back here as a marked status answer: rethrow it as itself. */
  protected override makeStatusError(status: number, error: object, message: string | undefined, headers: Headers): APIError {
    const id = headers.get(ERROR_HEADER);
    const pending = id === null ? undefined : this.#pending.get(id);
    if (id !== null && pending) {
      this.#pending.delete(id);
      return pending as unknown as APIError;
    }
    return super.makeStatusError(status, error, message, headers);
  }

  override withOptions(options: Partial<ClientOptions>): this {
    const { baseURL: _b, fetch: _f, fetchOptions: _o, dangerouslyAllowBrowser: _d, ...rest } = options;
    const current: Record<string, unknown> = {};
    for (const k of OPENAI_KEYS) current[k] = (this as unknown as Record<string, unknown>)[k];
    return new AttestedOpenAI({ ...this.#options, ...current, ...rest, secureClient: this.secureClient } as AttestedOpenAIOptions) as this;
  }
}

/**
 * The same as {@link AttestedOpenAI}'s constructor, for callers who prefer a function.
 *
 * @example
 * ```ts
 * const openai = createAttestedOpenAI({ endpoint: 'https://pod.example', policy, maxRetries: 1, logLevel: 'info' });
 * ```
 */
export function createAttestedOpenAI(options: AttestedOpenAIOptions): AttestedOpenAI {
  return new AttestedOpenAI(options);
}

/** Attests, turning a refusal that carries a document into {@link AttestationRefusedError}. */
async function attestOnce(client: SecureClient): Promise<AttestedDocument> {
  let refused: { document?: VerificationDocument; bundle?: Uint8Array } | undefined;
  const onRejected = (e: { document?: VerificationDocument; bundle?: Uint8Array }): void => {
    refused = e;
  };
  client.on('rejected', onRejected);
  try {
    return await client.attest();
  } catch (err) {
    if (err instanceof CcinferError && refused?.document) throw new AttestationRefusedError(err, refused.document, refused.bundle);
    throw err;
  } finally {
    client.off('rejected', onRejected);
  }
}

let nextId = 0;

/** The SecureClient's `fetch`, with its ccinfer errors answered as a non-retryable marked status (see the module comment). */
function sessionFetch(client: SecureClient, pending: Map<string, CcinferError>): ClientOptions['fetch'] {
  return async (input, init) => {
    try {
      return await client.fetch(input as string | URL | Request, init as RequestInit | undefined);
    } catch (err) {
      if (!(err instanceof CcinferError)) throw err;
      // The encrypted request's connection failed (after the attestation): thrown, so the SDK sees a connection
      // error and `maxRetries` applies to it, as to any dropped connection.
      if (err.code === 'ERR_SESSION_UNREACHABLE' && err.message.includes(OHTTP_PATH)) throw err;
      const id = String(++nextId);
      pending.set(id, err);
      return new Response(null, { status: 400, headers: { 'x-should-retry': 'false', [ERROR_HEADER]: id } });
    }
  };
}
