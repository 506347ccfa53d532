/**
 * The configfs-tsm provider against a fake configfs directory: a real temporary directory whose "kernel"
 * (a wrapper around fs) answers a write of inblob by producing outblob, auxblob, provider and generation the
 * way Documentation/ABI/testing/configfs-tsm describes.
 */
import { mkdtemp, mkdir, readFile, rmdir, writeFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CcinferError, concat, encodeBundle, randomBytes, toBase64, utf8 } from '@ccinfer/core';
import { CERT_TABLE_GUID } from '@ccinfer/verifier/internal';
import { encodeReport, signReport, simulatedAmd } from '@ccinfer/verifier/testing';
import { createConfigfsProvider, type TsmFs } from '../../src/gateway/index.js';
import { fakeAppraise } from './fake-appraiser.js';
import { certTable } from './fake-vendors.js';
import { expectCode } from '../../../../test-support/helpers.js';

interface Kernel {
  provider: 'sev_guest' | 'tdx_guest';
  aux: boolean;
  /** Writes by "another process" between our reads, per attempt. */
  races: number;
}

async function fakeConfigfs(k: Kernel): Promise<{ root: string; fs: TsmFs }> {
  const root = await mkdtemp(join(tmpdir(), 'ccinfer-tsm-'));
  const amd = await simulatedAmd('Genoa');
  const leaf = await amd.mintLeaf({ kind: 'vcek' });
  let races = k.races;
  const gen = new Map<string, number>();
  const fs: TsmFs = {
    mkdir: (p) => mkdir(p),
    rmdir: async (p) => {
      for (const f of await readdir(p)) await rm(join(p, f));
      await rmdir(p);
    },
    readFile: async (p) => {
      const data = new Uint8Array(await readFile(p));
      if (basename(p) === 'outblob' && races > 0) {
        races--;
        const d = dirname(p);
        gen.set(d, (gen.get(d) ?? 0) + 1);
        await writeFile(join(d, 'generation'), String(gen.get(d)));
      }
      return data;
    },
    writeFile: async (p, data) => {
      await writeFile(p, data);
      if (basename(p) !== 'inblob') return;
      const d = dirname(p);
      gen.set(d, (gen.get(d) ?? 0) + 1);
      await writeFile(join(d, 'generation'), String(gen.get(d)));
      await writeFile(join(d, 'provider'), `${k.provider}\n`);
      if (k.provider === 'tdx_guest') {
        await writeFile(join(d, 'outblob'), concat(utf8('QUOTE'), data));
        return;
      }
      await writeFile(join(d, 'outblob'), await signReport(encodeReport({ reportData: data }, 'Genoa', 'vcek'), leaf.key));
      await writeFile(
        join(d, 'auxblob'),
        k.aux ? certTable([[CERT_TABLE_GUID.vcek, leaf.der], [CERT_TABLE_GUID.ask, amd.askDer], [CERT_TABLE_GUID.ark, amd.arkDer]]) : new Uint8Array(0),
      );
    },
  };
  return { root, fs };
}

const request = async (): Promise<{ nonce: Uint8Array; keyConfig: Uint8Array }> => ({ nonce: randomBytes(32), keyConfig: utf8('a key config') });

