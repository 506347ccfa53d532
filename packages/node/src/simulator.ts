/**
 * `@ccinfer/node/simulator`: a simulated pod for tests and demos — an evidence provider that mints SNP / TDX /
 * NVIDIA evidence under simulated vendor roots (`@ccinfer/verifier/testing`), and a demo OpenAI-compatible model
 * server. Evidence from it appraises only against the simulated trust anchors it reports, never the pinned ones.
 *
 * @example
 * ```ts
 * import { createGateway } from '@ccinfer/node/gateway';
 * import { createSimulatedProvider, startModelServer } from '@ccinfer/node/simulator';
 * const model = await startModelServer();
 * const pod = await createSimulatedProvider();
 * const gateway = await createGateway({ upstream: model.url, evidence: pod });
 * ```
 */
export { createSimulatedProvider, type SimulatedProvider, type SimulatedProviderOptions } from './gateway/evidence/simulated.js';
export { startModelServer, demoReply, DEMO_MODEL, type ModelServer } from './demo/model-server.js';
