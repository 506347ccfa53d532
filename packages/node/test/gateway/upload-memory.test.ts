/**
 * A large upload through the real gateway (the `ccinfer gateway` CLI in its own process) with memory that does
 * not grow with the body: the client encrypts the body as it reads it, the gateway decrypts and forwards it as
 * it arrives, and the upstream hashes what it receives. 256 MiB here (about 10–20 s on this 2-core machine);
 * the 1 GiB run is the `gateway.upload1g` bench case (`CCINFER_UPLOAD_MIB=1024` runs it here too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch as undiciFetch } from 'undici';
import { SecureClient } from '@ccinfer/core';
import { nodeSessionCrypto } from '../../src/session-crypto.js';
import { fakeAppraise } from './fake-appraiser.js';
import { hashingUpstream, liveMemory, sampleMemory, startCliGateway, uploadSource, type CliGateway, type HashingUpstream } from '../../../../test-support/upload.js';

const MIB = 1024 * 1024;
const SIZE = Number(process.env['CCINFER_UPLOAD_MIB'] ?? 256) * MIB;
/** Growth allowed on each side, whatever the size: a few MiB of chunks in flight plus allocator slack. */
const BOUND = 96 * MIB;

let upstream: HashingUpstream;
let gateway: CliGateway;

beforeAll(async () => {
  upstream = await hashingUpstream();
  gateway = await startCliGateway(upstream.url);
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  upstream?.close();
});

describe('a large upload with bounded memory on both sides', () => {
  it(`${SIZE / MIB} MiB arrive intact; client and gateway memory grows by less than ${BOUND / MIB} MiB`, async () => {
    const client = new SecureClient({ endpoint: gateway.url, appraise: fakeAppraise, crypto: nodeSessionCrypto, fetch: undiciFetch as never });
    // Warm-up: attestation, connection pools, JIT and the allocators' first growth are not the upload's.
    const warm = uploadSource(64 * MIB);
    await (await client.fetch(`${gateway.url}/v1/files`, { method: 'POST', body: warm.body as never })).json();
    const clientBefore = { live: await liveMemory(), rss: process.memoryUsage().rss };
    const gatewayBefore = gateway.memory().rss;

    const src = uploadSource(SIZE);
    const memory = sampleMemory();
    const t0 = performance.now();
    const res = await client.fetch(`${gateway.url}/v1/files`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: src.body as never });
    const answer = (await res.json()) as { sha256: string; bytes: number };
    const seconds = (performance.now() - t0) / 1000;
    const mine = await memory.stop();
    const gw = gateway.memory();

    expect(res.status).toBe(200);
    expect(answer).toEqual({ sha256: src.sha256(), bytes: SIZE });
    // The client process also runs the upstream. Live memory (after collection) is what the upload holds; RSS
    // also counts garbage not yet collected. Both are bounded (a fetch that tees the request body to follow
    // redirects held the whole upload: secure-client.ts sends streams with redirect "error").
    const growth = { clientLive: mine.peakLive - clientBefore.live, clientRss: mine.peakRss - clientBefore.rss, gateway: gw.peakRss - gatewayBefore };
    const mib = (n: number): string => (n / MIB).toFixed(1);
    console.log(`upload ${SIZE / MIB} MiB in ${seconds.toFixed(1)} s; growth: client live ${mib(growth.clientLive)} MiB (RSS ${mib(growth.clientRss)} MiB), gateway RSS ${mib(growth.gateway)} MiB (peak ${mib(gw.peakRss)} MiB)`);
    expect(growth.clientLive).toBeLessThan(BOUND);
    expect(growth.clientRss).toBeLessThan(BOUND);
    expect(growth.gateway).toBeLessThan(BOUND);
  }, 180_000);
});
