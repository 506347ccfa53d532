/** Simulated pods for client tests: one demo model server per test file, a gateway with simulated evidence per pod. */
import { afterAll, beforeAll } from 'vitest';
import { createGateway } from '../../src/gateway/index.js';
import { createSimulatedProvider, type SimulatedProviderOptions } from '../../src/simulator.js';
import { startModelServer, type ModelServer } from '../../src/demo/model-server.js';

/** Registers the model server's lifecycle on the calling file and returns a function that starts a pod. */
export function useSimulatedPods() {
  let model: ModelServer;
  beforeAll(async () => {
    model = await startModelServer();
  });
  afterAll(async () => {
    await model.close();
  });
  return async (o: SimulatedProviderOptions = {}) => {
    const provider = await createSimulatedProvider(o);
    const gateway = await createGateway({ upstream: model.url, evidence: provider });
    const { url } = await gateway.listen(0, '127.0.0.1');
    return { provider, gateway, url };
  };
}
