/**
 * CoCo initdata (Kata Containers / Trustee "initdata" specification): the TOML document a pod is launched with
 * (agent policy, attestation-agent and CDH configuration). The host measures it into a register the guest
 * cannot change: its digest, with the algorithm the document declares, over the whole document's bytes,
 * zero-padded or truncated to the register: SNP HOST_DATA (32 bytes) or TDX MRCONFIGID (48 bytes). This is
 * what Kata's runtime computes at launch and what its attestation agent re-checks in the guest, so a verifier
 * that follows the same rule accepts exactly the initdata the pod runs with.
 *
 * The top-level keys `algorithm` (required) and `version` are read line by line: plain `key = "string"` lines
 * (or blank lines and comments) before the first table header, each key once, so a document whose declared
 * algorithm is ambiguous is refused, never guessed. The whole document must also be valid TOML v1.0.0 (parsed
 * with smol-toml, which refuses repeated keys) with only `version`, `algorithm` and a `[data]` table of strings,
 * the shape Kata's agent deserialises (`src/agent/src/initdata.rs`); each `[data]` entry (`aa.toml`,
 * `cdh.toml`, `policy.rego`) is reported by its digest with the declared algorithm, so a policy or an auditor
 * can name the agent policy a pod runs without the whole document.
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { ParseError, VerificationError, digest, equalBytes, toHex, utf8, type HashName } from '@ccinfer/core';

export type InitdataErrorCode =
  | 'ERR_INITDATA_MALFORMED' // ParseError: no / unsupported / repeated algorithm, a top-level line that is not key = "string", not TOML, or [data] not a table of strings
  | 'ERR_INITDATA_MISMATCH'; // VerificationError: HOST_DATA / MRCONFIGID is not the document's digest

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<InitdataErrorCode, true> {}
}

export type InitdataAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** The register that carries the digest: SNP HOST_DATA (32 bytes) or TDX MRCONFIGID (48 bytes). */
export type InitdataTee = 'snp' | 'tdx';

const REGISTER_LENGTH: Record<InitdataTee, number> = { snp: 32, tdx: 48 };
const HASH: Record<InitdataAlgorithm, HashName> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

/** What a verifier can say about an initdata document once its register matched. */
export interface InitdataClaims {
  /** The algorithm the document declares. */
  algorithm: InitdataAlgorithm;
  /** The document's `version` key, when present. */
  version?: string;
  /** The full digest (32, 48 or 64 bytes) before fitting it to the register. */
  digest: Uint8Array;
  /** The register value: `digest` zero-padded or truncated to HOST_DATA / MRCONFIGID. */
  register: Uint8Array;
  /** Each `[data]` entry (`aa.toml`, `cdh.toml`, `policy.rego`, …): hex digest of its UTF-8 text with `algorithm`. */
  parts: Record<string, string>;
}

const malformed = (message: string): never => {
  throw new ParseError('ERR_INITDATA_MALFORMED', message);
};

/** Reads the top-level `algorithm` and `version` of an initdata TOML document. */
export function parseInitdataHeader(toml: string): { algorithm: InitdataAlgorithm; version?: string } {
  const keys = new Map<string, string>();
  for (const line of toml.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (t.startsWith('[')) break; // first table header: [data]
    // A basic string without escapes or a literal string (TOML v1.0.0 §String).
    const m = /^([A-Za-z0-9_-]+)\s*=\s*(?:"([^"\\]*)"|'([^']*)')\s*(?:#.*)?$/.exec(t);
    if (!m) return malformed(`top-level line is not key = "string": ${t.slice(0, 80)}`);
    if (keys.has(m[1]!)) return malformed(`top-level key "${m[1]}" is repeated`);
    keys.set(m[1]!, (m[2] ?? m[3])!);
  }
  const algorithm = keys.get('algorithm');
  if (algorithm === undefined) return malformed('initdata declares no algorithm');
  if (!Object.hasOwn(HASH, algorithm)) return malformed(`initdata algorithm "${algorithm}" is not sha256, sha384 or sha512`);
  const version = keys.get('version');
  return { algorithm: algorithm as InitdataAlgorithm, ...(version !== undefined ? { version } : {}) };
}

