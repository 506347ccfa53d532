/**
 * No concurrency cliff: the CLI gateway's stream limit (`--max-streams`, default 1024) is sized for streams, its
 * own 503 says `gateway-busy`, and a hung upstream (`--upstream-timeout`) does not lock other clients out.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecureClient, TransportError } from '@ccinfer/core';
import { demoReply, startModelServer, type ModelServer } from '../../src/demo/model-server.js';
import { fakeAppraise } from '../gateway/fake-appraiser.js';
import { expectCode } from '../../../../test-support/helpers.js';
import { cli, start as run, waitFor, type Running } from './io.js';

let model: ModelServer;
beforeAll(async () => {
  model = await startModelServer({ tokenDelayMs: 20 });
});
afterAll(async () => model.close());

async function gateway(extra: string[], upstream = model.url): Promise<{ g: Running; url: string }> {
  const g = run(['gateway', '--upstream', upstream, '--evidence', 'simulated', '--listen', '127.0.0.1:0', ...extra]);
  return { g, url: await waitFor(() => /listening on (\S+)/.exec(g.out())?.[1]) };
}
async function stop(g: Running): Promise<void> {
  g.stop();
  expect(await g.done).toBe(0);
}

const ask = (prompt: string, stream = false) => ({ model: 'ccinfer-demo-1', messages: [{ role: 'user', content: prompt }], stream });

async function streamText(client: SecureClient, prompt: string): Promise<string> {
  let text = '';
  for await (const e of (await client.infer(ask(prompt, true))) as AsyncIterable<{ choices: { delta: { content?: string } }[] }>) text += e.choices[0]!.delta.content ?? '';
  return text;
}

describe('ccinfer gateway under concurrent streams', () => {
  it('256 concurrent streams through the CLI gateway (default limits) all complete', async () => {
    const { g, url } = await gateway([]);
    try {
      const client = new SecureClient({ endpoint: url, appraise: fakeAppraise, maxRetries: 0 });
      await client.attest();
      const prompts = Array.from({ length: 256 }, (_, i) => `stream ${i}`);
      const texts = await Promise.all(prompts.map((p) => streamText(client, p)));
      texts.forEach((t, i) => expect(t).toBe(demoReply(prompts[i]!)));
      expect(g.err()).not.toMatch(/request-refused/);
    } finally {
      await stop(g);
    }
  }, 120_000);

  it('beyond --max-streams the gateway answers its own 503 gateway-busy; the client resends after Retry-After', async () => {
    const { g, url } = await gateway(['--max-streams', '2']);
    try {
      const client = new SecureClient({ endpoint: url, appraise: fakeAppraise, maxRetries: 0 });
      await client.attest();
      const held = [streamText(client, 'a'), streamText(client, 'b')];
      await new Promise((r) => setTimeout(r, 100));
      const busy = await fetch(url + '/.well-known/ccinfer/ohttp', { method: 'POST', headers: { 'content-type': 'message/ohttp-chunked-req' }, body: new Uint8Array(8) });
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(((await busy.json()) as { type: string }).type).toBe('urn:ccinfer:error:gateway-busy');
      const e = await expectCode(streamText(client, 'c'), TransportError, 'ERR_SESSION_GATEWAY_HTTP');
      expect((e as TransportError).status).toBe(503);
      // With retries (default 2, after Retry-After: 1 s) the third stream gets its turn once one ends.
      const patient = new SecureClient({ endpoint: url, appraise: fakeAppraise });
      await patient.attest();
      const third = streamText(patient, 'c');
      expect(await Promise.all([...held, third])).toEqual([demoReply('a'), demoReply('b'), demoReply('c')]);
    } finally {
      await stop(g);
    }
  }, 60_000);

  it('a hung upstream does not lock everyone out: other requests pass, the hung ones end after --upstream-timeout', async () => {
    // An upstream that never answers prompts containing "hang" and answers the others at once.
    const upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (body.includes('hang')) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ choices: [] }));
      });
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const { g, url } = await gateway(['--upstream-timeout', '2s', '--request-timeout', '10s'], `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    try {
      const client = new SecureClient({ endpoint: url, appraise: fakeAppraise });
      await client.attest();
      const started = Date.now();
      const hung = Array.from({ length: 48 }, () => client.infer(ask('hang')).then(() => 'answered', (e: TransportError) => `${e.code} ${e.status}`));
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      expect(await client.infer(ask('hello'))).toEqual({ choices: [] });
      expect(Date.now() - t0).toBeLessThan(1_500);
      const outcomes = await Promise.all(hung);
      expect(new Set(outcomes)).toEqual(new Set(['ERR_SESSION_UPSTREAM_STATUS 504']));
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await stop(g);
      upstream.closeAllConnections();
      upstream.close();
    }
  }, 60_000);

  it('refuses bad limits and timeouts (exit 2)', async () => {
    const base = ['gateway', '--upstream', model.url, '--evidence', 'simulated', '--listen', '127.0.0.1:0'];
    for (const bad of [['--max-streams', '0'], ['--max-attest', 'many'], ['--upstream-timeout', 'x'], ['--request-timeout', '-5s']]) expect((await cli([...base, ...bad])).code).toBe(2);
  });
});
