/**
 * Replicas behind a load balancer without affinity (docs/architecture.md "Replicas"), in one process: three
 * gateways, each its own key, peers of each other; the client's transport sends each request to the next
 * replica in turn, as a round-robin balancer does. (The same with the CLI and HAProxy: cli/replicas-haproxy.test.ts.)
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeKeyConfigList, generateGatewayKey, SecureClient, TransportError, type Fetcher } from '@ccinfer/core';
import { keyConfigDigest, KEY_CONFIG_HEADER } from '@ccinfer/core/internal';
import { createGateway, FORWARDED_HEADER, type Gateway, type PeerSource } from '../../src/gateway/index.js';
import { createSimulatedProvider } from '../../src/simulator.js';
import { demoReply, startModelServer, type ModelServer } from '../../src/demo/model-server.js';
import { fakeAppraise } from './fake-appraiser.js';
import { expectCode } from '../../../../test-support/helpers.js';

let model: ModelServer;
beforeAll(async () => {
  model = await startModelServer({ tokenDelayMs: 1 });
});
afterAll(async () => {
  await model.close();
});

const ask = (prompt: string, stream = false) => ({ model: 'ccinfer-demo-1', messages: [{ role: 'user', content: prompt }], stream });
type Reply = { choices: { message: { content: string } }[] };
const R = { retryOnKeyChange: true };

let running: Gateway[] = [];
afterEach(async () => {
  await Promise.all(running.map((g) => g.close()));
  running = [];
});

/** Three replicas on their own ports, each told all replicas' URLs (itself included, as a headless Service lists it). */
async function replicas(n = 3, peers?: (urls: string[]) => PeerSource): Promise<{ gateways: Gateway[]; urls: string[] }> {
  const evidence = await createSimulatedProvider();
  const gateways: Gateway[] = [];
  const urls: string[] = [];
  // Ports first, so every replica can be given every URL.
  const servers = await Promise.all(Array.from({ length: n }, () => freePort()));
  for (const port of servers) urls.push(`http://127.0.0.1:${port}`);
  for (const port of servers) {
    const g = await createGateway({ upstream: model.url, evidence, ...(peers ? { peers: peers(urls) } : {}) });
    await g.listen(port, '127.0.0.1');
    gateways.push(g);
    running.push(g);
  }
  return { gateways, urls };
}

/** A port nothing listens on now (listening on port 0 first, as other tests run at the same time). */
function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A transport that sends each request to the next replica in turn (round-robin, no affinity). */
function roundRobin(urls: string[]): Fetcher {
  let next = 0;
  return (input, init) => {
    const u = new URL(String(input));
    const target = new URL(urls[next++ % urls.length]!);
    u.host = target.host;
    return fetch(u, init);
  };
}