/** The `[data]` entries of a document whose header already parsed: strict TOML, nothing but strings. */
function parseInitdataData(text: string): Map<string, string> {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (cause) {
    const line = cause instanceof TomlError ? cause.line : undefined;
    throw new ParseError('ERR_INITDATA_MALFORMED', `initdata is not TOML v1.0.0${line !== undefined ? ` (line ${line})` : ''}`, { cause });
  }
  for (const key of Object.keys(doc)) {
    if (key !== 'version' && key !== 'algorithm' && key !== 'data') malformed(`initdata has an unknown top-level key "${key}"`);
  }
  const data = new Map<string, string>();
  if (doc['data'] === undefined) return data;
  if (typeof doc['data'] !== 'object' || doc['data'] === null || Array.isArray(doc['data'])) return malformed('initdata "data" is not a table');
  for (const [key, value] of Object.entries(doc['data'] as Record<string, unknown>)) {
    if (typeof value !== 'string') return malformed(`initdata data."${key}" is not a string`);
    data.set(key, value);
  }
  return data;
}

/**
 * The digest of an initdata document as its register holds it, with its parts as claims.
 * Throws ParseError `ERR_INITDATA_MALFORMED` when the document declares no usable algorithm.
 */
export async function initdataClaims(toml: string | Uint8Array, options: { tee: InitdataTee }): Promise<InitdataClaims> {
  const bytes = typeof toml === 'string' ? utf8(toml) : toml;
  let text: string;
  try {
    text = typeof toml === 'string' ? toml : new TextDecoder('utf-8', { fatal: true }).decode(toml);
  } catch (cause) {
    throw new ParseError('ERR_INITDATA_MALFORMED', 'initdata is not UTF-8', { cause });
  }
  const header = parseInitdataHeader(text);
  const data = parseInitdataData(text);
  const full = await digest(HASH[header.algorithm], bytes);
  const register = new Uint8Array(REGISTER_LENGTH[options.tee]);
  register.set(full.subarray(0, register.length));
  const parts: Record<string, string> = {};
  for (const [key, value] of data) parts[key] = toHex(await digest(HASH[header.algorithm], utf8(value)));
  return { ...header, digest: full, register, parts };
}

/**
 * The value Kata puts in SNP HOST_DATA (`tee: 'snp'`, 32 bytes) or TDX MRCONFIGID (`tee: 'tdx'`, 48 bytes) for
 * this initdata document: its declared algorithm over the whole document, zero-padded or truncated.
 *
 * @example
 * ```ts
 * const hostData = await initdataDigest('version = "0.1.0"\nalgorithm = "sha256"\n[data]\n', { tee: 'snp' });
 * const policy = parsePolicy({ version: 1, snp: { hostData: [toHex(hostData)] } });
 * ```
 */
export async function initdataDigest(toml: string | Uint8Array, options: { tee: InitdataTee }): Promise<Uint8Array> {
  return (await initdataClaims(toml, options)).register;
}

/**
 * Checks that `register` (HOST_DATA or MRCONFIGID from verified evidence) is the digest of `toml`, and returns
 * the document's claims. Throws VerificationError `ERR_INITDATA_MISMATCH` otherwise.
 */
export async function checkInitdata(register: Uint8Array, toml: string | Uint8Array, options: { tee: InitdataTee }): Promise<InitdataClaims> {
  const claims = await initdataClaims(toml, options);
  if (!equalBytes(claims.register, register)) {
    const name = options.tee === 'snp' ? 'HOST_DATA' : 'MRCONFIGID';
    throw new VerificationError('ERR_INITDATA_MISMATCH', `${name} ${toHex(register)} is not the ${claims.algorithm} digest of the initdata document (${toHex(claims.register)})`);
  }
  return claims;
}
