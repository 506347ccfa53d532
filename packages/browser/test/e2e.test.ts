/**
 * End to end in Chromium against the simulated gateway on 127.0.0.1, from the minified bundle: verify, then
 * an encrypted streamed chat and an encrypted file upload; a tampered pod refused with no upload byte sent;
 * collateral from a proxy, an offline file made by `ccinfer collateral fetch`, and IndexedDB.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ChunkedRequestDecoder, concat, encodeBundle, encodeKeyConfig, generateGatewayKey, type EvidenceBundle } from '@ccinfer/core';
import { crlUrl } from '@ccinfer/verifier';
import { runCli } from '@ccinfer/node/cli';
import { createGateway, type Gateway } from '@ccinfer/node/gateway';
import { createSimulatedProvider, startModelServer, type ModelServer, type SimulatedProvider } from '@ccinfer/node/simulator';
import { demoReply } from '../../node/src/demo/model-server.js';
import { startPodApp, type PodApp } from './pod-app.js';
import { launchChromium, openPage, serve, skipBrowser, type TestServer } from './harness.js';

interface Pod {
  provider: SimulatedProvider;
  gateway: Gateway;
  site: TestServer;
  page: Page;
  errors: string[];
  requests: string[];
}

let browser: Browser;
let model: ModelServer;
let app: PodApp;
const pods: Pod[] = [];

async function pod(mutate?: (b: EvidenceBundle) => EvidenceBundle, routes?: NonNullable<Parameters<typeof serve>[0]>['routes']): Promise<Pod> {
  const provider = await createSimulatedProvider(mutate ? { mutate } : {});
  const gateway = await createGateway({ upstream: app.url, evidence: provider });
  const { url } = await gateway.listen(0, '127.0.0.1');
  const site = await serve({ pod: url, ...(routes ? { routes } : {}) });
  const { page, errors, requests } = await openPage(browser, site.url);
  const p = { provider, gateway, site, page, errors, requests };
  pods.push(p);
  return p;
}

const withoutCrl = (b: EvidenceBundle): EvidenceBundle => {
  const { collateral: _c, ...rest } = b;
  return rest;
};

describe.skipIf(skipBrowser)('browser client ↔ simulated gateway in Chromium', () => {
  beforeAll(async () => {
    model = await startModelServer({ tokenDelayMs: 15 });
    app = await startPodApp(model.url);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    for (const p of pods) {
      expect(p.errors).toEqual([]);
      await p.gateway.close();
      await p.site.close();
    }
    await browser?.close();
    app?.close();
    await model?.close();
  });

  it('verifies the pod, then streams an encrypted chat; the same events as the Node client', async () => {
    const { provider, page, gateway } = await pod();
    const out = await page.evaluate(async ({ anchors }) => {
      const cc = (window as any).cc;
      const client = cc.createSecureClient({ endpoint: location.origin, allowUnpinnedMeasurements: true, policy: cc.parsePolicy({ version: 1, gpu: { count: { min: 0 } } }), anchors });
      const events: string[] = [];
      client.on('attesting', () => events.push('attesting')).on('attested', () => events.push('attested'));
      const stream = await client.infer({ model: 'ccinfer-demo-1', messages: [{ role: 'user', content: 'stream please' }], stream: true });
      let text = '';
      const times: number[] = [];
      for await (const e of stream) {
        text += e.choices[0].delta.content ?? '';
        times.push(performance.now());
      }
      const ev = client.exportEvidence();
      return { text, events, spread: times.at(-1)! - times[0]!, n: times.length, ok: ev.document.ok, warnings: ev.document.warnings, checks: ev.document.checks.map((c: any) => `${c.id}:${c.status}`) };
    }, { anchors: provider.anchors });
    expect(out.text).toBe(demoReply('stream please'));
    expect(out.events).toEqual(['attesting', 'attested']);
    expect(out.ok).toBe(true);
    expect(out.checks).toEqual(expect.arrayContaining(['bundle.decode:passed', 'nonce.echo:passed', 'snp.signature:passed', 'binding.reportData:passed']));
    expect(out.warnings.join(' ')).toMatch(/SIMULATED/);
    // Tokens arrive over time (~20 tokens, 15 ms apart), not in one piece at the end.
    expect(out.n).toBeGreaterThan(10);
    expect(out.spread).toBeGreaterThan(100);
    expect(gateway.stats.ohttp).toBe(1);
  });

  it('verify before upload: a 1.5 MiB file is sealed, uploaded with progress, and arrives intact in the pod', async () => {
    const { provider, page, gateway, site } = await pod();
    const before = app.uploads.length;
    const out = await page.evaluate(async ({ anchors }) => {
      const cc = (window as any).cc;
      const size = 1536 * 1024 + 123;
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, Math.min(size, i + 65536)));
      data.set(new TextEncoder().encode('CCINFER-PLAINTEXT-MARKER'), 0);
      const file = new File([data], 'scan.bin', { type: 'application/x-test' });
      const client = cc.createSecureClient({ endpoint: location.origin, allowUnpinnedMeasurements: true, policy: cc.parsePolicy({ version: 1, gpu: { count: { min: 0 } } }), anchors });
      const log: string[] = [];
      client.on('attested', () => log.push('verified'));
      const res = await client.upload(file, { onProgress: (p: any) => log.push(`${p.phase} ${p.percent}%`) });
      return { status: res.status, body: await res.json(), sha256: cc.toHex(await cc.sha256(data)), size, log };
    }, { anchors: provider.anchors });
    expect(out.status).toBe(201);
    expect(out.body).toEqual({ bytes: out.size, sha256: out.sha256, type: 'application/x-test' });
    expect(app.uploads.length).toBe(before + 1);
    // Verified first; then sealing and uploading progress, each rising to 100 %.
    expect(out.log[0]).toBe('verified');
    const pct = (phase: string) => out.log.filter((l: string) => l.startsWith(phase)).map((l: string) => Number(l.split(' ')[1]!.replace('%', '')));
    // Sealing reports every 64 KiB chunk; XMLHttpRequest reports network progress at its own pace (on
    // loopback often once, at 100 %).
    expect(pct('sealing').length).toBeGreaterThan(20);
    for (const phase of ['sealing', 'uploading']) {
      const p = pct(phase);
      expect(p.at(-1)).toBe(100);
      expect([...p].sort((a, b) => a - b)).toEqual(p);
    }
    expect(out.log.findIndex((l: string) => l.startsWith('uploading'))).toBeGreaterThan(out.log.lastIndexOf('sealing 100%'));
    // What crossed the network was ciphertext: more bytes than the file, and no plaintext marker.
    const ohttp = site.forwarded.filter((f) => f.path === '/.well-known/ccinfer/ohttp');
    expect(ohttp).toHaveLength(1);
    expect(ohttp[0]!.bytes).toBeGreaterThan(out.size);
    expect(gateway.stats.ohttpBytes).toBe(ohttp[0]!.bytes);
    expect(Buffer.concat(ohttp[0]!.body).includes('CCINFER-PLAINTEXT-MARKER')).toBe(false);
  });

  it('where the page cannot stream (HTTP/1.1), a file larger than partSize goes in sequential encrypted parts through the Uploads API', async () => {
    const { provider, page, site } = await pod();
    const partsBefore = app.parts.length;
    const out = await page.evaluate(async ({ anchors }) => {
      const cc = (window as any).cc;
      const size = 1024 * 1024 + 5;
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, Math.min(size, i + 65536)));
      const client = cc.createSecureClient({ endpoint: location.origin, allowUnpinnedMeasurements: true, policy: cc.parsePolicy({ version: 1, gpu: { count: { min: 0 } } }), anchors });
      const log: number[] = [];
      const res = await client.upload(new File([data], 'big.bin', { type: 'application/x-test' }), { partSize: 256 * 1024, onProgress: (p: any) => p.phase === 'uploading' && log.push(p.loaded) });
      return { status: res.status, body: await res.json(), sha256: cc.toHex(await cc.sha256(data)), size, log, streams: cc.canStreamRequests(location.origin) };
    }, { anchors: provider.anchors });
    // The test page is plain http: no request streams, so parts.
    expect(out.streams).toBe(false);
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({ status: 'completed', file: { bytes: out.size, sha256: out.sha256, type: 'application/x-test' } });
    expect(app.parts.slice(partsBefore)).toEqual([262144, 262144, 262144, 262144, 5]);
    // Progress covers the whole file, rising, across the parts.
    expect(out.log.at(-1)).toBe(out.size);
    expect([...out.log].sort((a, b) => a - b)).toEqual(out.log);
    // create, five parts, complete: each an encrypted request; no request carried the whole file.
    const ohttp = site.forwarded.filter((f) => f.path === '/.well-known/ccinfer/ohttp');
    expect(ohttp).toHaveLength(7);
    expect(Math.max(...ohttp.map((f) => f.bytes))).toBeLessThan(256 * 1024 + 4096);
  });

  it('a tampered pod is refused: no upload byte is sealed or sent', async () => {
    const { provider, page, gateway, site } = await pod((b) => {
      const cpu = b.cpu as Extract<EvidenceBundle['cpu'], { tee: 'snp' }>;
      const report = cpu.report.slice();
      report[0x90]! ^= 0x01; // MEASUREMENT: the signature no longer covers the report
      return { ...b, cpu: { ...cpu, report } };
    });
    const before = app.uploads.length;
    const out = await page.evaluate(async ({ anchors }) => {
      const cc = (window as any).cc;
      const client = cc.createSecureClient({ endpoint: location.origin, allowUnpinnedMeasurements: true, policy: cc.parsePolicy({ version: 1, gpu: { count: { min: 0 } } }), anchors });
      const rejected: string[] = [];
      client.on('rejected', (e: any) => rejected.push(...(e.document?.errors.map((x: any) => x.code) ?? [])));
      const progress: unknown[] = [];
      try {
        await client.upload(new Blob([new Uint8Array(200_000)]), { onProgress: (p: unknown) => progress.push(p) });
        return { threw: false };
      } catch (e: any) {
        return { threw: true, name: e.name, code: e.code, isVerificationError: e instanceof cc.VerificationError, rejected, progress: progress.length };
      }
    }, { anchors: provider.anchors });
    expect(out).toEqual({ threw: true, name: 'VerificationError', code: 'ERR_SESSION_REJECTED', isVerificationError: true, rejected: ['ERR_SNP_SIGNATURE_INVALID'], progress: 0 });
    expect(gateway.stats.ohttp).toBe(0);
    expect(gateway.stats.ohttpBytes).toBe(0);
    expect(site.forwarded.map((f) => f.path)).toEqual(['/.well-known/ccinfer/attest']);
    expect(app.uploads.length).toBe(before);
  });

  it('sealFor: only the attested pod opens it; a document that is not ok is refused (ERR_UPLOAD_NOT_ATTESTED)', async () => {
    const { provider, page, gateway } = await pod();
    const out = await page.evaluate(async ({ anchors }) => {
      const cc = (window as any).cc;
      const client = cc.createSecureClient({ endpoint: location.origin, allowUnpinnedMeasurements: true, policy: cc.parsePolicy({ version: 1, gpu: { count: { min: 0 } } }), anchors });
      const doc = await client.attest();
      const sealed = await cc.sealFor(doc, new TextEncoder().encode('model key: 0123456789abcdef'));
      let refused: unknown;
      try {
        await cc.sealFor({ ...doc, ok: false }, new Uint8Array(1));
      } catch (e: any) {
        refused = { isVerificationError: e instanceof cc.VerificationError, code: e.code };
      }
      return { sealed: cc.toBase64(sealed), refused };
    }, { anchors: provider.anchors });
    expect(out.refused).toEqual({ isVerificationError: true, code: 'ERR_UPLOAD_NOT_ATTESTED' });
    const dec = new ChunkedRequestDecoder((id) => (id === gateway.key.config.keyId ? gateway.key : undefined));
    const plain = concat(...(await dec.push(new Uint8Array(Buffer.from(out.sealed, 'base64')))), await dec.finish());
    expect(new TextDecoder().decode(plain)).toBe('model key: 0123456789abcdef');
  });

  describe('collateral without CORS (a bundle without the AMD CRL)', () => {
    it('without a source the appraisal fails closed with ERR_SNP_CRL_UNAVAILABLE and nothing is fetched cross-origin', async () => {
      const { provider, page, site, requests } = await pod(withoutCrl);
      const codes = await page.evaluate(async ({ anchors }) => {
        const cc = (window as any).cc;
        const client = cc.createSecureClient({ endpoint: location.origin, allowUnpinnedMeasurements: true, policy: cc.parsePolicy({ version: 1, gpu: { count: { min: 0 } } }), anchors });
        const doc = await client.attest().catch((e: any) => e.cause);
        return doc.map((x: any) => x.code);
      }, { anchors: provider.anchors });
      expect(codes).toEqual(['ERR_SNP_CRL_UNAVAILABLE']);
      expect(requests.filter((u) => !u.startsWith(site.url + '/'))).toEqual([]);
    });

    it('through a collateral proxy (URL template with {url})', async () => {
      let crl: Uint8Array | undefined;
      const asked: string[] = [];
      const { provider, page } = await pod(withoutCrl, {
        '/collateral': (req, res) => {
          asked.push(new URL(req.url!, 'http://x').searchParams.get('u') ?? '');
          res.writeHead(200, { 'content-type': 'application/pkix-crl' });
          res.end(crl);
        },
      });
      crl = await provider.material.amd.mintCrl();
      const ok = await page.evaluate(async ({ anchors }) => {
        const cc = (window as any).cc;
        const client = cc.createSecureClient({ endpoint: location.origin, allowUnpinnedMeasurements: true, policy: cc.parsePolicy({ version: 1, gpu: { count: { min: 0 } } }), anchors, collateralProxy: location.origin + '/collateral?u={url}' });
        return (await client.attest()).ok;
      }, { anchors: provider.anchors });
      expect(ok).toBe(true);
      expect(asked).toEqual([crlUrl('Genoa', 'vcek')]);
    });

    it('from an offline file written by `ccinfer collateral fetch`, kept in IndexedDB across page loads', async () => {
      const { provider, page, site } = await pod(withoutCrl);
      const crl = await provider.material.amd.mintCrl();
      // The CLI, given a saved bundle, fetches what it lacks (here from a fake KDS) and writes one file.
      const dir = mkdtempSync(join(tmpdir(), 'ccinfer-collateral-'));
      const bundle = await provider.collect({ nonce: new Uint8Array(32).fill(7), keyConfig: encodeKeyConfig((await generateGatewayKey(1)).config) });
      const bundleFile = join(dir, 'bundle.cbor');
      const anchorsFile = join(dir, 'anchors.json');
      const outFile = join(dir, 'collateral.json');
      writeFileSync(bundleFile, encodeBundle(bundle));
      writeFileSync(anchorsFile, JSON.stringify(provider.anchors));
      const fetched: string[] = [];
      const kds = async (url: string): Promise<Response> => {
        fetched.push(url);
        return new Response(crl as Uint8Array<ArrayBuffer>, { status: 200 });
      };
      let stdout = '';
      const code = await runCli(['collateral', 'fetch', bundleFile, '--out', outFile, '--anchors', anchorsFile], {
        stdout: (s) => void (stdout += s),
        stderr: () => undefined,
        readFile: async (p) => new Uint8Array(readFileSync(p)),
        writeFile: async (p, d) => writeFileSync(p, d),
        fetcher: kds,
        env: {},
        signal: new AbortController().signal,
      });
      expect(code).toBe(0);
      expect(fetched).toEqual([crlUrl('Genoa', 'vcek')]);
      const file = readFileSync(outFile, 'utf8');
      expect(JSON.parse(file).entries.map((e: any) => e.key)).toEqual([crlUrl('Genoa', 'vcek')]);

      const first = await page.evaluate(async ({ anchors, file }) => {
        const cc = (window as any).cc;
        const client = cc.createSecureClient({ endpoint: location.origin, allowUnpinnedMeasurements: true, policy: cc.parsePolicy({ version: 1, gpu: { count: { min: 0 } } }), anchors, collateralFile: file, indexedDb: 'ccinfer-e2e' });
        return (await client.attest()).ok;
      }, { anchors: provider.anchors, file });
      expect(first).toBe(true);
      // A reload: no file this time, the CRL comes from IndexedDB.
      await page.reload();
      await page.waitForFunction(() => (window as any).ccReady === true);
      const second = await page.evaluate(async ({ anchors }) => {
        const cc = (window as any).cc;
        const client = cc.createSecureClient({ endpoint: location.origin, allowUnpinnedMeasurements: true, policy: cc.parsePolicy({ version: 1, gpu: { count: { min: 0 } } }), anchors, indexedDb: 'ccinfer-e2e' });
        return (await client.attest()).ok;
      }, { anchors: provider.anchors });
      expect(second).toBe(true);
      expect(site.forwarded.filter((f) => f.path.endsWith('/attest'))).toHaveLength(2);
    });

    it('IndexedDbCache: entries round-trip; an unopenable database is ERR_IDB_FAILED', async () => {
      const { page } = await pod();
      const out = await page.evaluate(async () => {
        const cc = (window as any).cc;
        const c = await cc.IndexedDbCache.open('ccinfer-idb-test');
        await c.set('k', { value: new Uint8Array([1, 2, 3]), expiresAt: 42 });
        const got = await c.get('k');
        await c.delete('k');
        const gone = await c.get('k');
        c.close();
        // A database already at version 5 cannot be opened at version 1 (IndexedDB VersionError).
        await new Promise((r) => {
          const o = indexedDB.open('ccinfer-idb-v5', 5);
          o.onsuccess = () => {
            o.result.close();
            r(undefined);
          };
        });
        let failed: unknown;
        try {
          await cc.IndexedDbCache.open('ccinfer-idb-v5');
        } catch (e: any) {
          failed = { isCollateralError: e instanceof cc.CollateralError, code: e.code };
        }
        return { got: { value: Array.from(got.value), expiresAt: got.expiresAt }, gone: gone === undefined, failed };
      });
      expect(out).toEqual({ got: { value: [1, 2, 3], expiresAt: 42 }, gone: true, failed: { isCollateralError: true, code: 'ERR_IDB_FAILED' } });
    });
  });
});
