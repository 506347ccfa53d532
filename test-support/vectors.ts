/**
 * Locates the conformance vectors: `test-vectors/` in the repository (real, public vendor-signed evidence; see
 * `test-vectors/README.md`), or the folder `CCINFER_VECTORS` names. A conformance suite never skips: when its
 * vectors are missing, `vectorsDir` throws, so the suite fails to load and the run fails with this message.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The vector folder for one TEE (`snp`, `tdx`, `nvidia`, `peers`, `measure`), or the base folder. */
export function vectorsDir(tee?: string): string {
  const base = process.env['CCINFER_VECTORS'] ?? join(repoRoot, 'test-vectors');
  const dir = tee ? join(base, tee) : base;
  if (!existsSync(dir)) {
    throw new Error(`ccinfer conformance vectors not found at ${dir}: the ${tee ?? ''} conformance suite cannot run (restore test-vectors/ or set CCINFER_VECTORS)`);
  }
  return dir;
}

/** Sub-folders of a vector directory that hold an expected.json. */
export function vectorSets(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => statSync(join(dir, n)).isDirectory() && existsSync(join(dir, n, 'expected.json')))
    .sort();
}

export function readBytes(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(join(...parts)));
}

export function readJson<T = any>(...parts: string[]): T {
  return JSON.parse(readFileSync(join(...parts), 'utf8')) as T;
}

export function readText(...parts: string[]): string {
  return readFileSync(join(...parts), 'utf8');
}

/** Every folder below `dir` (recursively) that holds one device's evidence: report.bin + expected.json. */
export function deviceSets(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    for (const n of readdirSync(p)) {
      const q = join(p, n);
      if (!statSync(q).isDirectory()) continue;
      if (existsSync(join(q, 'report.bin')) && existsSync(join(q, 'expected.json'))) out.push(q.slice(dir.length + 1));
      walk(q);
    }
  };
  walk(dir);
  return out.sort();
}
