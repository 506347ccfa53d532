/**
 * Signed provenance inside Chromium: `ccinfer-provenance.min.js` (the client plus the WebCrypto Sigstore verifier,
 * as `@ccinfer/browser/provenance` ships it) verifies the real Tinfoil release bundle offline, appraises the
 * matching SEV-SNP report against a release-identity policy, and refuses every shared negative case
 * (test-support/sigstore-cases.ts) with the error class and code the Node verifiers give.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { buildBundle, PROVENANCE_ENTRY } from '../build/bundle.js';
import { BUNDLE_CASES, ROOT_CASES, TINFOIL, TINFOIL_BUNDLE, TINFOIL_RELEASE } from '../../../test-support/sigstore-cases.js';
import { readBytes, readText, vectorsDir } from '../../../test-support/vectors.js';
import { b64, launchChromium, serve, skipBrowser, type TestServer } from './harness.js';

const PAGE = `<!doctype html><meta charset="utf-8"><title>ccinfer provenance test page</title>
<script type="module">import * as cc from '/ccinfer-provenance.min.js'; window.cc = cc; window.ccReady = true;</script>`;

const RELEASE = TINFOIL_RELEASE;

let browser: Browser;
let server: TestServer;
let page: Page;
const pageErrors: string[] = [];

describe.skipIf(skipBrowser)('signed provenance in Chromium (ccinfer-provenance.min.js)', () => {
  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ccinfer-provenance-')), 'ccinfer-provenance.min.js');
    await buildBundle(PROVENANCE_ENTRY, file);
    const bytes = readFileSync(file);
    server = await serve({
      routes: {
        '/p.html': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end(PAGE);
        },
        '/ccinfer-provenance.min.js': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
          res.end(bytes);
        },
      },
    });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${server.url}/p.html`);
    await page.waitForFunction(() => (window as unknown as { ccReady?: boolean }).ccReady === true);
  }, 60_000);
  afterAll(async () => {
    expect(pageErrors).toEqual([]);
    await browser?.close();
    await server?.close();
  });

  it('verifies the Tinfoil release bundle offline with WebCrypto, in Chromium', async () => {
    const r = await page.evaluate(async (bundle) => {
      const cc = (window as any).cc;
      const v = await cc.webSigstoreBundleVerifier()(bundle);
      return { inNode: typeof (globalThis as { process?: unknown }).process !== 'undefined', logIndex: v.logIndex, at: v.integratedTime.toISOString(), payloadType: v.payloadType, payload: cc.toBase64(v.payload), source: cc.SIGSTORE_TRUSTED_ROOT_SOURCE };
    }, TINFOIL_BUNDLE);
    expect(r).toEqual({
      inNode: false,
      logIndex: '845420855',
      at: '2026-01-22T22:42:02.000Z',
      payloadType: 'application/vnd.in-toto+json',
      payload: (TINFOIL_BUNDLE as any).dsseEnvelope.payload,
      source: expect.stringMatching(/^@sigstore\/tuf@/),
    });
  });

  const snp = vectorsDir('snp');
  const appraise = (set: string, policy: Record<string, unknown>, bundle: unknown = TINFOIL_BUNDLE) =>
    page.evaluate(async ({ report, leaf, chain, policy, bundle, digest }) => {
      const cc = (window as any).cc;
      const p = cc.parsePolicy({ version: 1, snp: { revocation: 'allow-unavailable', provenance: policy } });
      const doc = await cc.verifySnp({ report: cc.fromBase64(report), leaf: cc.fromBase64(leaf), chain }, {
        now: new Date('2026-06-01T00:00:00Z'),
        policy: p.snp,
        provenance: { bundle, verifyBundle: cc.webSigstoreBundleVerifier(), subjectDigest: digest },
      });
      return { ok: doc.ok, codes: doc.errors.map((e: { code: string }) => e.code), provenance: doc.claims.provenance, measurement: doc.claims.measurement };
    }, { report: b64(readBytes(snp, set, 'report.bin')), leaf: b64(readBytes(snp, set, 'vcek.der')), chain: readText(snp, set, 'cert_chain.pem'), policy, bundle, digest: TINFOIL.digest as string });

  it('accepts the Tinfoil report through a release-identity policy and reports the provenance claims', async () => {
    const r = await appraise('tinfoil-genoa-v3-bundle', RELEASE);
    expect(r.codes).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.measurement).toBe('09ef32acf90fcfeb6206d1a46c13145cef736ebbb83f18eaff680b686232031546ff5fd39c44599699ee8734cbbeb519');
    expect(r.provenance).toMatchObject({ repository: 'https://github.com/tinfoilsh/confidential-model-router', ref: 'refs/tags/v0.0.38', logIndex: '845420855' });
  });

  it.each([
    ['another repository', 'tinfoil-genoa-v3-bundle', { repository: 'evil/confidential-model-router' }, 'ERR_PROVENANCE_IDENTITY_MISMATCH'],
    ['a branch instead of a release tag', 'tinfoil-genoa-v3-bundle', { workflowRef: 'refs/heads/main' }, 'ERR_PROVENANCE_IDENTITY_MISMATCH'],
    ['a measurement not in the statement', 'tinfoil-genoa-v3-gotest', {}, 'ERR_PROVENANCE_MEASUREMENT'],
  ])('refuses %s: %s', async (_name, set, policy, code) => {
    const r = await appraise(set, { ...RELEASE, ...policy });
    expect(r.ok).toBe(false);
    expect(r.codes).toEqual([code]);
  });

  it('refuses every shared negative bundle with the class and code the Node verifiers give', async () => {
    const out = await page.evaluate(async (cases) => {
      const cc = (window as any).cc;
      const verify = cc.webSigstoreBundleVerifier();
      const got: [string, boolean, string][] = [];
      for (const [name, bundle, cls] of cases) {
        try {
          await verify(bundle);
          got.push([name, false, 'accepted']);
        } catch (e) {
          got.push([name, e instanceof cc[cls as string], (e as { code?: string }).code ?? String(e)]);
        }
      }
      return got;
    }, BUNDLE_CASES);
    expect(out).toEqual(BUNDLE_CASES.map(([name, , , code]) => [name, true, code]));
  });

  it('refuses the bundle under every shared damaged trusted root with the Node verifiers’ code', async () => {
    const out = await page.evaluate(async ({ cases, bundle }) => {
      const cc = (window as any).cc;
      const got: [string, boolean, string][] = [];
      for (const [name, trustedRoot] of cases) {
        try {
          await cc.webSigstoreBundleVerifier({ trustedRoot })(bundle);
          got.push([name, false, 'accepted']);
        } catch (e) {
          got.push([name, e instanceof cc.VerificationError, (e as { code?: string }).code ?? String(e)]);
        }
      }
      return got;
    }, { cases: ROOT_CASES, bundle: TINFOIL_BUNDLE });
    expect(out).toEqual(ROOT_CASES.map(([name, , code]) => [name, true, code]));
  });
});
