/**
 * How the CLI reports a failure: the error, then every cause in its chain (the reason a pod could not be
 * reached is usually two causes down: TransportError → TypeError "fetch failed" → the socket error), as text
 * on stderr or, with `--json`, as one JSON object on stdout; and the exit status it maps to (docs/cli.md
 * "Exit status").
 */
import { CcinferError, ConfigError, TransportError } from '@ccinfer/core';
import { anchorHint } from './format.js';
import { EXIT, UsageError } from './types.js';

/** One link of a cause chain, as printed and as in the `--json` error object. */
export interface CauseLink {
  name: string;
  code?: string;
  message: string;
}

/** Codes that mean no evidence was appraised: the pod is not there, or is not a ccinfer gateway. */
const UNREACHABLE_CODES = new Set(['ERR_SESSION_UNREACHABLE', 'ERR_SESSION_NOT_A_POD']);

/** Deep enough for any real chain; a cyclic or hostile `cause` stops here. */
const MAX_CAUSES = 8;

function link(e: unknown): CauseLink {
  if (e instanceof CcinferError) return { name: e.name, code: e.code, message: e.message };
  if (e instanceof Error) {
    const sys = (e as NodeJS.ErrnoException).code;
    return { name: e.name, ...(typeof sys === 'string' ? { code: sys } : {}), message: e.message };
  }
  // A refusal's `cause` is the document's error list: plain `{ code, message }` records, not Error objects.
  const r = e as { code?: unknown; message?: unknown } | null;
  if (typeof r === 'object' && r !== null && typeof r.code === 'string' && typeof r.message === 'string') {
    return { name: 'VerificationError', code: r.code, message: r.message };
  }
  return { name: typeof e, message: String(e) };
}

/** The causes under `err`, outermost first; an array cause (a refusal's error list) contributes each item. */
export function causeChain(err: unknown): CauseLink[] {
  const out: CauseLink[] = [];
  const seen = new Set<unknown>([err]);
  let next: unknown[] = [(err as { cause?: unknown } | undefined)?.cause];
  while (next.length && out.length < MAX_CAUSES) {
    const level: unknown[] = [];
    for (const c of next) {
      if (c === undefined || c === null || seen.has(c)) continue;
      seen.add(c);
      if (Array.isArray(c)) {
        level.push(...c);
        continue;
      }
      if (out.length < MAX_CAUSES) out.push(link(c));
      level.push((c as { cause?: unknown }).cause);
    }
    next = level;
  }
  return out;
}

/** An interrupt: the caller's abort (an `AbortError`), or anything that failed after SIGINT / SIGTERM arrived. */
export function isInterrupt(err: unknown, signal: AbortSignal): boolean {
  return signal.aborted || ((err instanceof Error || err instanceof DOMException) && err.name === 'AbortError');
}

export function exitStatus(err: unknown, signal: AbortSignal): number {
  if (isInterrupt(err, signal)) return EXIT.INTERRUPTED;
  if (err instanceof UsageError || err instanceof ConfigError) return EXIT.USAGE;
  if (err instanceof TransportError && UNREACHABLE_CODES.has(err.code)) return EXIT.UNREACHABLE;
  return EXIT.REJECTED;
}

/** The text printed on stderr: `ccinfer CMD: CODE: message`, then `  caused by: …` per cause. */
export function formatError(command: string, err: unknown, signal: AbortSignal): string {
  if (isInterrupt(err, signal)) return `ccinfer ${command}: interrupted\n`;
  if (err instanceof UsageError) return `ccinfer ${command}: ${err.message}\n`;
  const head = err instanceof CcinferError ? `${err.code}: ${err.message}` : `internal error: ${(err as Error)?.stack ?? String(err)}`;
  const chain = causeChain(err);
  const causes = chain.map((c) => `  caused by: ${c.code ? `${c.code}: ` : `${c.name}: `}${c.message}`);
  const hint = err instanceof TransportError && UNREACHABLE_CODES.has(err.code) ? ['  (no evidence was appraised: check the URL, that the pod is up, and that it runs the ccinfer gateway)'] : [];
  hint.push(...anchorHint(chain.map((c) => c.code)));
  return [`ccinfer ${command}: ${head}`, ...causes, ...hint].join('\n') + '\n';
}

/** The `--json` error object: `{"error": {code, class, message, status?, fields?, causes}}`. */
export function jsonError(err: unknown, signal: AbortSignal): string {
  const interrupted = isInterrupt(err, signal);
  const e = err as Partial<CcinferError> & { fields?: readonly string[]; status?: number };
  const code = interrupted ? 'ABORT_ERR' : err instanceof UsageError ? 'ERR_USAGE' : err instanceof CcinferError ? err.code : 'ERR_INTERNAL';
  const body = {
    code,
    class: interrupted ? 'AbortError' : (e.name ?? 'Error'),
    message: interrupted ? 'interrupted' : (e.message ?? String(err)),
    ...(typeof e.status === 'number' ? { status: e.status } : {}),
    ...(Array.isArray(e.fields) && e.fields.length ? { fields: e.fields } : {}),
    causes: causeChain(err),
  };
  return JSON.stringify({ error: body }, null, 2) + '\n';
}
