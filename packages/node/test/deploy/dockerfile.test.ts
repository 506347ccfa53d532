/**
 * The gateway image (packages/node/Dockerfile). Docker is not available where the tests run, so the Dockerfile is
 * parsed (instructions, line continuations, exec-form JSON) and its essentials checked: Node 20 slim, one stage,
 * built from the packed tarballs, non-root, writes only to declared volumes, the ccinfer CLI as entry point.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const pkgDir = join(import.meta.dirname, '../..');
const repo = join(pkgDir, '../..');

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile syntax: `#` comment lines, `\` continues an instruction, the first word is the keyword. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^([A-Za-z]+)\s+(.*)$/s.exec(full);
    if (!m) throw new Error(`not an instruction: ${full}`);
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim() });
  }
  if (pending !== '') throw new Error('dangling line continuation');
  return out;
}

const all = (ins: Instruction[], keyword: string): string[] => ins.filter((i) => i.keyword === keyword).map((i) => i.args);
const execForm = (args: string): string[] => {
  const v = JSON.parse(args) as unknown;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`not exec form: ${args}`);
  return v as string[];
};

describe('gateway Dockerfile', () => {
  const text = readFileSync(join(pkgDir, 'Dockerfile'), 'utf8');
  const ins = parseDockerfile(text);

  it('one stage from Node 20 slim', () => {
    const from = all(ins, 'FROM');
    expect(from).toHaveLength(1);
    expect(from[0]).toMatch(/^node:20(\.\d+){0,2}(-[a-z]+)?-slim(@sha256:[0-9a-f]{64})?$/);
  });

  it('built from the packed core, verifier and node tarballs, production dependencies only', () => {
    const copies = all(ins, 'COPY').join(' ');
    for (const p of ['core', 'verifier', 'node']) expect(copies).toContain(`ccinfer-${p}-*.tgz`);
    expect(all(ins, 'ADD')).toEqual([]); // no remote or auto-extracted sources
    const install = all(ins, 'RUN').find((r) => r.includes('npm install'));
    expect(install).toBeDefined();
    expect(install).toContain('--omit=dev');
    for (const p of ['core', 'verifier', 'node']) expect(install).toContain(`./ccinfer-${p}-*.tgz`);
  });

  it('runs as a numeric non-root user, after every RUN', () => {
    const users = ins.map((i, n) => ({ ...i, n })).filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const last = users[users.length - 1]!;
    const [uid, gid] = last.args.split(':');
    expect(uid).toMatch(/^\d+$/); // numeric, so Kubernetes runAsNonRoot can verify it
    expect(Number(uid)).toBeGreaterThan(0);
    if (gid !== undefined) expect(Number(gid)).toBeGreaterThan(0);
    expect(ins.slice(last.n).some((i) => i.keyword === 'RUN')).toBe(false);
  });

  it('read-only root filesystem: HOME and the collateral cache live on declared volumes', () => {
    const volumes = all(ins, 'VOLUME').flatMap(execForm);
    expect(volumes).toEqual(expect.arrayContaining(['/var/lib/ccinfer', '/tmp']));
    const env = all(ins, 'ENV').join(' ');
    for (const name of ['HOME', 'XDG_CACHE_HOME']) {
      const value = new RegExp(`${name}=(\\S+)`).exec(env)?.[1];
      expect(value, name).toBeDefined();
      expect(volumes.some((v) => value === v || value!.startsWith(`${v}/`))).toBe(true);
    }
  });

  it('the ccinfer CLI is the entry point, exposing the gateway port', () => {
    const entry = all(ins, 'ENTRYPOINT');
    expect(entry).toHaveLength(1);
    const argv = execForm(entry[0]!);
    const bin = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['ccinfer'];
    expect(argv).toEqual(['node', `/opt/ccinfer/node_modules/@ccinfer/node/${bin!.replace(/^\.\//, '')}`]);
    expect(all(ins, 'WORKDIR')).toEqual(['/opt/ccinfer']);
    expect(all(ins, 'EXPOSE')).toEqual(['8443']);
  });

  it('the parser refuses what it cannot read', () => {
    expect(() => parseDockerfile('FROM x \\')).toThrow();
    expect(() => parseDockerfile('NOTANINSTRUCTION')).toThrow();
    expect(() => execForm('node cli.js')).toThrow();
  });
});

describe('scripts/build-gateway-image.sh', () => {
  it('is executable, packs the three packages and builds with the Dockerfile', () => {
    const path = join(repo, 'scripts/build-gateway-image.sh');
    expect(statSync(path).mode & 0o111).not.toBe(0);
    const script = readFileSync(path, 'utf8');
    expect(script).toMatch(/^#!\/usr\/bin\/env bash\n/);
    expect(script).toContain('set -euo pipefail');
    expect(script).toContain('for pkg in core verifier node; do');
    expect(script).toContain('pnpm --filter "@ccinfer/$pkg" pack --pack-destination "$context"');
    expect(script).toContain('cp packages/node/Dockerfile "$context/"');
    expect(script).toMatch(/build --tag "\$tag" "\$context"/);
  });
});
