/**
 * A reader with only the repository can follow every reference: no source file, test, example, benchmark or
 * document cites the design plan or research notes kept outside the repository, and no comment or document
 * points at a path outside it. Design references go to docs/ (docs/README.md). Code may still read test data
 * from a directory outside the repository (the conformance vectors' default location); only prose is checked
 * for that.
 */
import { describe, expect, it } from 'vitest';
import { readRepoFile, sourceFiles } from '../../../../test-support/docs.js';

// Spelled in parts so that this file does not match itself.
const PLAN = ['DESIGN', 'md'].join('.');
const RESEARCH = ['shared', 'research'].join('/');
const OUTSIDE = ['..', 'shared'].join('/');
/** A research note by its short name (`research / NAME.md §3`), which is just as far outside. */
const NOTE = new RegExp(['\\bresearch', '[a-z]+\\.md'].join('/'));

const CODE = ['.ts', '.mts', '.js', '.mjs', '.cjs', '.html', '.c'];
const PROSE = ['.md'];

function files(): string[] {
  const roots = ['packages', 'examples', 'bench', 'test-support', 'scripts', 'tools', 'docs'];
  return [...roots.flatMap((r) => sourceFiles(r, [...CODE, ...PROSE, '.sh', '.json'])), 'README.md', 'CONTRIBUTING.md'];
}

/** Whether the text at `at` on `line` is inside a comment (line or block comment continuation). */
function inComment(line: string, at: number): boolean {
  const trimmed = line.trimStart();
  if (trimmed.startsWith('*') || trimmed.startsWith('/*') || trimmed.startsWith('//') || trimmed.startsWith('#') || trimmed.startsWith('<!--')) return true;
  const slashes = line.indexOf('//');
  return slashes >= 0 && slashes < at && !/['"`]/.test(line.slice(0, slashes).replace(/'[^']*'|"[^"]*"|`[^`]*`/g, ''));
}

function violations(): string[] {
  const out: string[] = [];
  for (const f of files()) {
    const prose = PROSE.some((e) => f.endsWith(e));
    readRepoFile(f).split('\n').forEach((line, i) => {
      const where = `${f}:${i + 1}`;
      if (line.includes(PLAN)) out.push(`${where}: cites ${PLAN}`);
      if (line.includes(RESEARCH) || NOTE.test(line)) out.push(`${where}: cites a research note`);
      const at = line.indexOf(OUTSIDE);
      if (at >= 0 && (prose || inComment(line, at))) out.push(`${where}: points outside the repository`);
    });
  }
  return out;
}

describe('references', () => {
  it('scans the whole tree', () => {
    const all = files();
    for (const f of ['README.md', 'CONTRIBUTING.md', 'docs/README.md', 'packages/core/src/errors.ts', 'bench/run.ts']) expect(all).toContain(f);
  });

  it('detects a citation in a comment but not a path in code', () => {
    expect(inComment(` * see ${PLAN} §4`, 8)).toBe(true);
    expect(inComment(`const dir = join(root, '${OUTSIDE}/vectors');`, 24)).toBe(false);
    expect(inComment(`const dir = x; // from ${OUTSIDE}`, 23)).toBe(true);
    expect(NOTE.test(` * (${['research', 'nvidia.md'].join('/')} §3)`)).toBe(true);
  });

  it('no file cites the design plan, the research notes or a path outside the repository', () => {
    expect(violations()).toEqual([]);
  });
});
