/** SecureClient against fake transports: the error codes that need a misbehaving pod to happen. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError, SecureClient, SessionError, TransportError, generateGatewayKey, parseSse, type AttestedDocument, type Fetcher } from '@ccinfer/core';
import { expectCode } from '../../../../test-support/helpers.js';

const key = await generateGatewayKey(3);
const okAppraise = async (): Promise<AttestedDocument> => ({ ok: true, tee: 'bundle', verifiedAt: new Date().toISOString(), claims: {}, checks: [], errors: [], warnings: [], keyConfig: key.encoded });
const cbor = (): Response => new Response(new Uint8Array([0xa0]), { status: 200, headers: { 'content-type': 'application/cbor' } });

function fake(ohttp: () => Response): { fetch: Fetcher; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: async (url) => {
      const path = new URL(url).pathname;
      calls.push(path);
      return path.endsWith('/attest') ? cbor() : ohttp();
    },
  };
}

describe('SecureClient error codes', () => {
  it('ERR_SESSION_OPTIONS for a bad endpoint or appraiser', async () => {
    await expectCode(() => new SecureClient({ endpoint: 'not a url', appraise: okAppraise }), ConfigError, 'ERR_SESSION_OPTIONS');
    await expectCode(() => new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: undefined as never }), ConfigError, 'ERR_SESSION_OPTIONS');
  });

  it('ERR_SESSION_NOT_A_POD when something that is not a ccinfer gateway answers', async () => {
    const f: Fetcher = async () => new Response('{}', { status: 404, headers: { 'content-type': 'application/problem+json' } });
    const e = await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: f }).attest(), TransportError, 'ERR_SESSION_NOT_A_POD');
    expect((e as TransportError).status).toBe(404);
    const wrongType: Fetcher = async () => new Response('x', { status: 200, headers: { 'content-type': 'text/plain' } });
    await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: wrongType }).attest(), TransportError, 'ERR_SESSION_NOT_A_POD');
  });

  it('ERR_SESSION_UNREACHABLE for a refused connection (retried once) and a 5xx, with the cause kept', async () => {
    let calls = 0;
    const refused: Fetcher = async () => {
      calls++;
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    };
    const e = await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: refused }).attest(), TransportError, 'ERR_SESSION_UNREACHABLE');
    expect(calls).toBe(2);
    expect(e.cause).toBeInstanceOf(TransportError);
    const down: Fetcher = async () => new Response('', { status: 503 });
    await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: down }).attest(), TransportError, 'ERR_SESSION_UNREACHABLE');
  });

  it('attestTimeoutMs bounds the whole wait, its retry included: a silent pod is ERR_SESSION_UNREACHABLE', async () => {
    const silent: Fetcher = (_url, init) => new Promise((_r, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    const t0 = Date.now();
    await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: silent, attestTimeoutMs: 300 }).attest(), TransportError, 'ERR_SESSION_UNREACHABLE');
    expect(Date.now() - t0).toBeLessThan(600);
  });

  it("a caller's abort is an AbortError, during attest and in the middle of a stream, and no rejection is emitted", async () => {
    const silent: Fetcher = (_url, init) => new Promise((_r, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    const client = new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: silent });
    let rejected = 0;
    client.on('rejected', () => rejected++);
    const ac = new AbortController();
    const p = client.attest({ signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(rejected).toBe(0);
    await expect(client.attest({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });

    // Mid-stream: the gateway's answer starts (a valid nonce prefix) and then the reader aborts.
    const mid = new AbortController();
    const streaming: Fetcher = async (url, init) => {
      if (new URL(url).pathname.endsWith('/attest')) return cbor();
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new Uint8Array(40));
          init?.signal?.addEventListener('abort', () => c.error(init.signal!.reason));
        },
      });
      setTimeout(() => mid.abort(), 20); // the reader gives up while the answer is streaming
      return new Response(body, { status: 200, headers: { 'content-type': 'message/ohttp-chunked-res' } });
    };
    const s = new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: streaming });
    const res = s.fetch('http://x/v1/models', { signal: mid.signal });
    await expect(res).rejects.toMatchObject({ name: 'AbortError' });
  });

  const mismatch = (): Response => new Response(JSON.stringify({ type: 'urn:ccinfer:error:key-config-mismatch' }), { status: 400, headers: { 'content-type': 'application/problem+json' } });

  it('key-config-mismatch for the key the pod still attests: re-attests once, no resend, ERR_SESSION_KEY_CONFIG_MISMATCH', async () => {
    const { fetch, calls } = fake(mismatch);
    await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch }).fetch('http://127.0.0.1:1/v1/models'), TransportError, 'ERR_SESSION_KEY_CONFIG_MISMATCH');
    expect(calls).toEqual(['/.well-known/ccinfer/attest', '/.well-known/ccinfer/ohttp', '/.well-known/ccinfer/attest']);
  });

  it('key-config-mismatch after a key change: re-attests once, resends once to the new key, then ERR_SESSION_KEY_CONFIG_MISMATCH', async () => {
    const keys = [key, await generateGatewayKey(3)];
    let n = 0;
    const rotating = async (): Promise<AttestedDocument> => ({ ...(await okAppraise()), keyConfig: keys[n++ % 2]!.encoded });
    const named: string[] = [];
    const { fetch, calls } = fake(mismatch);
    const spy: Fetcher = (url, init) => {
      const h = new Headers(init?.headers).get('ccinfer-key-config');
      if (h) named.push(h);
      return fetch(url, init);
    };
    await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: rotating, fetch: spy }).fetch('http://127.0.0.1:1/v1/models'), TransportError, 'ERR_SESSION_KEY_CONFIG_MISMATCH');
    expect(calls).toEqual(['/.well-known/ccinfer/attest', '/.well-known/ccinfer/ohttp', '/.well-known/ccinfer/attest', '/.well-known/ccinfer/ohttp']);
    // Each send names the whole key config it went to: the same id 3, two different keys.
    expect(named).toHaveLength(2);
    expect(named[0]).not.toBe(named[1]);
  });

  it('key-config-mismatch for a request not marked safe to repeat: re-attests, never resends (ERR_SESSION_NOT_RETRIED)', async () => {
    const mismatch = (): Response => new Response(JSON.stringify({ type: 'urn:ccinfer:error:key-config-mismatch' }), { status: 400, headers: { 'content-type': 'application/problem+json' } });
    const a = fake(mismatch);
    const client = new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: a.fetch });
    await expectCode(client.fetch('http://127.0.0.1:1/v1/chat/completions', { method: 'POST', body: '{}' }), TransportError, 'ERR_SESSION_NOT_RETRIED');
    expect(a.calls).toEqual(['/.well-known/ccinfer/attest', '/.well-known/ccinfer/ohttp', '/.well-known/ccinfer/attest']);
    await expectCode(client.infer({ model: 'm', messages: [] }), TransportError, 'ERR_SESSION_NOT_RETRIED');
    // Marked by the caller (Idempotency-Key, or infer's retryOnKeyChange): sent once more to the new key (the
    // pod attests another key each time here).
    const keys = [key, await generateGatewayKey(3)];
    let n = 0;
    const rotating = async (): Promise<AttestedDocument> => ({ ...(await okAppraise()), keyConfig: keys[n++ % 2]!.encoded });
    const b = fake(mismatch);
    const marked = new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: rotating, fetch: b.fetch });
    await expectCode(marked.fetch('http://127.0.0.1:1/v1/chat/completions', { method: 'POST', body: '{}', headers: { 'idempotency-key': 'k1' } }), TransportError, 'ERR_SESSION_KEY_CONFIG_MISMATCH');
    expect(b.calls.filter((c) => c.endsWith('/ohttp'))).toHaveLength(2);
    await expectCode(marked.infer({ model: 'm', messages: [] }, { retryOnKeyChange: true }), TransportError, 'ERR_SESSION_KEY_CONFIG_MISMATCH');
    expect(b.calls.filter((c) => c.endsWith('/ohttp'))).toHaveLength(4);
  });

  it('gateway-busy 503: resends the same bytes after Retry-After, at most maxRetries times', async () => {
    const bodies: Uint8Array[] = [];
    const busy = (): Response => new Response(JSON.stringify({ type: 'urn:ccinfer:error:gateway-busy' }), { status: 503, headers: { 'content-type': 'application/problem+json', 'retry-after': '0' } });
    const { fetch, calls } = fake(busy);
    const spy: Fetcher = (url, init) => {
      if (url.endsWith('/ohttp')) bodies.push(init!.body as Uint8Array);
      return fetch(url, init);
    };
    const e = await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: spy }).fetch('http://127.0.0.1:1/v1/models'), TransportError, 'ERR_SESSION_GATEWAY_HTTP');
    expect((e as TransportError).status).toBe(503);
    expect(calls.filter((c) => c.endsWith('/ohttp'))).toHaveLength(3); // 1 + maxRetries (2)
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
    const none = fake(busy);
    await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: none.fetch, maxRetries: 0 }).fetch('http://x/v1/models'), TransportError, 'ERR_SESSION_GATEWAY_HTTP');
    expect(none.calls.filter((c) => c.endsWith('/ohttp'))).toHaveLength(1);
    // The upstream's own 503 (not gateway-busy) is not resent.
    const other = fake(() => new Response(JSON.stringify({ type: 'urn:ccinfer:error:upstream-unavailable' }), { status: 503, headers: { 'content-type': 'application/problem+json', 'retry-after': '0' } }));
    await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: other.fetch }).fetch('http://x/v1/models'), TransportError, 'ERR_SESSION_GATEWAY_HTTP');
    expect(other.calls.filter((c) => c.endsWith('/ohttp'))).toHaveLength(1);
  });

  it('ERR_SESSION_TIMEOUT when the gateway does not answer within requestTimeoutMs; ERR_SESSION_OPTIONS for bad retry / timeout options', async () => {
    const hang: Fetcher = (url, init) =>
      url.endsWith('/attest')
        ? Promise.resolve(cbor())
        : new Promise((_, reject) => init!.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: hang, requestTimeoutMs: 30 }).fetch('http://x/v1/models'), TransportError, 'ERR_SESSION_TIMEOUT');
    await expectCode(() => new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, maxRetries: -1 }), ConfigError, 'ERR_SESSION_OPTIONS');
    await expectCode(() => new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, requestTimeoutMs: 0 }), ConfigError, 'ERR_SESSION_OPTIONS');
  });

  it('ERR_SESSION_GATEWAY_HTTP and ERR_SESSION_RESPONSE_TYPE', async () => {
    const bad = fake(() => new Response(JSON.stringify({ type: 'urn:ccinfer:error:bad-request' }), { status: 400, headers: { 'content-type': 'application/problem+json' } }));
    const e = await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: bad.fetch }).fetch('http://x/v1/models'), TransportError, 'ERR_SESSION_GATEWAY_HTTP');
    expect((e as TransportError).status).toBe(400);
    const plain = fake(() => new Response('hello', { status: 200, headers: { 'content-type': 'text/plain' } }));
    await expectCode(new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: plain.fetch }).fetch('http://x/v1/models'), SessionError, 'ERR_SESSION_RESPONSE_TYPE');
  });

  it('a response that is not an OHTTP response is never decrypted into a body', async () => {
    const junk = fake(() => new Response(new Uint8Array(64), { status: 200, headers: { 'content-type': 'message/ohttp-chunked-res' } }));
    const res = new SecureClient({ endpoint: 'http://127.0.0.1:1', appraise: okAppraise, fetch: junk.fetch }).fetch('http://x/v1/models');
    await expect(res).rejects.toBeInstanceOf(SessionError);
  });
});

describe('SecureClient transport', () => {
  it('never follows a redirect from the OHTTP endpoint: ERR_SESSION_UNREACHABLE, and the other origin receives nothing', async () => {
    const elsewhere: string[] = [];
    const other = createServer((req, res) => {
      elsewhere.push(req.url ?? '');
      res.writeHead(500).end();
    });
    const gateway = createServer((req, res) => {
      req.resume();
      if (req.url?.endsWith('/attest')) return void res.writeHead(200, { 'content-type': 'application/cbor' }).end(Buffer.from([0xa0]));
      res.writeHead(303, { location: `http://127.0.0.1:${(other.address() as AddressInfo).port}/.well-known/ccinfer/ohttp` }).end();
    });
    for (const s of [other, gateway]) {
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
    }
    try {
      const client = new SecureClient({ endpoint: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`, appraise: okAppraise });
      const e = await expectCode(client.fetch('http://x/v1/models'), TransportError, 'ERR_SESSION_UNREACHABLE');
      expect(e.cause).toBeInstanceOf(TypeError);
      expect(elsewhere).toEqual([]);
    } finally {
      for (const s of [other, gateway]) s.close();
    }
  });
});

describe('parseSse', () => {
  it('joins data lines, keeps event and id, skips comments, handles CRLF and split chunks', async () => {
    const text = ': comment\r\nevent: a\r\ndata: 1\r\ndata: 2\r\nid: 7\r\n\r\ndata: {"x":1}\n\n';
    const enc = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < enc.length; i += 5) c.enqueue(enc.subarray(i, i + 5));
        c.close();
      },
    });
    const events = [];
    for await (const e of parseSse(stream)) events.push(e);
    expect(events).toEqual([
      { event: 'a', data: '1\n2', id: '7' },
      { event: 'message', data: '{"x":1}', id: '7' },
    ]);
  });
});
