/** The gateway's own keep-alive pool to the upstream: sequential requests reuse one connection. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SecureClient } from '@ccinfer/core';
import { createGateway } from '../../src/gateway/index.js';
import { createSimulatedProvider } from '../../src/simulator.js';
import { fakeAppraise } from './fake-appraiser.js';

describe('upstream keep-alive pool', () => {
  it('20 sequential requests open one upstream connection; closing the gateway closes it', async () => {
    let connections = 0;
    const upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"choices":[]}');
      });
    });
    upstream.on('connection', () => connections++);
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const g = await createGateway({ upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, evidence: await createSimulatedProvider() });
    const { url } = await g.listen();
    try {
      const client = new SecureClient({ endpoint: url, appraise: fakeAppraise });
      for (let i = 0; i < 20; i++) expect(await client.infer({ model: 'm', messages: [] })).toEqual({ choices: [] });
      expect(connections).toBe(1);
    } finally {
      await g.close();
      await new Promise<void>((r) => upstream.close(() => r())); // resolves only once the pool's connection is gone
    }
  });
});
