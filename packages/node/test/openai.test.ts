/**
 * `@ccinfer/node/openai` against simulated pods with the real bundle appraiser: a refused pod is attested exactly
 * once and surfaces as AttestationRefusedError with its document (never the SDK's retried APIConnectionError);
 * an accepted pod answers a chat completion and a stream through the SDK, end-to-end encrypted.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, OHTTP_PATH, TransportError, VerificationError } from '@ccinfer/core';
import { AttestationRefusedError, AttestedOpenAI, createAttestedOpenAI } from '../src/openai.js';
import { demoReply, DEMO_MODEL } from '../src/demo/model-server.js';
import { useSimulatedPods } from './gateway/simulated-pods.js';
import { expectCode, expectCodeSync } from '../../../test-support/helpers.js';

const pod = useSimulatedPods();

const messages = [{ role: 'user' as const, content: 'hello' }];

describe('AttestedOpenAI', () => {
  it('a refused pod: AttestationRefusedError with the document, attested exactly once, nothing sent, whatever maxRetries says', async () => {
    // A debug-enabled guest: genuine evidence the default SNP policy refuses.
    const { provider, gateway, url } = await pod({ report: { policy: 0x30000n | (1n << 19n) } });
    try {
      const openai = new AttestedOpenAI({ endpoint: url, anchors: provider.anchors, fetcher: undefined, cache: undefined, maxRetries: 3 });
      const err = await expectCode(openai.chat.completions.create({ model: DEMO_MODEL, messages }), AttestationRefusedError, 'ERR_OPENAI_ATTESTATION_REFUSED');
      const refused = err as AttestationRefusedError;
      expect(refused).toBeInstanceOf(VerificationError);
      expect(refused.document.ok).toBe(false);
      expect(refused.document.errors.map((e) => e.code)).toEqual(['ERR_SNP_POLICY_DEBUG']);
      expect(refused.bundle?.length).toBeGreaterThan(0);
      expect((refused.cause as VerificationError).code).toBe('ERR_SESSION_REJECTED');
      expect(gateway.stats.attest).toBe(1);
      expect(gateway.stats.ohttp).toBe(0);
      expect(openai.secureClient.exportEvidence()).toBeUndefined();
    } finally {
      await gateway.close();
    }
  });

  it('an accepted pod: a chat completion and a stream through the SDK, attested once for both', async () => {
    const { provider, gateway, url } = await pod();
    try {
      const openai = createAttestedOpenAI({ endpoint: url, anchors: provider.anchors, policy: await provider.referencePolicy(), fetcher: undefined, cache: undefined, timeout: 20_000, maxRetries: 0, logLevel: 'off' });
      expect(openai).toBeInstanceOf(AttestedOpenAI);
      expect(openai.timeout).toBe(20_000);
      expect(openai.maxRetries).toBe(0);
      const reply = await openai.chat.completions.create({ model: DEMO_MODEL, messages });
      expect(reply.choices[0]!.message.content).toBe(demoReply('hello'));
      const stream = await openai.chat.completions.create({ model: DEMO_MODEL, messages, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe(demoReply('hello'));
      expect(gateway.stats.attest).toBe(1);
      expect(gateway.stats.ohttp).toBe(2);
      expect(openai.secureClient.exportEvidence()?.document.ok).toBe(true);
      // withOptions keeps the attestation and the endpoint.
      const quick = openai.withOptions({ timeout: 5_000 });
      expect(quick).toBeInstanceOf(AttestedOpenAI);
      expect(quick.timeout).toBe(5_000);
      expect((await quick.chat.completions.create({ model: DEMO_MODEL, messages })).choices[0]!.message.content).toBe(demoReply('hello'));
      expect(gateway.stats.attest).toBe(1);
    } finally {
      await gateway.close();
    }
  });

  it('a pod that cannot be reached: the SecureClient transport error, thrown as itself and not retried by the SDK', async () => {
    const { gateway, url } = await pod();
    await gateway.close();
    const openai = new AttestedOpenAI({ endpoint: url, fetcher: undefined, cache: undefined, maxRetries: 2, attestTimeoutMs: 2_000 });
    await expectCode(openai.chat.completions.create({ model: DEMO_MODEL, messages }), TransportError, 'ERR_SESSION_UNREACHABLE');
  });

  it('a session error inside fetch (the gateway refuses the encrypted request) is thrown as itself, sent once', async () => {
    const { provider, gateway, url } = await pod();
    try {
      let ohttp = 0;
      // The attest request reaches the pod; every encrypted request is answered 502 by the "gateway".
      const fetch = async (u: string | URL | Request, init?: RequestInit): Promise<Response> => {
        if (String(u).endsWith(OHTTP_PATH)) {
          ohttp++;
          return new Response('bad gateway', { status: 502 });
        }
        return globalThis.fetch(u, init);
      };
      const openai = new AttestedOpenAI({ endpoint: url, anchors: provider.anchors, policy: await provider.referencePolicy(), fetch, fetcher: undefined, cache: undefined, maxRetries: 2 });
      const e = await expectCode(openai.chat.completions.create({ model: DEMO_MODEL, messages }), TransportError, 'ERR_SESSION_GATEWAY_HTTP');
      expect((e as TransportError).status).toBe(502);
      expect(ohttp).toBe(1);
    } finally {
      await gateway.close();
    }
  });

  it('an endpoint that is not a URL is ERR_SESSION_OPTIONS', () => {
    expectCodeSync(() => new AttestedOpenAI({ endpoint: 'not a url' }), ConfigError, 'ERR_SESSION_OPTIONS');
    const e = expectCodeSync(() => new AttestedOpenAI({}), ConfigError, 'ERR_SESSION_OPTIONS');
    expect((e as ConfigError).fields).toEqual(['endpoint']);
  });
});
