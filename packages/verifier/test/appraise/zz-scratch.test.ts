import { it } from 'vitest';
import { generateGatewayKey, randomBytes, encodeBundle } from '@ccinfer/core';
import { appraise } from '../../src/index.js';
import { mintBundle } from '../../src/testing.js';
it('strict', async () => {
  const nonce = randomBytes(32);
  const keyConfig = (await generateGatewayKey(1)).encoded;
  for (const [g, s, tee] of [[1, 0, 'snp'], [8, 4, 'snp'], [1, 0, 'tdx'], [8, 4, 'snp']] as const) {
    let t = performance.now();
    const { bundle, anchors } = await mintBundle({ nonce, keyConfig, gpus: g, switches: s, tee });
    const mint = performance.now() - t;
    t = performance.now();
    const r = await appraise(bundle, { nonce, anchors });
    const ap = performance.now() - t;
    t = performance.now();
    const r2 = await appraise(bundle, { nonce, anchors });
    console.log(g, s, tee, 'mint', mint.toFixed(1), 'appraise', ap.toFixed(1), (performance.now() - t).toFixed(1), encodeBundle(bundle).length, r.document.errors, r2.document.ok);
  }
}, 60000);
