/**
 * `infer()` returns typed chat completions: JSON that is not an object with a `choices` array is refused with
 * ERR_SESSION_COMPLETION_SHAPE, for a whole answer and for a streamed chunk.
 */
import { describe, expect, it } from 'vitest';
import { createServer, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SecureClient, SessionError, type ChatCompletion, type ChatCompletionChunk } from '@ccinfer/core';
import { createGateway } from '../../src/gateway/index.js';
import { createSimulatedProvider } from '../../src/simulator.js';
import { fakeAppraise } from './fake-appraiser.js';
import { expectCode } from '../../../../test-support/helpers.js';

async function podAnswering(answer: (res: ServerResponse) => void) {
  const upstream = createServer((_req, res) => answer(res));
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const gateway = await createGateway({ upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, evidence: await createSimulatedProvider() });
  const { url } = await gateway.listen(0, '127.0.0.1');
  const close = async () => {
    await gateway.close();
    upstream.close();
  };
  return { client: new SecureClient({ endpoint: url, appraise: fakeAppraise }), close };
}

const body = { model: 'm', messages: [{ role: 'user', content: 'x' }] };

describe('infer() completion shape', () => {
  it('types a well-formed answer as ChatCompletion', async () => {
    const { client, close } = await podAnswering((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }));
    });
    try {
      const out: ChatCompletion = await client.infer(body);
      expect(out.choices[0]!.message.content).toBe('ok');
    } finally {
      await close();
    }
  });

  it.each([['an array', '[1,2]'], ['an object without choices', '{"error":"x"}'], ['choices not an array', '{"choices":{}}'], ['null', 'null']])(
    'refuses %s as a completion',
    async (_n, json) => {
      const { client, close } = await podAnswering((res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(json);
      });
      try {
        await expectCode(client.infer(body), SessionError, 'ERR_SESSION_COMPLETION_SHAPE');
      } finally {
        await close();
      }
    },
  );

  it('refuses a streamed chunk without choices after yielding the good ones', async () => {
    const { client, close } = await podAnswering((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\ndata: {"oops":true}\n\ndata: [DONE]\n\n');
    });
    try {
      const stream: AsyncIterable<ChatCompletionChunk> = await client.infer({ ...body, stream: true });
      const got: string[] = [];
      await expectCode(
        (async () => {
          for await (const c of stream) got.push(String(c.choices[0]?.delta.content));
        })(),
        SessionError,
        'ERR_SESSION_COMPLETION_SHAPE',
      );
      expect(got).toEqual(['a']);
    } finally {
      await close();
    }
  });
});
