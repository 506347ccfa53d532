/**
 * The browser client's pieces that need no browser, run in Node: upload through the `fetch` transport against
 * the simulated gateway, sealing chunk by chunk, collateral proxy and tiered cache, and every error code that
 * is not already exercised in Chromium (e2e.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkedRequestDecoder, ChunkedRequestEncoder, ConfigError, MemoryCache, SessionError, TransportError, concat, generateGatewayKey, parseKeyConfig, encodeKeyConfig, type Fetcher } from '@ccinfer/core';
import { sigstoreBundleVerifier } from '@ccinfer/node';
import { createGateway, type Gateway } from '@ccinfer/node/gateway';
import { createSimulatedProvider, startModelServer, type ModelServer, type SimulatedProvider } from '@ccinfer/node/simulator';
import { parsePolicy } from '@ccinfer/verifier';
import { readJson, vectorsDir } from '../../../test-support/vectors.js';
import { createSecureClient, proxiedFetcher, sealParts, TieredCache, IndexedDbCache } from '../src/index.js';
import { expectCode } from '../../../test-support/helpers.js';

let model: ModelServer;
let gateway: Gateway;
let provider: SimulatedProvider;
let url: string;

beforeAll(async () => {
  model = await startModelServer();
  provider = await createSimulatedProvider({ gpus: 1 }); // a pod without an attested GPU is refused by default
  gateway = await createGateway({ upstream: model.url, evidence: provider });
  ({ url } = await gateway.listen(0, '127.0.0.1'));
});
afterAll(async () => {
  await gateway.close();
  await model.close();
});

describe('createSecureClient (browser build) in Node', () => {
  it('refuses a pod whose measurement the policy does not pin (ERR_POLICY_UNPINNED), and accepts it once pinned', async () => {
    const strict = createSecureClient({ endpoint: url, anchors: provider.anchors });
    const codes: string[] = [];
    strict.on('rejected', (e) => codes.push(...(e.document?.errors.map((x) => x.code) ?? [])));
    await expect(strict.attest()).rejects.toBeInstanceOf(Error);
    expect(codes).toEqual(['ERR_POLICY_UNPINNED']);
    const pinned = createSecureClient({ endpoint: url, anchors: provider.anchors, policy: await provider.referencePolicy() });
    expect((await pinned.attest()).ok).toBe(true);
  });

  it('a release-identity policy: refused without a provenance bundle (ERR_PROVENANCE_MISSING); the injected verifier runs when given', async () => {
    const policy = parsePolicy({
      version: 1,
      snp: { provenance: { issuer: 'https://token.actions.githubusercontent.com', repository: 'tinfoilsh/confidential-model-router', predicateType: 'https://tinfoil.sh/predicate/snp-tdx-multiplatform/v1' } },
    });
    const refusals = async (o: Parameters<typeof createSecureClient>[0]): Promise<string[]> => {
      const client = createSecureClient(o);
      const codes: string[] = [];
      client.on('rejected', (e) => codes.push(...(e.document?.errors.map((x) => x.code) ?? [])));
      await expect(client.attest()).rejects.toBeInstanceOf(Error);
      return codes;
    };
    expect(await refusals({ endpoint: url, anchors: provider.anchors, policy })).toEqual(['ERR_PROVENANCE_MISSING']);
    // The real Tinfoil release bundle verifies; the simulated pod's measurement is not the one it signed.
    const bundle = readJson(vectorsDir('peers'), 'tinfoil-attestation-bundle.json').sigstoreBundle;
    expect(await refusals({ endpoint: url, anchors: provider.anchors, policy, provenance: { bundle, verifyBundle: sigstoreBundleVerifier() } })).toEqual(['ERR_PROVENANCE_MEASUREMENT']);
  });

  it('infers through the encrypted session with the verifier appraisal', async () => {
    const client = createSecureClient({ endpoint: url, allowUnpinnedMeasurements: true, anchors: provider.anchors });
    const out = (await client.infer({ model: 'ccinfer-demo-1', messages: [{ role: 'user', content: 'hi' }] })) as { choices: unknown[] };
    expect(out.choices).toHaveLength(1);
    expect(client.exportEvidence()?.document.ok).toBe(true);
  });

  it('uploads with the fetch transport; the pod answers through the encrypted channel', async () => {
    // Every sealed request names the key config it is sealed to (replicas forward by it, docs/architecture.md).
    const named: (string | null)[] = [];
    const watching: Fetcher = async (u, init) => {
      if (u.endsWith('/.well-known/ccinfer/ohttp')) named.push(new Headers(init?.headers).get('ccinfer-key-config'));
      return fetch(u, init);
    };
    const client = createSecureClient({ endpoint: url, allowUnpinnedMeasurements: true, anchors: provider.anchors, fetch: watching });
    const phases: string[] = [];
    // The demo model server counts what reached /v1/files; its answer comes back decrypted, proving the round trip.
    const res = await client.upload(new Blob([new Uint8Array(100_000)]), { transport: 'fetch', onProgress: (p) => phases.push(`${p.phase}:${p.percent}`) });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { bytes: number }).bytes).toBe(100_000);
    expect(phases.at(-1)).toBe('uploading:100');
    expect(phases).toContain('sealing:100');
    expect(named).toHaveLength(1);
    expect(named[0]).toMatch(/^[A-Za-z0-9_-]{43}$/); // base64url SHA-256
  });

  it('ERR_UPLOAD_NETWORK: the gateway cannot be reached for the upload', async () => {
    const failing: Fetcher = async (u, init) => {
      if (u.endsWith('/.well-known/ccinfer/ohttp')) throw new TypeError('fetch failed');
      return fetch(u, init);
    };
    const client = createSecureClient({ endpoint: url, allowUnpinnedMeasurements: true, anchors: provider.anchors, fetch: failing });
    await expectCode(client.upload(new Uint8Array(10), { transport: 'fetch' }), TransportError, 'ERR_UPLOAD_NETWORK');
  });

  it('where the transport streams request bodies, the file goes as one request encrypted as it is read', async () => {
    const client = createSecureClient({ endpoint: url, allowUnpinnedMeasurements: true, anchors: provider.anchors, streamRequestBodies: true });
    const before = gateway.stats.ohttp;
    const sent: number[] = [];
    const res = await client.upload(new Blob([new Uint8Array(3 * 1024 * 1024 + 7).fill(1)]), { onProgress: (p) => p.phase === 'uploading' && sent.push(p.percent) });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { bytes: number }).bytes).toBe(3 * 1024 * 1024 + 7);
    expect(gateway.stats.ohttp - before).toBe(1);
    // Progress as chunks are sealed (16 KiB each): many steps, rising to 100.
    expect(sent.length).toBeGreaterThan(100);
    expect(sent.at(-1)).toBe(100);
    expect([...sent].sort((a, b) => a - b)).toEqual(sent);
  });

  it('a transport that refuses request streams (Chromium over HTTP/1.1) falls back to sealed requests', async () => {
    let refused = 0;
    const noStreams: Fetcher = async (u, init) => {
      if ((init as { duplex?: string } | undefined)?.duplex) {
        refused++;
        throw new TypeError('Failed to fetch');
      }
      return fetch(u, init);
    };
    const client = createSecureClient({ endpoint: url, allowUnpinnedMeasurements: true, anchors: provider.anchors, streamRequestBodies: true, fetch: noStreams });
    for (let i = 0; i < 2; i++) {
      const res = await client.upload(new Blob([new Uint8Array(2 * 1024 * 1024)]), { transport: 'fetch' });
      expect(((await res.json()) as { bytes: number }).bytes).toBe(2 * 1024 * 1024);
    }
    // Tried once; the client then remembers.
    expect(refused).toBe(1);
  });

  it('ERR_UPLOAD_PART: an Uploads API answer without a usable id stops the upload before any part is sent', async () => {
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    const api = createServer((req, res) => {
      seen.push(req.url ?? '');
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: '../../v1/admin' }));
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const g = await createGateway({ upstream: `http://127.0.0.1:${(api.address() as { port: number }).port}`, evidence: provider });
    const { url: u } = await g.listen(0, '127.0.0.1');
    try {
      const client = createSecureClient({ endpoint: u, allowUnpinnedMeasurements: true, anchors: provider.anchors });
      await expectCode(client.upload(new Uint8Array(300_000), { transport: 'fetch', partSize: 100_000 }), SessionError, 'ERR_UPLOAD_PART');
      expect(seen).toEqual(['/v1/uploads']);
    } finally {
      await g.close();
      api.close();
    }
  });

  it('ERR_UPLOAD_READ: a file that cannot be read', async () => {
    const key = await generateGatewayKey(3);
    const encoder = await ChunkedRequestEncoder.create(parseKeyConfig(encodeKeyConfig(key.config)));
    const broken = { size: 10, type: '', slice: () => ({ arrayBuffer: () => Promise.reject(new Error('NotReadableError')) }) } as unknown as Blob;
    await expectCode(sealParts(encoder, broken), SessionError, 'ERR_UPLOAD_READ');
  });

  it('sealParts: prefix, slices and suffix open to the same bytes; every chunk but the last is full', async () => {
    const key = await generateGatewayKey(4);
    const encoder = await ChunkedRequestEncoder.create(parseKeyConfig(encodeKeyConfig(key.config)));
    const data = new Uint8Array(10_000).map((_, i) => i & 0xff);
    const parts = await sealParts(encoder, new Blob([data]), { prefix: new Uint8Array([1, 2]), suffix: new Uint8Array([9]), chunkSize: 4096 });
    expect(parts).toHaveLength(1 + 3);
    const dec = new ChunkedRequestDecoder((id) => (id === 4 ? key : undefined));
    const plain = concat(...(await dec.push(concat(...parts))), await dec.finish());
    expect(plain).toEqual(concat(new Uint8Array([1, 2]), data, new Uint8Array([9])));
  });

  it('ERR_IDB_UNAVAILABLE: IndexedDB requested outside a browser', async () => {
    await expectCode(() => createSecureClient({ endpoint: url, indexedDb: true }), ConfigError, 'ERR_IDB_UNAVAILABLE');
    await expectCode(IndexedDbCache.open(), ConfigError, 'ERR_IDB_UNAVAILABLE');
  });

  it('ERR_COLLATERAL_FILE_INVALID: a collateral file that is not one fails at construction', async () => {
    await expectCode(() => createSecureClient({ endpoint: url, collateralFile: '{"format":"other"}' }), ConfigError, 'ERR_COLLATERAL_FILE_INVALID');
  });
});

describe('collateral sources', () => {
  it('proxiedFetcher puts the percent-encoded vendor URL into the template and keeps method and body', async () => {
    const seen: { url: string; method?: string | undefined }[] = [];
    const f = proxiedFetcher('https://app.example/c?u={url}', async (u, init) => {
      seen.push({ url: u, method: init?.method });
      return new Response('x');
    });
    await f('https://kdsintf.amd.com/vcek/v1/Genoa/crl', { method: 'POST' });
    expect(seen).toEqual([{ url: 'https://app.example/c?u=https%3A%2F%2Fkdsintf.amd.com%2Fvcek%2Fv1%2FGenoa%2Fcrl', method: 'POST' }]);
  });

  it('ERR_COLLATERAL_PROXY_URL: a template without {url}', async () => {
    await expectCode(() => proxiedFetcher('https://app.example/c', fetch), ConfigError, 'ERR_COLLATERAL_PROXY_URL');
    await expectCode(() => createSecureClient({ endpoint: url, collateralProxy: 'https://app.example/c' }), ConfigError, 'ERR_COLLATERAL_PROXY_URL');
  });

  it('TieredCache reads through to the persistent tier and promotes; writes reach both', async () => {
    const front = new MemoryCache();
    const back = new MemoryCache();
    await back.set('a', { value: new Uint8Array([1]) });
    const t = new TieredCache(front, Promise.resolve(back));
    expect((await t.get('a'))?.value).toEqual(new Uint8Array([1]));
    expect((await front.get('a'))?.value).toEqual(new Uint8Array([1]));
    await t.set('b', { value: new Uint8Array([2]) });
    expect((await back.get('b'))?.value).toEqual(new Uint8Array([2]));
    await t.delete('b');
    expect(await back.get('b')).toBeUndefined();
    expect(await t.get('none')).toBeUndefined();
  });

  it('a rejected appraisal surfaces the collateral code in the document errors', async () => {
    const bare = await createSimulatedProvider({ mutate: ({ collateral: _c, ...b }) => b });
    const g = await createGateway({ upstream: model.url, evidence: bare });
    const { url: u } = await g.listen(0, '127.0.0.1');
    try {
      const client = createSecureClient({ endpoint: u, allowUnpinnedMeasurements: true, anchors: bare.anchors });
      const codes: string[] = [];
      client.on('rejected', (e) => codes.push(...(e.document?.errors.map((x) => x.code) ?? [])));
      await expect(client.attest()).rejects.toMatchObject({ code: 'ERR_SESSION_REJECTED' });
      expect(codes).toEqual(['ERR_SNP_CRL_UNAVAILABLE']);
    } finally {
      await g.close();
    }
  });
});