describe('replicas behind round-robin without affinity', () => {
  it('each request reaches the attested replica through whichever replica receives it (one attestation)', async () => {
    const { gateways, urls } = await replicas(3, (u) => ({ urls: u }));
    const client = new SecureClient({ endpoint: urls[0]!, appraise: fakeAppraise, fetch: roundRobin(urls) });
    let attested = 0;
    client.on('attested', () => attested++);
    const prompts = Array.from({ length: 12 }, (_, i) => `replica ${i}`);
    for (const p of prompts) expect(((await client.infer(ask(p))) as Reply).choices[0]!.message.content).toBe(demoReply(p));
    expect(attested).toBe(1);
    // Every replica received requests; only the attested one opened them (the others forwarded ciphertext).
    const holder = gateways.find((g) => g.stats.attest === 1)!;
    expect(gateways.filter((g) => g.stats.attest === 1)).toHaveLength(1);
    for (const g of gateways) expect(g.stats.ohttp).toBeGreaterThan(0);
    expect(holder.stats.ohttp).toBeGreaterThanOrEqual(prompts.length);
  });

  it('without peers, another replica answers key-config-mismatch and the client re-attests', async () => {
    const { urls } = await replicas(2);
    const client = new SecureClient({ endpoint: urls[0]!, appraise: fakeAppraise, fetch: roundRobin(urls) });
    await client.attest();
    // The attest went to replica 0, so this request goes to replica 1, which holds another key.
    await expectCode(client.infer(ask('no peers')), TransportError, 'ERR_SESSION_NOT_RETRIED');
  });

  it('a forwarded request is never forwarded again (one hop)', async () => {
    const { gateways, urls } = await replicas(2, (u) => ({ urls: u }));
    // The digest of replica 0's key, sent to replica 1 with the forwarded marker: answered, not relayed.
    const client = new SecureClient({ endpoint: urls[0]!, appraise: fakeAppraise });
    await client.attest();
    const digest = keyConfigDigest(gateways[0]!.key.encoded);
    const res = await fetch(urls[1]! + '/.well-known/ccinfer/ohttp', {
      method: 'POST',
      headers: { 'content-type': 'message/ohttp-chunked-req', [KEY_CONFIG_HEADER]: digest, [FORWARDED_HEADER]: '1' },
      body: new Uint8Array(64),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { type: string }).type).toBe('urn:ccinfer:error:key-config-mismatch');
    expect(gateways[0]!.stats.ohttp).toBe(0);
  });

  it('a replica that is gone: its key gets key-config-mismatch, the client moves to a pooled key (no attestation)', async () => {
    const { gateways, urls } = await replicas(3, (u) => ({ urls: u }));
    const live = [...urls];
    const client = new SecureClient({ endpoint: urls[0]!, appraise: fakeAppraise, fetch: roundRobin(live) });
    let attested = 0;
    const rekeyed: number[] = [];
    client.on('attested', () => attested++);
    client.on('rekeyed', (e) => rekeyed.push(e.keyId));
    await client.attest();
    await client.attest({ force: true }); // another replica: both keys pooled, the second one in use
    expect(gateways.filter((g) => g.stats.attest === 1)).toHaveLength(2);
    const inUse = Buffer.from(client.exportEvidence()!.document.keyConfig);
    const current = gateways.find((g) => inUse.equals(g.key.encoded))!;
    const other = gateways.find((g) => g !== current && g.stats.attest === 1)!;
    rekeyed.length = 0;
    await current.close();
    running = running.filter((g) => g !== current);
    live.splice(gateways.indexOf(current), 1);
    for (const p of ['after 1', 'after 2', 'after 3']) expect(((await client.infer(ask(p), R)) as Reply).choices[0]!.message.content).toBe(demoReply(p));
    expect(attested).toBe(2);
    expect(rekeyed).toEqual([other.key.config.keyId]);
  });

  it('the pool is bounded: with maxPooledKeys 1 only the key in use is kept, so losing it costs an attestation', async () => {
    const { gateways, urls } = await replicas(3, (u) => ({ urls: u }));
    const live = [...urls];
    const client = new SecureClient({ endpoint: urls[0]!, appraise: fakeAppraise, fetch: roundRobin(live), maxPooledKeys: 1 });
    let attested = 0;
    client.on('attested', () => attested++);
    await client.attest();
    await client.attest({ force: true });
    const inUse = Buffer.from(client.exportEvidence()!.document.keyConfig);
    const current = gateways.find((g) => inUse.equals(g.key.encoded))!;
    await current.close();
    running = running.filter((g) => g !== current);
    live.splice(gateways.indexOf(current), 1);
    expect(((await client.infer(ask('bounded'), R)) as Reply).choices[0]!.message.content).toBe(demoReply('bounded'));
    expect(attested).toBe(3);
  });

  it('maxPooledKeys out of range is refused', async () => {
    for (const maxPooledKeys of [0, 65, 1.5]) {
      expect(() => new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: fakeAppraise, maxPooledKeys })).toThrow(expect.objectContaining({ code: 'ERR_SESSION_OPTIONS' }));
    }
  });

  it('streams through a forwarding replica', async () => {
    const { urls } = await replicas(2, (u) => ({ urls: u }));
    const client = new SecureClient({ endpoint: urls[0]!, appraise: fakeAppraise, fetch: roundRobin(urls) });
    for (const p of ['s1', 's2', 's3']) {
      let text = '';
      for await (const e of (await client.infer(ask(p, true))) as AsyncIterable<{ choices: { delta: { content?: string } }[] }>) text += e.choices[0]!.delta.content ?? '';
      expect(text).toBe(demoReply(p));
    }
  });

  it('peers from the A records of a name (a headless Service) on the replicas\' port', async () => {
    // Three loopback addresses, one port, as pods of a headless Service: 127.0.0.1-3 (Linux routes 127/8 to lo).
    const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
    const evidence = await createSimulatedProvider();
    const port = await freePort();
    const peers: PeerSource = { dns: 'replicas.test', port, resolve: async (name) => (name === 'replicas.test' ? hosts : []) };
    const gateways: Gateway[] = [];
    for (const h of hosts) {
      const g = await createGateway({ upstream: model.url, evidence, peers });
      await g.listen(port, h);
      gateways.push(g);
      running.push(g);
    }
    const urls = hosts.map((h) => `http://${h}:${port}`);
    const client = new SecureClient({ endpoint: urls[0]!, appraise: fakeAppraise, fetch: roundRobin(urls) });
    for (const p of ['d1', 'd2', 'd3', 'd4']) expect(((await client.infer(ask(p))) as Reply).choices[0]!.message.content).toBe(demoReply(p));
    expect(gateways.reduce((n, g) => n + g.stats.attest, 0)).toBe(1);
  });
});

