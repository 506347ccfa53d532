/**
 * Browser figures, measured in the same run as the peers':
 *  - gzip -9 size of the whole browser client (`@ccinfer/browser`: every TEE, sessions, uploads) and of a
 *    verifier-only application entry, each bundled for the browser with esbuild (minified ESM, platform
 *    browser, no Node built-ins: packages/browser/build/bundle.ts);
 *  - the same for @tinfoilsh/verifier (`export *`) and @phala/dcap-qvl (`verify`, `Quote`), built as each
 *    peer's own documentation describes (whole library, minified);
 *  - appraisal time inside Debian's Chromium (playwright-core) of one SNP report + chain, one TDX quote +
 *    collateral and one H200 GPU report + driver RIM from test-vectors, cold (key cache cleared each run),
 *    median of 30 runs after 5 warm-ups; and the peers on the same SNP / TDX evidence in the same page.
 * Without Chromium (or with SKIP_BROWSER_TESTS=1) the timing cases are left out with one line.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { bundleOptions, ENTRY } from '../../packages/browser/build/bundle.js';
import type { BenchCase } from '../types.js';

const VECTORS = process.env['CCINFER_VECTORS'] ?? join(import.meta.dirname, '../../test-vectors');
const BROWSER_PKG = join(import.meta.dirname, '../../packages/browser');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const out = mkdtempSync(join(tmpdir(), 'ccinfer-bench-browser-'));

interface Built {
  file: string;
  gzip: number;
}

async function bundle(name: string, contents: string | undefined, resolveDir: string, extra: Record<string, unknown> = {}): Promise<Built> {
  const file = join(out, `${name}.js`);
  const o = bundleOptions(ENTRY, file);
  if (contents !== undefined) {
    delete o['entryPoints'];
    o['stdin'] = { contents, resolveDir, loader: 'ts', sourcefile: `${name}.ts` };
  }
  await build({ ...o, ...extra } as Parameters<typeof build>[0]);
  return { file, gzip: gzipSync(readFileSync(file), { level: 9 }).length };
}

let builds: Promise<Record<'client' | 'timed' | 'verifierOnly' | 'tinfoil' | 'dcap', Built>> | undefined;
const built = () =>
  (builds ??= (async () => {
    const client = await bundle('ccinfer-client', undefined, BROWSER_PKG);
    // The timed page also needs the key cache cleared between runs (cold); it is not a public export.
    const timed = await bundle('ccinfer-client-timed', "export * from '@ccinfer/browser'; export { clearKeyCache } from '@ccinfer/verifier/internal';", BROWSER_PKG);
    const verifierOnly = await bundle('ccinfer-verifier-only', "export { appraise, verifySnp, verifyTdx, verifyGpu, fromBase64, parsePolicy } from '@ccinfer/browser';", BROWSER_PKG);
    // Peers: no Node-built-in guard (they are not ours); the flags peers.md §5.3 needed.
    const peer = { plugins: [], conditions: ['browser', 'import', 'module', 'default'] };
    const tinfoil = await bundle('tinfoil-verifier', "export * from '@tinfoilsh/verifier';", import.meta.dirname, { ...peer, external: ['zlib'] });
    const dcap = await bundle('dcap-qvl', "export { verify, Quote } from '@phala/dcap-qvl';", import.meta.dirname, peer);
    return { client, timed, verifierOnly, tinfoil, dcap };
  })());

const b64 = (f: string): string => readFileSync(f).toString('base64');

/** Runs `body` (a function source evaluated in the page with the bundle imported as `m`) in Chromium. */
async function inChromium(bundleFile: string, body: string, arg: unknown): Promise<number> {
  const { chromium } = await import('playwright-core');
  const js = readFileSync(bundleFile);
  const server = createServer((req, res) => {
    if (req.url === '/m.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(js);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><script type="module">import * as m from "/m.js"; window.m = m;</script>');
    }
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => (window as unknown as { m?: unknown }).m !== undefined);
    return await page.evaluate(
      async ({ body, arg }) => {
        // Peers must not reach the network either.
        window.fetch = () => Promise.reject(new Error('network disabled in the bench'));
        const run = new Function('m', 'arg', `return (async () => { ${body} })()`) as (m: unknown, a: unknown) => Promise<() => Promise<void>>;
        const once = await run((window as unknown as { m: unknown }).m, arg);
        for (let i = 0; i < 5; i++) await once();
        const t: number[] = [];
        for (let i = 0; i < 30; i++) {
          const s = performance.now();
          await once();
          t.push(performance.now() - s);
        }
        t.sort((a, b) => a - b);
        return (t[14]! + t[15]!) / 2;
      },
      { body, arg },
    );
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
  }
}

const ms = (v: number) => ({ value: Number(v.toFixed(3)), unit: 'ms' });
const size = (v: number) => ({ value: v, unit: 'B gzip -9' });

