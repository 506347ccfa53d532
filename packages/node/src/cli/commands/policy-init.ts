/**
 * `ccinfer policy init --from FILE`: a policy (docs/policy.md) that pins what an evidence bundle shows — the
 * measurements, HOST_DATA / MRCONFIGID, the reported TCB as the minimum, the device count and topology.
 * Review it before use: it trusts whatever the bundle contained, so appraise the bundle first.
 */
import { parsePolicy, policyFromBundle } from '@ccinfer/verifier';
import { parse, readInput, required } from '../args.js';
import { EXIT, UsageError, type Command } from '../types.js';

const usage = 'ccinfer policy init --from FILE [--out FILE]';

export const policyInitCommand: Command = {
  name: 'policy init',
  summary: 'write a policy pinning the measurements an evidence bundle shows',
  usage,
  async run(args, io) {
    const { values } = parse(args, { from: { type: 'string' }, out: { type: 'string' } }, usage);
    const bytes = await readInput(io, required(values.from, '--from', usage), 'bundle');
    let policy: unknown;
    try {
      policy = policyFromBundle(bytes);
    } catch (err) {
      throw new UsageError(`${values.from} is not a ccinfer/1 evidence bundle: ${(err as Error).message}`);
    }
    parsePolicy(policy); // what we write must be a policy we accept
    const text = JSON.stringify(policy, null, 2) + '\n';
    if (values.out) await io.writeFile(values.out, text);
    else io.stdout(text);
    return EXIT.ACCEPTED;
  },
};
