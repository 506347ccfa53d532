/**
 * Chromium harness for the browser suite: builds the minified bundle exactly as `pnpm build` does
 * (build/bundle.ts), serves it from 127.0.0.1, and drives Debian's Chromium with playwright-core. When
 * SKIP_BROWSER_TESTS=1 or no Chromium is installed, suites skip with one loud line.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildBundle, ENTRY } from '../build/bundle.js';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Why the browser suite cannot run here, or undefined when it can. */
export function browserSkipReason(): string | undefined {
  if (process.env['SKIP_BROWSER_TESTS'] === '1') return 'SKIP_BROWSER_TESTS=1';
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (run npm run setup, or set CHROMIUM_PATH)`;
  return undefined;
}

const reason = browserSkipReason();
if (reason) console.warn(`\n!!! ccinfer browser suite SKIPPED: ${reason}\n`);
export const skipBrowser = reason !== undefined;

/** Launch flags that work in this container (toolchain.md §3). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

let built: Promise<{ file: string; bytes: Uint8Array }> | undefined;

/** The minified bundle, built once per test file from the sources. */
export function bundle(): Promise<{ file: string; bytes: Uint8Array }> {
  built ??= (async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ccinfer-browser-')), 'ccinfer.min.js');
    await buildBundle(ENTRY, file);
    return { file, bytes: new Uint8Array(readFileSync(file)) };
  })();
  return built;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>ccinfer test page</title>
<script type="module">import * as cc from '/ccinfer.min.js'; window.cc = cc; window.ccReady = true;</script>`;

export interface TestServer {
  url: string;
  server: Server;
  /** Requests forwarded to the pod, by path (tests check what reached the gateway). */
  forwarded: { path: string; bytes: number; body: Buffer[] }[];
  close(): Promise<void>;
}

/**
 * Serves the test page and the bundle on 127.0.0.1. With `pod`, requests under `/.well-known/` are forwarded
 * to that gateway, so the page reaches the pod same-origin (as behind an ingress that serves both).
 */
export async function serve(options: { pod?: string; routes?: Record<string, (req: IncomingMessage, res: ServerResponse) => void> } = {}): Promise<TestServer> {
  const { bytes } = await bundle();
  const forwarded: TestServer['forwarded'] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/ccinfer.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      res.end(bytes);
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(PAGE);
    } else if (options.routes?.[path]) {
      options.routes[path]!(req, res);
    } else if (options.pod && path.startsWith('/.well-known/')) {
      const entry = { path, bytes: 0, body: [] as Buffer[] };
      forwarded.push(entry);
      const target = new URL(req.url!, options.pod);
      const up = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.on('data', (c: Buffer) => {
        entry.bytes += c.length;
        entry.body.push(c);
      });
      req.pipe(up);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    forwarded,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** Opens the test page with the bundle loaded as `window.cc`. Records page errors and every request URL. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url + '/');
  await page.waitForFunction(() => (window as unknown as { ccReady?: boolean }).ccReady === true);
  return { page, errors, requests };
}

export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
