/**
 * The README's offline examples run as written: every `$ pnpm exec ccinfer verify … --offline …` line (with
 * the `$ echo '…' > FILE` lines before it) runs against the conformance vectors and must end as the README
 * shows (its verdict line, its SKIP / PASS check ids); and the first contact against `ccinfer pod simulate`
 * runs line by line, with only the pod's URL replaced by the port the test's pod got.
 */
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { vectorsDir } from '../../../../test-support/vectors.js';
import { demoReply } from '../../src/demo/model-server.js';
import { cli, start, waitFor } from './io.js';

const readme = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../../../README.md'), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'ccinfer-readme-'));

/** Shell words of one command line: whitespace-separated, single or double quotes kept together. */
function words(line: string): string[] {
  return (line.match(/'[^']*'|"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^(['"])(.*)\1$/, '$2'));
}

/** README code blocks (``` … ```) as arrays of lines. */
function blocks(): string[][] {
  return [...readme.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!.split('\n'));
}

describe('README examples', () => {
  const snp = vectorsDir('snp');

  it.skipIf(!snp)('offline `ccinfer verify` examples run as written and end as shown', async () => {
    const examples = blocks().filter((b) => b.some((l) => /^\$ pnpm exec ccinfer verify .*--offline/.test(l)));
    expect(examples.length).toBeGreaterThan(0);
    for (const block of examples) {
      const files = new Map<string, string>();
      // Paths resolve like a shell in the vectors folder, except files the example itself writes.
      const path = (w: string): string => files.get(w) ?? (existsSync(join(snp!, w)) ? join(snp!, w) : w);
      for (const line of block) {
        const echo = /^\$ echo '(.*)' > (\S+)$/.exec(line);
        if (echo) {
          const file = join(tmp, echo[2]!);
          writeFileSync(file, echo[1]! + '\n');
          files.set(echo[2]!, file);
          continue;
        }
        if (!/^\$ pnpm exec ccinfer verify /.test(line)) continue;
        const argv = words(line.slice(2)).slice(3).map(path);
        const r = await cli([...argv, '--no-cache']);
        const verdict = block.find((l) => /^(ACCEPTED|REJECTED)/.test(l))!;
        expect(r.code, line).toBe(verdict.startsWith('ACCEPTED') ? 0 : 1);
        expect(r.out).toMatch(new RegExp(`^${verdict.split(' ')[0]}`, 'm'));
        for (const shown of block.filter((l) => /^ {2}(PASS|SKIP|FAIL) {2}/.test(l))) {
          const [status, id] = shown.trim().split(/\s+/);
          expect(r.out, `${line}: ${status} ${id}`).toMatch(new RegExp(`^ {2}${status} {2}${id!.replace(/\./g, '\\.')}\\s`, 'm'));
        }
      }
    }
  });

  it('the first contact against `ccinfer pod simulate` runs line by line', async () => {
    const block = blocks().find((b) => b.some((l) => l.startsWith('pnpm exec ccinfer pod simulate')))!;
    expect(block).toBeDefined();
    const pod = start(['pod', 'simulate', '--listen', '127.0.0.1:0', '--anchors-out', join(tmp, 'sim-anchors.json')]);
    try {
      const url = await waitFor(() => /pod URL +(\S+)/.exec(pod.out())?.[1]);
      const lines = block.filter((l) => l.startsWith('pnpm exec ccinfer ') && !l.includes('pod simulate'));
      expect(lines.map((l) => words(l)[3])).toEqual(['attest', 'policy', 'infer']);
      const codes: number[] = [];
      let last = '';
      for (const line of lines) {
        const argv = words(line.replace(/\s+#.*$/, ''))
          .slice(3)
          .map((w) => w.replace('http://127.0.0.1:8443', url))
          .map((w) => (/^[\w-]+\.(json|cbor)$/.test(w) ? join(tmp, w) : w));
        const r = await cli(argv);
        codes.push(r.code);
        last = r.out;
      }
      expect(codes).toEqual([1, 0, 0]); // refused (unpinned) and saved; pinned; answered
      expect(last).toBe(demoReply('hello') + '\n');
    } finally {
      pod.stop();
      expect(await pod.done).toBe(0);
    }
  });
});
