/**
 * examples/browser-upload in Chromium: the Vite dev server serves the page (proxying the gateway), the page
 * verifies a simulated pod with its launch measurement pinned, shows the verification document, uploads a file
 * encrypted, and a screenshot of the verified page is saved to artifacts/browser-upload.png.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { encodeKeyConfig, generateGatewayKey, toHex } from '@ccinfer/core';
import { parseSnpReport } from '@ccinfer/verifier';
import { createGateway, type Gateway } from '@ccinfer/node/gateway';
import { createSimulatedProvider, startModelServer, type ModelServer, type SimulatedProvider } from '@ccinfer/node/simulator';
import { launchChromium, skipBrowser } from './harness.js';
import { startPodApp, type PodApp } from './pod-app.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const example = join(repo, 'examples/browser-upload');
export const SCREENSHOT = join(repo, 'artifacts/browser-upload.png');

let browser: Browser;
let model: ModelServer;
let app: PodApp;
let provider: SimulatedProvider;
let gateway: Gateway;
let vite: ViteDevServer;
let measurement: string;
let hostData: string;

describe.skipIf(skipBrowser)('examples/browser-upload (Vite) in Chromium', () => {
  beforeAll(async () => {
    model = await startModelServer();
    app = await startPodApp(model.url);
    provider = await createSimulatedProvider({ gpus: 1 }); // like a real pod: a GPU-less one is refused by default
    gateway = await createGateway({ upstream: app.url, evidence: provider });
    const { url } = await gateway.listen(0, '127.0.0.1');
    const sample = await provider.collect({ nonce: new Uint8Array(32), keyConfig: encodeKeyConfig((await generateGatewayKey(9)).config) });
    const report = parseSnpReport((sample.cpu as { report: Uint8Array }).report);
    measurement = toHex(report.measurement);
    hostData = toHex(report.hostData);
    const anchors = join(mkdtempSync(join(tmpdir(), 'ccinfer-example-')), 'anchors.json');
    writeFileSync(anchors, JSON.stringify(provider.anchors));
    process.env['CCINFER_POD'] = url;
    process.env['CCINFER_ANCHORS'] = anchors;
    vite = await createServer({ root: example, configFile: join(example, 'vite.config.js'), logLevel: 'error', server: { host: '127.0.0.1', port: 0 } });
    await vite.listen();
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await vite?.close();
    await gateway?.close();
    app?.close();
    await model?.close();
  });

  it('verifies, shows the document, uploads encrypted; screenshot saved', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const port = (vite.httpServer!.address() as AddressInfo).port;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.fill('#measurement', measurement);
    await page.fill('#host-data', hostData);
    await page.click('#verify-button');
    await page.waitForSelector('#upload:not([hidden])', { timeout: 30_000 });

    expect(await page.textContent('#verdict')).toMatch(/^Verified/);
    expect(await page.textContent('#warnings')).toMatch(/SIMULATED/);
    const row = page.locator('tr[data-measurement="snp.policy.measurement"] td');
    expect(await row.allTextContents()).toEqual(['SNP launch measurement', measurement, `policy allowlist: ${measurement}`, '✔ passed']);
    const binding = page.locator('tr[data-measurement="binding.reportData"] td');
    expect((await binding.allTextContents())[3]).toBe('✔ passed');
    const statuses = await page.locator('#checks tbody tr').evaluateAll((rows) => rows.map((r) => [(r as HTMLElement).dataset['check'], r.querySelector('td')!.className]));
    expect(statuses.length).toBeGreaterThan(8);
    expect(statuses.filter(([, s]) => s === 'failed')).toEqual([]);
    expect(statuses).toContainEqual(['snp.signature', 'passed']);
    expect(statuses).toContainEqual(['snp.policy.hostData', 'passed']);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    const before = app.uploads.length;
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('confidential notes\n'.repeat(5000)) });
    await page.click('#upload-button');
    await page.waitForSelector('#upload-status[data-status]', { timeout: 30_000 });
    expect(await page.getAttribute('#upload-status', 'data-status')).toBe('201');
    expect(await page.textContent('#status')).toBe('verified — uploading 100%');
    expect(app.uploads.length).toBe(before + 1);
    expect(app.uploads.at(-1)).toMatchObject({ bytes: 19 * 5000, type: 'text/plain' });
    expect(errors).toEqual([]);
  }, 60_000);
});