describe('configfs-tsm evidence provider', () => {
  it('SNP: REPORT_DATA is the binding, leaf and chain come from auxblob, the report entry is removed', async () => {
    const { root, fs } = await fakeConfigfs({ provider: 'sev_guest', aux: true, races: 0 });
    const p = createConfigfsProvider({ root, fs });
    const req = await request();
    const b = await p.collect(req);
    expect(b.cpu.tee).toBe('snp');
    if (b.cpu.tee !== 'snp') return;
    expect(b.cpu.report.length).toBe(1184);
    expect(b.cpu.chain?.length).toBe(2);
    expect((await fakeAppraise(encodeBundle(b), req.nonce)).ok).toBe(true);
    expect(await readdir(root)).toEqual([]);
  });

  it('retries when another writer changes generation between write and read', async () => {
    const { root, fs } = await fakeConfigfs({ provider: 'sev_guest', aux: true, races: 2 });
    const req = await request();
    const b = await createConfigfsProvider({ root, fs }).collect(req);
    expect((await fakeAppraise(encodeBundle(b), req.nonce)).ok).toBe(true);
  });

  it('ERR_GATEWAY_GENERATION_RACE when the race never ends', async () => {
    const { root, fs } = await fakeConfigfs({ provider: 'sev_guest', aux: true, races: 99 });
    await expectCode(createConfigfsProvider({ root, fs }).collect(await request()), CcinferError, 'ERR_GATEWAY_GENERATION_RACE');
  });

  it('TDX: the quote is outblob', async () => {
    const { root, fs } = await fakeConfigfs({ provider: 'tdx_guest', aux: false, races: 0 });
    const b = await createConfigfsProvider({ root, fs }).collect(await request());
    expect(b.cpu.tee).toBe('tdx');
    if (b.cpu.tee === 'tdx') expect(new TextDecoder().decode(b.cpu.quote.subarray(0, 5))).toBe('QUOTE');
  });

  it('ERR_GATEWAY_NO_LEAF without auxblob or a configured leaf; a configured leaf is used', async () => {
    const { root, fs } = await fakeConfigfs({ provider: 'sev_guest', aux: false, races: 0 });
    await expectCode(createConfigfsProvider({ root, fs }).collect(await request()), CcinferError, 'ERR_GATEWAY_NO_LEAF');
    const b = await createConfigfsProvider({ root, fs, snpLeaf: utf8('LEAF') }).collect(await request());
    if (b.cpu.tee === 'snp') expect(b.cpu.leaf).toEqual(utf8('LEAF'));
  });

  it('ERR_GATEWAY_CONFIGFS when configfs-tsm is absent', async () => {
    await expectCode(createConfigfsProvider({ root: join(tmpdir(), 'no-such-tsm-dir', 'report') }).collect(await request()), CcinferError, 'ERR_GATEWAY_CONFIGFS');
  });

  it('GPU evidence from a command, nonce passed in hex; devices are bound', async () => {
    const { root, fs } = await fakeConfigfs({ provider: 'sev_guest', aux: true, races: 0 });
    const script = `const n=process.argv.at(-1);console.log(JSON.stringify({evidence_list:[{evidence:Buffer.from('gpu0:'+n).toString('base64'),certificate:Buffer.from('pem').toString('base64')}],switches:[{evidence:Buffer.from('sw0:'+n).toString('base64'),certificate:Buffer.from('pem').toString('base64')}]}))`;
    const req = await request();
    const b = await createConfigfsProvider({ root, fs, gpuCommand: [process.execPath, '-e', script] }).collect(req);
    expect(new TextDecoder().decode(b.gpus[0]!.report)).toBe(`gpu0:${Buffer.from(req.nonce).toString('hex')}`);
    expect(b.switches.length).toBe(1);
    expect((await fakeAppraise(encodeBundle(b), req.nonce)).ok).toBe(true);
  });

  it('ERR_GATEWAY_GPU_COMMAND on a failing command or malformed JSON', async () => {
    const { root, fs } = await fakeConfigfs({ provider: 'sev_guest', aux: true, races: 0 });
    await expectCode(createConfigfsProvider({ root, fs, gpuCommand: [process.execPath, '-e', 'process.exit(3)'] }).collect(await request()), CcinferError, 'ERR_GATEWAY_GPU_COMMAND');
    await expectCode(createConfigfsProvider({ root, fs, gpuCommand: ['x'], run: async () => 'not json' }).collect(await request()), CcinferError, 'ERR_GATEWAY_GPU_COMMAND');
    await expectCode(createConfigfsProvider({ root, fs, gpuCommand: ['x'], run: async () => JSON.stringify([{ evidence: toBase64(utf8('x')) }]) }).collect(await request()), CcinferError, 'ERR_GATEWAY_GPU_COMMAND');
  });
});
