/** Shared option parsing for the CLI commands (node:util parseArgs, strict: unknown flags are usage errors). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CcinferError, ConfigError, MemoryCache, fromHex, type Cache } from '@ccinfer/core';
import { parseAnchors, parsePolicyText, PINNED_ANCHORS, type Policy, type ProvenanceInput, type TrustAnchors } from '@ccinfer/verifier';
import { defaultDiskCache } from '../disk-cache.js';
import { sigstoreBundleVerifier } from '../provenance.js';
import { UsageError, type CliIo, type FlagTable } from './types.js';

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export function parse<T extends OptionSpec>(
  args: string[],
  options: T,
  usage: string,
  positionals = 0,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>> {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nusage: ${usage}`);
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument ${parsed.positionals[positionals]}\nusage: ${usage}`);
  return parsed;
}

export function required(value: string | undefined, flag: string, usage: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${flag}\nusage: ${usage}`);
  return value;
}

export async function readInput(io: CliIo, path: string, what: string): Promise<Uint8Array> {
  try {
    return await io.readFile(path);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** `--at ISO`: the verification time; strict ISO-8601 with a time zone. */
export function parseAt(at: string | undefined): Date | undefined {
  if (at === undefined) return undefined;
  const d = new Date(at);
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(at) || Number.isNaN(d.getTime())) {
    throw new UsageError(`--at ${at} is not an ISO-8601 time such as 2025-06-01T00:00:00Z`);
  }
  return d;
}

export function parseHexFlag(value: string, flag: string, bytes?: number): Uint8Array {
  try {
    const b = fromHex(value.trim());
    if (bytes !== undefined && b.length !== bytes) throw new Error(`${bytes} bytes expected`);
    return b;
  } catch {
    throw new UsageError(`${flag} must be ${bytes !== undefined ? `${bytes} bytes of ` : ''}hex`);
  }
}

export async function loadPolicy(io: CliIo, path: string | undefined): Promise<Policy | undefined> {
  if (path === undefined) return undefined;
  const text = new TextDecoder().decode(await readInput(io, path, 'policy'));
  try {
    return parsePolicyText(text);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`policy ${path} is invalid:\n  ${err.fields.join('\n  ')}`);
    throw err;
  }
}

export async function loadAnchors(io: CliIo, path: string | undefined): Promise<TrustAnchors> {
  if (path === undefined) return PINNED_ANCHORS;
  const text = new TextDecoder().decode(await readInput(io, path, 'anchors'));
  try {
    return parseAnchors(JSON.parse(text));
  } catch (err) {
    const detail = err instanceof ConfigError ? err.fields.join(', ') : err instanceof CcinferError ? err.message : 'not JSON';
    throw new UsageError(`anchors ${path} are invalid: ${detail}`);
  }
}

/** `--cache-dir DIR` / `--no-cache`: where fetched collateral is kept between runs. */
export const cacheOptions = {
  'cache-dir': { type: 'string', arg: 'DIR', help: 'where fetched collateral is kept between runs (verified on every use)', fallback: '$XDG_CACHE_HOME/ccinfer, else ~/.cache/ccinfer' },
  'no-cache': { type: 'boolean', help: 'keep collateral in memory for this run only' },
} as const satisfies FlagTable;

/** Options every `verify` command takes: time, policy, anchors, collateral access and output. */
export const verifyOptions = {
  at: { type: 'string', arg: 'ISO', help: 'verification time, ISO-8601 with a time zone (2025-06-01T00:00:00Z)', fallback: 'now' },
  policy: { type: 'string', arg: 'FILE', help: 'appraisal policy JSON (docs/policy.md)' },
  anchors: { type: 'string', arg: 'FILE', help: 'trust anchors replacing the pinned vendor roots' },
  offline: { type: 'boolean', help: 'fetch nothing: collateral only from the input and the cache' },
  ...cacheOptions,
  json: { type: 'boolean', help: 'print the verification document as JSON' },
} as const satisfies FlagTable;

/**
 * The collateral cache of a command: a DiskCache in `--cache-dir` or the default directory
 * (`$XDG_CACHE_HOME/ccinfer`, `$HOME/.cache/ccinfer`); memory only with `--no-cache` or when the environment
 * names no directory. Cached items are verified like fetched ones.
 */
export function cliCache(io: CliIo, values: { 'cache-dir'?: string | undefined; 'no-cache'?: boolean | undefined }): Cache {
  if (values['no-cache'] && values['cache-dir'] !== undefined) throw new UsageError('--cache-dir and --no-cache exclude each other');
  if (values['cache-dir'] === '') throw new UsageError('--cache-dir needs a directory');
  if (values['no-cache']) return new MemoryCache();
  return defaultDiskCache(values['cache-dir'], io.env) ?? new MemoryCache();
}

/** `--provenance FILE` (a Sigstore bundle for the policy's `snp.provenance`) and `--trusted-root FILE`. */
export const provenanceOptions = {
  provenance: { type: 'string', arg: 'BUNDLE', help: "the release's Sigstore bundle, for the policy's snp.provenance" },
  'trusted-root': { type: 'string', arg: 'FILE', help: 'Sigstore trusted root replacing the shipped one', fallback: 'the shipped public-good root' },
} as const satisfies FlagTable;

async function readJsonFile(io: CliIo, path: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(await readInput(io, path, what)));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${what} ${path} is not JSON`);
  }
}

/**
 * The signed provenance of `--provenance FILE`, verified offline against the shipped Sigstore trusted root or
 * `--trusted-root FILE`. The bundle is read here, never fetched: its provenance is the caller's choice of file.
 */
export async function loadProvenance(
  io: CliIo,
  values: { provenance?: string | undefined; 'trusted-root'?: string | undefined },
): Promise<ProvenanceInput | undefined> {
  if (values.provenance === undefined) {
    if (values['trusted-root'] !== undefined) throw new UsageError('--trusted-root needs --provenance');
    return undefined;
  }
  const bundle = await readJsonFile(io, values.provenance, 'provenance bundle');
  const trustedRoot = values['trusted-root'] === undefined ? undefined : await readJsonFile(io, values['trusted-root'], 'trusted root');
  try {
    return { bundle, verifyBundle: sigstoreBundleVerifier(trustedRoot === undefined ? {} : { trustedRoot }) };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`trusted root ${values['trusted-root']} is invalid: ${err.message}`);
    throw err;
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration flag (`500ms`, `90s`, `15m`, `24h`; a bare number is seconds) in milliseconds, at least `minMs`. */
export function parseDuration(value: string, flag: string, minMs = 0): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  const ms = m ? Number(m[1]) * DURATION_UNITS[m[2] ?? 's']! : NaN;
  if (!Number.isFinite(ms) || ms < minMs || ms > 2 ** 31 - 1) throw new UsageError(`${flag} must be a duration such as 90s, 15m or 24h (at least ${minMs} ms, under 24 days)`);
  return Math.round(ms);
}
