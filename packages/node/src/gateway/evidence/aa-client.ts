/**
 * A client of the CoCo Attestation Agent REST API (guest-components `api-server-rest`, default
 * `http://127.0.0.1:8006`, loopback only). Two API generations exist in the field:
 *
 *  - v0.21 (Kata ≥ 4.0): `GET /info` → `{version, tee, additional_tees, feature}`;
 *    `GET /aa/evidence?runtime_data=…&encoding=base64` (runtime data = unpadded base64url bytes, ≤ 64);
 *    `GET /aa/additional-evidence?runtime_data=…&encoding=base64` → `{"nvidia": {device_evidence_list}}` or "".
 *  - v0.19 (Kata 3.29): no `/info`, no `encoding` (runtime data = the raw UTF-8 of the query value, ≤ 64
 *    bytes), no additional evidence.
 *
 * The agent's answers are untrusted input like any evidence: bounded in size and parsed strictly by callers.
 */
import { toBase64Url } from '@ccinfer/core';
import { gatewayError } from './errors.js';

export type AaApi = 'v0.19' | 'v0.21';

/** The agent's self-description (v0.21 `/info`); v0.19 has none. */
export interface AaInfo {
  api: AaApi;
  version: string | undefined;
  tee: string | undefined;
  additionalTees: string[];
}

export type AaFetch = (url: string, init: { signal: AbortSignal }) => Promise<Response>;

export interface AaClientOptions {
  /** Default `http://127.0.0.1:8006`. */
  url?: string;
  /** Default the global `fetch`. */
  fetch?: AaFetch;
  /** Per request. Default 60 s (an SNP extended report or an NVIDIA collection can take seconds). */
  timeoutMs?: number;
  /** Largest accepted answer. Default 8 MiB. */
  maxBytes?: number;
}

export const DEFAULT_AA_URL = 'http://127.0.0.1:8006';

export class AaClient {
  readonly url: string;
  private readonly fetch: AaFetch;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(o: AaClientOptions = {}) {
    this.url = (o.url ?? DEFAULT_AA_URL).replace(/\/+$/, '');
    this.fetch = o.fetch ?? ((u, init) => fetch(u, init));
    this.timeoutMs = o.timeoutMs ?? 60_000;
    this.maxBytes = o.maxBytes ?? 8 * 1024 * 1024;
  }

  /** GET `path`; `undefined` for 404 (an endpoint this API version lacks). */
  async get(path: string, query: Record<string, string> = {}): Promise<string | undefined> {
    const qs = new URLSearchParams(query).toString();
    const target = `${this.url}${path}${qs ? `?${qs}` : ''}`;
    let res: Response;
    try {
      res = await this.fetch(target, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (cause) {
      throw gatewayError('ERR_GATEWAY_AA_UNREACHABLE', `the Attestation Agent at ${this.url} did not answer ${path}`, { cause });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) throw gatewayError('ERR_GATEWAY_AA_UNREACHABLE', `the Attestation Agent answered ${path} with HTTP ${res.status}`);
    if (body.length > this.maxBytes) throw gatewayError('ERR_GATEWAY_AA_EVIDENCE', `the answer to ${path} exceeds ${this.maxBytes} bytes`);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch (cause) {
      throw gatewayError('ERR_GATEWAY_AA_EVIDENCE', `the answer to ${path} is not UTF-8`, { cause });
    }
  }

  /**
   * `/info`, or the v0.19 description when the endpoint does not exist. The API generation is read from the
   * version (≥ 0.21 has `encoding=base64` and additional evidence).
   */
  async info(): Promise<AaInfo> {
    const text = await this.get('/info');
    if (text === undefined) return { api: 'v0.19', version: undefined, tee: undefined, additionalTees: [] };
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (cause) {
      throw gatewayError('ERR_GATEWAY_AA_EVIDENCE', '/info is not JSON', { cause });
    }
    const o = v as { version?: unknown; tee?: unknown; additional_tees?: unknown };
    if (typeof v !== 'object' || v === null || typeof o.version !== 'string' || typeof o.tee !== 'string') {
      throw gatewayError('ERR_GATEWAY_AA_EVIDENCE', '/info must carry the string fields version and tee');
    }
    const extra = o.additional_tees ?? [];
    if (!Array.isArray(extra) || !extra.every((t) => typeof t === 'string')) throw gatewayError('ERR_GATEWAY_AA_EVIDENCE', '/info additional_tees must be a list of names');
    const m = /^v?(\d+)\.(\d+)\./.exec(o.version);
    if (!m) throw gatewayError('ERR_GATEWAY_AA_EVIDENCE', `/info version "${o.version}" is not major.minor.patch`);
    const modern = Number(m[1]) > 0 || Number(m[2]) >= 21;
    return { api: modern ? 'v0.21' : 'v0.19', version: o.version, tee: o.tee, additionalTees: extra as string[] };
  }

  /**
   * Runtime data as the API generation takes it: v0.21 binary (unpadded base64url, `encoding=base64`);
   * v0.19 the bytes must already be text (the `ccinfer/1-text` binding is).
   */
  query(api: AaApi, runtimeData: Uint8Array): Record<string, string> {
    if (runtimeData.length > 64) throw gatewayError('ERR_GATEWAY_AA_UNSUPPORTED', 'runtime data is at most 64 bytes');
    if (api === 'v0.21') return { runtime_data: toBase64Url(runtimeData), encoding: 'base64' };
    const text = new TextDecoder().decode(runtimeData);
    // v0.19 passes the percent-decoded query value through as UTF-8: only text that survives unchanged binds.
    if (!/^[A-Za-z0-9_-]*$/.test(text)) throw gatewayError('ERR_GATEWAY_AA_UNSUPPORTED', 'the v0.19 agent takes runtime data as text: use the ccinfer/1-text binding');
    return { runtime_data: text };
  }
}
