/** Runs examples/weight-gate: the approved pod decrypts the weights, the rogue pod and the same-image pod with other initdata are refused and audited. */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const entry = join(import.meta.dirname, '../../../../examples/weight-gate/index.mjs');

describe('examples/weight-gate', () => {
  it('releases the weights key only to the pod whose evidence passes', async () => {
    const { main } = (await import(pathToFileURL(entry).href)) as { main: (o: { log: (s: string) => void }) => Promise<Record<string, any>> };
    const lines: string[] = [];
    const r = await main({ log: (s) => lines.push(s) });
    expect(r['decrypted']).toBe(true);
    expect(r['rogue'].ok).toBe(false);
    expect(r['rogue'].status).toBe(401);
    expect(r['rogue'].body.type).toBe('https://github.com/confidential-containers/kbs/errors/PolicyDeny');
    expect(r['lookalike'].ok).toBe(false);
    expect(r['lookalike'].status).toBe(401);
    const decisions = r['audit'].filter((e: any) => e.event === 'release' || e.event === 'refusal');
    expect(decisions.map((e: any) => [e.event, e.code])).toEqual([
      ['release', undefined],
      ['refusal', 'ERR_SNP_POLICY_MEASUREMENT'],
      ['refusal', 'ERR_SNP_POLICY_HOST_DATA'],
    ]);
    expect(decisions.every((e: any) => /^[0-9a-f]{64}$/.test(e.documentDigest))).toBe(true);
    expect(lines.some((l) => l.includes('decrypted the weights'))).toBe(true);
  });
});