describe('peers are untrusted: bounded, and failures are told apart', () => {
  /** A stand-in peer: serves `keys` at ohttp-keys and handles OHTTP posts with `onPost`. */
  async function fakePeer(keys: Uint8Array, onPost: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createHttpServer((req, res) => {
      if (req.method === 'GET' && req.url === '/.well-known/ohttp-keys') {
        res.writeHead(200, { 'content-type': 'application/ohttp-keys' });
        res.end(keys);
        return;
      }
      onPost(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
  }

  async function post(url: string, digest: string, body: Uint8Array<ArrayBuffer>, mediaType = 'message/ohttp-chunked-req'): Promise<{ status: number; type: string | undefined }> {
    const res = await fetch(url + '/.well-known/ccinfer/ohttp', { method: 'POST', headers: { 'content-type': mediaType, [KEY_CONFIG_HEADER]: digest }, body });
    const type = res.headers.get('content-type')?.startsWith('application/problem+json') ? ((await res.json()) as { type: string }).type.replace('urn:ccinfer:error:', '') : undefined;
    return { status: res.status, type };
  }

  const peerKey = async () => {
    const key = await generateGatewayKey(9);
    return { list: encodeKeyConfigList([key.config]), digest: keyConfigDigest(key.encoded) };
  };

  it('a peer that fails after the request reached it: 502 peer-unavailable (it may have run the request)', async () => {
    const k = await peerKey();
    const peer = await fakePeer(k.list, (req) => req.once('data', () => req.socket.destroy()));
    try {
      const evidence = await createSimulatedProvider();
      const g = await createGateway({ upstream: model.url, evidence, peers: { urls: [peer.url] } });
      running.push(g);
      const { url } = await g.listen();
      expect(await post(url, k.digest, new Uint8Array(2048))).toEqual({ status: 502, type: 'peer-unavailable' });
    } finally {
      await peer.close();
    }
  });

  it('a forwarded request over its limit (maxRequestBytes whole, maxBodyBytes plus framing streamed) is cut and answered 413 too-large', async () => {
    const k = await peerKey();
    let received = 0;
    const peer = await fakePeer(k.list, (req, res) => {
      req.on('data', (d: Buffer) => void (received += d.length));
      req.on('end', () => res.end());
    });
    try {
      const evidence = await createSimulatedProvider();
      const g = await createGateway({ upstream: model.url, evidence, peers: { urls: [peer.url] }, maxRequestBytes: 4096, maxBodyBytes: 4096 });
      running.push(g);
      const { url } = await g.listen();
      expect(await post(url, k.digest, new Uint8Array(64 * 1024), 'message/ohttp-req')).toEqual({ status: 413, type: 'too-large' });
      expect(received).toBeLessThanOrEqual(64 * 1024);
      // A streamed request may be larger than a whole one: up to the body limit and its chunk framing.
      received = 0;
      expect(await post(url, k.digest, new Uint8Array(256 * 1024))).toEqual({ status: 413, type: 'too-large' });
      expect(received).toBeLessThanOrEqual(4096 + 64 + 65_536);
    } finally {
      await peer.close();
    }
  });

  it('a peer listing garbage instead of key configs holds nothing: key-config-mismatch, nothing relayed', async () => {
    const k = await peerKey();
    let posts = 0;
    const peer = await fakePeer(Uint8Array.of(0, 200, 1, 2, 3), (_req, res) => {
      posts++;
      res.end();
    });
    try {
      const evidence = await createSimulatedProvider();
      const g = await createGateway({ upstream: model.url, evidence, peers: { urls: [peer.url] } });
      running.push(g);
      const { url } = await g.listen();
      expect(await post(url, k.digest, new Uint8Array(64))).toEqual({ status: 400, type: 'key-config-mismatch' });
      expect(posts).toBe(0);
    } finally {
      await peer.close();
    }
  });

  it('a peer that is not running: key-config-mismatch (nothing can have been decrypted)', async () => {
    const k = await peerKey();
    const peer = await fakePeer(k.list, (_req, res) => res.end());
    const evidence = await createSimulatedProvider();
    const g = await createGateway({ upstream: model.url, evidence, peers: { urls: [peer.url] } });
    running.push(g);
    const { url } = await g.listen();
    // Learn the peer's key, then lose the peer: the forward is refused at connect.
    await post(url, k.digest, new Uint8Array(64));
    await peer.close();
    expect(await post(url, k.digest, new Uint8Array(64))).toEqual({ status: 400, type: 'key-config-mismatch' });
  });
});
