/**
 * The packages as a user gets them: `pnpm pack` each workspace package into a temporary folder, and (for the
 * consumer type tests) install the tarballs into an empty project without a registry — the tarballs extracted
 * into `node_modules/@ccinfer/*`, their third-party dependencies linked to the copies the workspace already has.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PUBLISHED = ['core', 'verifier', 'node', 'browser'] as const;

export interface Packed {
  dir: string;
  /** Package folder name → tarball path. */
  tarballs: Record<string, string>;
}

/** True when every published package has its `dist` (the build ran: `npm run setup`, CI). */
export function built(): boolean {
  return PUBLISHED.every((p) => existsSync(join(REPO, 'packages', p, 'dist', 'index.js')));
}

/** Packs every published package into a new temporary folder. */
export function packAll(): Packed {
  const dir = mkdtempSync(join(tmpdir(), 'ccinfer-pack-'));
  const tarballs: Record<string, string> = {};
  for (const p of PUBLISHED) {
    const before = new Set(readdirSync(dir));
    execFileSync('pnpm', ['pack', '--pack-destination', dir], { cwd: join(REPO, 'packages', p), stdio: 'pipe' });
    const made = readdirSync(dir).filter((f) => f.endsWith('.tgz') && !before.has(f));
    if (made.length !== 1) throw new Error(`pnpm pack in packages/${p} made ${made.length} tarballs`);
    tarballs[p] = join(dir, made[0]!);
  }
  return { dir, tarballs };
}

/** The file list of a tarball (paths under `package/`). */
export function tarballFiles(tgz: string): string[] {
  return execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** One file of a tarball, as text. */
export function tarballFile(tgz: string, path: string): string {
  return execFileSync('tar', ['-xzOf', tgz, `package/${path}`], { encoding: 'utf8' });
}

/**
 * An empty project with the packed packages installed offline: `node_modules/@ccinfer/<name>` from the tarballs,
 * every other dependency (and `extra`, e.g. `openai`, `@types/node`) linked to the workspace's copy.
 */
export function installPacked(packed: Packed, extra: Record<string, string>): string {
  const project = mkdtempSync(join(tmpdir(), 'ccinfer-consumer-'));
  const nm = join(project, 'node_modules');
  const link = (name: string, target: string): void => {
    const at = join(nm, name);
    if (existsSync(at)) return;
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(realpathSync(target), at, 'dir');
  };
  for (const p of PUBLISHED) {
    const at = join(nm, '@ccinfer', p);
    mkdirSync(at, { recursive: true });
    execFileSync('tar', ['-xzf', packed.tarballs[p]!, '-C', at, '--strip-components=1']);
    const manifest = JSON.parse(readFileSync(join(at, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      if (!dep.startsWith('@ccinfer/')) link(dep, join(REPO, 'packages', p, 'node_modules', dep));
    }
  }
  for (const [name, from] of Object.entries(extra)) link(name, join(REPO, from));
  return project;
}
