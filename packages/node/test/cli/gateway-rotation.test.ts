/** `ccinfer gateway --rotate-every DURATION [--rotation-grace DURATION]`: the CLI gateway rotates its key on its own. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecureClient } from '@ccinfer/core';
import { parseDuration } from '../../src/cli/args.js';
import { UsageError } from '../../src/cli/types.js';
import { demoReply, startModelServer, type ModelServer } from '../../src/demo/model-server.js';
import { fakeAppraise } from '../gateway/fake-appraiser.js';
import { cli, start as run, waitFor } from './io.js';

let model: ModelServer;
beforeAll(async () => {
  model = await startModelServer();
});
afterAll(async () => model.close());

describe('ccinfer gateway --rotate-every', () => {
  it('rotates the key every DURATION; clients follow with one re-attestation per rotation and no failed request', async () => {
    const g = run(['gateway', '--upstream', model.url, '--evidence', 'simulated', '--listen', '127.0.0.1:0', '--rotate-every', '1s', '--rotation-grace', '200ms']);
    try {
      const url = await waitFor(() => /listening on (\S+)/.exec(g.out())?.[1]);
      const client = new SecureClient({ endpoint: url, appraise: fakeAppraise });
      let rekeyed = 0;
      client.on('rekeyed', () => rekeyed++);
      const ask = (p: string) => client.infer({ model: 'ccinfer-demo-1', messages: [{ role: 'user', content: p }] }, { retryOnKeyChange: true }) as Promise<{ choices: { message: { content: string } }[] }>;
      expect((await ask('first')).choices[0]!.message.content).toBe(demoReply('first'));
      await waitFor(() => (/key-rotated/.test(g.err()) ? 'yes' : undefined), 5_000);
      await new Promise((r) => setTimeout(r, 300)); // past the grace period: the first key is gone
      expect((await ask('second')).choices[0]!.message.content).toBe(demoReply('second'));
      // One re-attestation per rotation the client met (a loaded machine may see a second rotation by now).
      expect(rekeyed).toBeGreaterThanOrEqual(1);
      expect(rekeyed).toBeLessThanOrEqual(g.err().match(/key-rotated/g)!.length);
    } finally {
      g.stop();
      expect(await g.done).toBe(0);
    }
  });

  it('refuses a bad duration, a rotation under a second, and a grace without rotation (exit 2)', async () => {
    const base = ['gateway', '--upstream', model.url, '--evidence', 'simulated', '--listen', '127.0.0.1:0'];
    expect((await cli([...base, '--rotate-every', 'soon'])).code).toBe(2);
    expect((await cli([...base, '--rotate-every', '10ms'])).code).toBe(2);
    expect((await cli([...base, '--rotation-grace', '5s'])).code).toBe(2);
  });

  it('parseDuration: units ms, s, m, h; a bare number is seconds', () => {
    expect(parseDuration('500ms', '--x')).toBe(500);
    expect(parseDuration('90', '--x')).toBe(90_000);
    expect(parseDuration('15m', '--x')).toBe(900_000);
    expect(parseDuration('24h', '--x')).toBe(86_400_000);
    expect(() => parseDuration('-1s', '--x')).toThrow(UsageError);
    expect(() => parseDuration('1d', '--x')).toThrow(UsageError);
  });
});
