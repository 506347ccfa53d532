/** Human-readable rendering of a verification document: one line per check, then the verdict. */
import type { Check, VerificationDocument } from '@ccinfer/core';

const MARK: Record<Check['status'], string> = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' };

export function formatCheck(c: Check, width = 28): string {
  const detail = c.status === 'failed' ? `${c.code}: ${c.detail ?? ''}` : c.detail ?? '';
  return `  ${MARK[c.status]}  ${c.id.padEnd(width)} ${detail}`.trimEnd();
}

/**
 * Codes that mean collateral, or a certificate that signs it, outside its validity window at the verification
 * time (docs/errors.md): saved evidence verifies at a time inside that window.
 */
const OUT_OF_WINDOW = /_(COLLATERAL_EXPIRED|COLLATERAL_NOT_YET_VALID|CRL_EXPIRED|CERT_EXPIRED|STALE)$|^ERR_X509_(EXPIRED|NOT_YET_VALID)$/;

/** Codes that name the trust anchors as the reason: a simulated pod needs the simulator's anchors file. */
const UNTRUSTED_ROOT = new Set(['ERR_X509_UNTRUSTED_ROOT']);

/** The hint for a refusal whose codes include an untrusted root (text output of documents and errors alike). */
export function anchorHint(codes: readonly (string | undefined)[]): string[] {
  if (!codes.some((c) => c !== undefined && UNTRUSTED_ROOT.has(c))) return [];
  return ['  hint: the evidence does not chain to a pinned vendor root. A simulated pod (`ccinfer pod simulate`, the demo) is signed by its own roots: pass the anchors file it printed with --anchors.'];
}

export function formatDocument(doc: VerificationDocument, title: string): string {
  const width = Math.max(20, ...doc.checks.map((c) => c.id.length));
  const lines = [title, ...doc.checks.map((c) => formatCheck(c, width))];
  for (const w of doc.warnings) lines.push(`  warning: ${w}`);
  for (const e of doc.errors.filter((e) => !doc.checks.some((c) => c.code === e.code))) lines.push(`  error: ${e.code}: ${e.message}`);
  if (!doc.ok && doc.errors.some((e) => OUT_OF_WINDOW.test(e.code))) {
    lines.push('  hint: collateral or a certificate outside its validity window (shown above) at the verification time. For evidence and collateral saved earlier, verify at a time inside that window with --at ISO; for fresh evidence, fetch current collateral (drop --offline / --collateral).');
  }
  if (!doc.ok) lines.push(...anchorHint(doc.errors.map((e) => e.code)));
  lines.push(doc.ok ? `ACCEPTED (${doc.tee}, verified at ${doc.verifiedAt})` : `REJECTED: ${[...new Set(doc.errors.map((e) => e.code))].join(', ')}`);
  return lines.join('\n') + '\n';
}

export function printDocument(doc: VerificationDocument, json: boolean, title: string, out: (s: string) => void): number {
  out(json ? JSON.stringify(doc, null, 2) + '\n' : formatDocument(doc, title));
  return doc.ok ? 0 : 1;
}
