/**
 * Reads the design documentation under `docs/` for the tests that keep it in step with the code: every error
 * code the code can produce is in docs/errors.md, every check id it records is in docs/checks.md.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The text of `docs/<page>`. */
export function docsPage(page: string): string {
  return readFileSync(join(repoRoot, 'docs', page), 'utf8');
}

/** Every `code span` of a Markdown text: the form in which the docs name codes and check ids. */
export function codeSpans(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!));
}

/** Files under `dir` (repository-relative paths) whose names end in one of `exts`, skipping build output. */
export function sourceFiles(dir: string, exts: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (abs: string): void => {
    for (const name of readdirSync(abs)) {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
      const p = join(abs, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (exts.some((e) => name.endsWith(e))) out.push(relative(repoRoot, p));
    }
  };
  walk(join(repoRoot, dir));
  return out.sort();
}

/** The text of a repository-relative file. */
export function readRepoFile(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}
