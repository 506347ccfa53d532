/**
 * `ccinfer pod simulate`: a simulated confidential pod to try the client against — the demo model behind the
 * ccinfer gateway with simulated SEV-SNP (or TDX) evidence and simulated GPUs, on loopback, until Ctrl-C. It
 * writes the simulator's trust anchors to a file and prints the first-contact commands (README "Trust model")
 * with the URL and that file filled in. The evidence is SIMULATED: the pinned vendor roots refuse it, which is
 * why clients need `--anchors`.
 */
import { once } from 'node:events';
import { DEMO_MODEL, startModelServer } from '../../demo/model-server.js';
import { createGateway } from '../../gateway/index.js';
import { createSimulatedProvider } from '../../gateway/evidence/simulated.js';
import { parse } from '../args.js';
import { sharedHierarchy } from './gateway.js';
import { listenFailure, parseListen } from './proxy.js';
import { EXIT, UsageError, type Command, type FlagTable } from '../types.js';

const usage = 'ccinfer pod simulate [--tee snp|tdx] [--gpus N] [--switches N] [--listen 127.0.0.1:8443] [--anchors-out FILE] [--sim-hierarchy DIR] [--token-delay MS]';

const options = {
  tee: { type: 'string', arg: 'snp|tdx', help: 'the simulated CPU TEE', fallback: 'snp' },
  gpus: { type: 'string', arg: 'N', help: 'simulated NVIDIA GPUs (0..8)', fallback: '1' },
  switches: { type: 'string', arg: 'N', help: 'simulated NVSwitches, PPCIe mode (needs --gpus)', fallback: '0' },
  listen: { type: 'string', arg: 'HOST:PORT', help: "the pod gateway's address; port 0 picks a free one", fallback: '127.0.0.1:8443' },
  'anchors-out': { type: 'string', arg: 'FILE', help: "where to write the simulator's trust anchors for clients' --anchors", fallback: 'sim-anchors.json' },
  'sim-hierarchy': { type: 'string', arg: 'DIR', help: 'keep the simulated roots in DIR (written once, then reused), so a restarted pod is accepted with the same anchors file', fallback: 'new roots on every start' },
  'token-delay': { type: 'string', arg: 'MS', help: 'delay between streamed tokens of the demo model', fallback: '35' },
} as const satisfies FlagTable;

function count(value: string | undefined, flag: string, fallback: number, max: number): number {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new UsageError(`${flag} must be an integer 0..${max}\nusage: ${usage}`);
  return n;
}

export const podSimulateCommand: Command = {
  name: 'pod simulate',
  summary: 'run a simulated confidential pod (gateway + demo model) to try attest / policy init / infer against',
  usage,
  options,
  example: 'ccinfer pod simulate --gpus 1 --anchors-out sim-anchors.json',
  async run(args, io) {
    const { values } = parse(args, options, usage);
    const tee = values.tee ?? 'snp';
    if (tee !== 'snp' && tee !== 'tdx') throw new UsageError(`--tee must be snp or tdx\nusage: ${usage}`);
    const gpus = count(values.gpus, '--gpus', 1, 8);
    const switches = count(values.switches, '--switches', 0, 4);
    if (switches > 0 && gpus === 0) throw new UsageError(`--switches connects GPUs: give --gpus too (PPCIe: --gpus 8 --switches 4)\nusage: ${usage}`);
    const listen = parseListen(values.listen, '127.0.0.1:8443');
    const delay = count(values['token-delay'], '--token-delay', 35, 10_000);
    const anchorsFile = values['anchors-out'] ?? 'sim-anchors.json';

    const material = values['sim-hierarchy'] ? await sharedHierarchy(values['sim-hierarchy'], io, 'pod simulate') : undefined;
    const sim = await createSimulatedProvider({ tee, gpus, switches, ...(material ? { material } : {}) });
    await io.writeFile(anchorsFile, JSON.stringify(sim.anchors, null, 2) + '\n');
    const model = await startModelServer({ tokenDelayMs: delay });
    try {
      const gateway = await createGateway({ upstream: model.url, evidence: sim });
      let url: string;
      try {
        ({ url } = await gateway.listen(listen.port, listen.host));
      } catch (err) {
        await gateway.close();
        throw listenFailure(err, listen);
      }
      const devices = `${tee === 'snp' ? 'SEV-SNP' : 'TDX'}${gpus ? ` + ${gpus} GPU(s)` : ''}${switches ? ` + ${switches} NVSwitch(es)` : ''}`;
      io.stdout(
        [
          `ccinfer pod simulate: a SIMULATED confidential pod (${devices}) serving model "${DEMO_MODEL}"`,
          `  pod URL       ${url}`,
          `  anchors file  ${anchorsFile}  (the simulator's roots: pass --anchors ${anchorsFile}; the pinned vendor roots refuse this pod)`,
          '',
          'first contact, from another terminal (the pod carries its collateral, so --offline works):',
          `  ccinfer attest ${url} --anchors ${anchorsFile} --offline --save pod.cbor   # refused: unpinned; evidence saved`,
          '  ccinfer policy init --from pod.cbor --out policy.json                   # review what it pins',
          `  ccinfer infer ${url} --anchors ${anchorsFile} --offline --policy policy.json --model ${DEMO_MODEL} "hello"`,
          '',
          'Ctrl-C stops the pod.',
          '',
        ].join('\n'),
      );
      if (!io.signal.aborted) await once(io.signal, 'abort');
      await gateway.close();
    } finally {
      await model.close();
    }
    return EXIT.ACCEPTED;
  },
};