export async function cases(): Promise<BenchCase[]> {
  const cs: BenchCase[] = [
    { name: 'browser.bundle.gzipBytes', title: '@ccinfer/browser whole client (SNP+TDX+GPU, sessions, uploads), minified ESM; budget 110 KB', measure: async () => size((await built()).client.gzip) },
    { name: 'browser.verifierOnly.gzipBytes', title: 'application entry importing appraise/verifySnp/verifyTdx/verifyGpu only', measure: async () => size((await built()).verifierOnly.gzip) },
    { name: 'peer.tinfoil.browser.gzipBytes', title: '@tinfoilsh/verifier 1.1.0, export * (esbuild, --external:zlib)', measure: async () => size((await built()).tinfoil.gzip) },
    { name: 'peer.dcapqvl.browser.gzipBytes', title: '@phala/dcap-qvl 0.3.9, export { verify, Quote }', measure: async () => size((await built()).dcap.gzip) },
  ];
  const skip = process.env['SKIP_BROWSER_TESTS'] === '1' ? 'SKIP_BROWSER_TESTS=1' : !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : undefined;
  if (skip) {
    console.error(`browser.* timings skipped: ${skip}`);
    return cs;
  }
  const snpDir = join(VECTORS, 'snp/tinfoil-genoa-v3-bundle');
  const tdxDir = join(VECTORS, 'tdx/s2-b0c06f-2025-06');
  const gpuDir = join(VECTORS, 'nvidia/h200-595.71.05-tinfoil-nras-tdxbind');
  const snp = { report: b64(join(snpDir, 'report.bin')), leaf: b64(join(snpDir, 'vcek.der')), chain: readFileSync(join(snpDir, 'cert_chain.pem'), 'utf8') };
  const tdxFiles = { tcbInfo: 'tcb_info.json', tcbInfoIssuerChain: 'tcb_info_issuer_chain.pem', qeIdentity: 'qe_identity.json', qeIdentityIssuerChain: 'qe_identity_issuer_chain.pem', pckCrl: 'pck_crl.der', rootCaCrl: 'root_ca_crl.der' };
  const tdx = { quote: b64(join(tdxDir, 'quote_dcapqvl_uptodate.bin')), collateral: Object.fromEntries(Object.entries(tdxFiles).map(([k, f]) => [k, b64(join(tdxDir, f))])) };
  const gpu = {
    report: b64(join(gpuDir, 'report.bin')),
    chain: readFileSync(join(gpuDir, 'cert_chain.pem'), 'utf8'),
    nonce: readFileSync(join(gpuDir, 'nonce.txt'), 'utf8').trim(),
    rim: b64(join(gpuDir, 'rims/NV_GPU_DRIVER_GH100_595.71.05.xml')),
  };
  const ours = (body: string, arg: unknown) => async () => ms(await inChromium((await built()).timed.file, body, arg));
  cs.push(
    {
      name: 'browser.snp',
      title: 'in Chromium: verifySnp, real Genoa report + VCEK→ASK→ARK, cold (tinfoil-genoa-v3-bundle)',
      measure: ours(
        `const ev = { report: m.fromBase64(arg.report), leaf: m.fromBase64(arg.leaf), chain: arg.chain };
         const now = new Date('2026-11-28T00:00:00Z');
         return async () => { m.clearKeyCache(); const d = await m.verifySnp(ev, { now, policy: { revocation: 'allow-unavailable' } }); if (!d.ok) throw new Error(JSON.stringify(d.errors)); };`,
        snp,
      ),
    },
    {
      name: 'browser.tdx',
      title: 'in Chromium: verifyTdx, real quote + Intel PCS collateral, cold (s2-b0c06f-2025-06)',
      measure: ours(
        `const q = m.fromBase64(arg.quote); const collateral = Object.fromEntries(Object.entries(arg.collateral).map(([k, v]) => [k, m.fromBase64(v)]));
         const now = new Date('2025-07-01T00:00:00Z');
         return async () => { m.clearKeyCache(); const d = await m.verifyTdx(q, { now, collateral }); if (!d.ok) throw new Error(JSON.stringify(d.errors)); };`,
        tdx,
      ),
    },
    {
      name: 'browser.gpu',
      title: 'in Chromium: verifyGpu, real H200 SPDM report + device chain + signed driver RIM, cold',
      measure: ours(
        `const ev = { report: m.fromBase64(arg.report), certChain: arg.chain }; const rims = [m.fromBase64(arg.rim)];
         const o = { expectedNonce: m.fromHex(arg.nonce), now: new Date('2026-11-28T00:00:00Z'), ocsp: 'skip', requireRim: false, rims };
         return async () => { m.clearKeyCache(); const d = await m.verifyGpu(ev, o); if (!d.ok) throw new Error(JSON.stringify(d.errors)); };`,
        gpu,
      ),
    },
  );
  const tinfoilBundle = join(VECTORS, 'peers/tinfoil-attestation-bundle.json');
  if (existsSync(tinfoilBundle)) {
    const tb = JSON.parse(readFileSync(tinfoilBundle, 'utf8'));
    cs.push({
      name: 'peer.tinfoil.browser.snp',
      title: 'in Chromium: @tinfoilsh/verifier verifyAttestation (SNP report + VCEK→ASK→ARK), same report',
      measure: async () => ms(await inChromium((await built()).tinfoil.file, `return async () => { await m.verifyAttestation(arg.report, arg.vcek); };`, { report: tb.enclaveAttestationReport, vcek: tb.vcek })),
    });
  }
  cs.push({
    name: 'peer.dcapqvl.browser.tdx',
    title: 'in Chromium: @phala/dcap-qvl verify, same quote and collateral',
    measure: async () =>
      ms(
        await inChromium(
          (await built()).dcap.file,
          `const q = Uint8Array.from(atob(arg.quote), (c) => c.charCodeAt(0)); const nowSecs = Date.parse('2025-07-01T00:00:00Z') / 1000;
           return async () => { const r = await m.verify(q, arg.collateral, nowSecs); if (r.status !== 'UpToDate') throw new Error(r.status); };`,
          { quote: tdx.quote, collateral: JSON.parse(readFileSync(join(tdxDir, 'collateral.dcap-qvl.json'), 'utf8')) },
        ),
      ),
  });
  return cs;
}
