/**
 * `ccinfer policy init --from FILE`: a policy (DESIGN.md §6) that pins what an evidence bundle shows — the
 * measurements, HOST_DATA / MRCONFIGID, the reported TCB as the minimum, the device count and topology.
 * Review it before use: it trusts whatever the bundle contained, so appraise the bundle first.
 */
import { decodeBundle, toHex, isZero } from '@ccinfer/core';
import { decodeTcb, parsePolicy, parseSnpReport, parseTdxQuote, productFromCpuid } from '@ccinfer/verifier';
import { parse, readInput, required } from '../args.js';
import { EXIT, UsageError, type Command } from '../types.js';

const usage = 'ccinfer policy init --from FILE [--out FILE]';

export function policyFromBundle(bytes: Uint8Array): Record<string, unknown> {
  const b = decodeBundle(bytes);
  const policy: Record<string, unknown> = { version: 1 };
  if (b.cpu.tee === 'snp') {
    const r = parseSnpReport(b.cpu.report);
    const product = productFromCpuid(r.cpuid);
    const snp: Record<string, unknown> = { measurements: [toHex(r.measurement)], vmpl: [r.vmpl] };
    if (!isZero(r.hostData)) snp['hostData'] = [toHex(r.hostData)];
    if (product) {
      snp['productLines'] = [product];
      const t = decodeTcb(r.reportedTcbRaw, product);
      snp['minTcb'] = Object.fromEntries(Object.entries(t).filter(([k]) => ['bootloader', 'tee', 'snp', 'microcode', 'fmc'].includes(k)));
    }
    policy['snp'] = snp;
  } else {
    const q = parseTdxQuote(b.cpu.quote).body;
    policy['tdx'] = {
      mrTd: [toHex(q.mrTd)],
      rtmr0: [toHex(q.rtmrs[0])],
      rtmr1: [toHex(q.rtmrs[1])],
      rtmr2: [toHex(q.rtmrs[2])],
      rtmr3: [toHex(q.rtmrs[3])],
      mrConfigId: [toHex(q.mrConfigId)],
      mrSeam: [toHex(q.mrSeam)],
    };
  }
  if (b.gpus.length > 0) policy['gpu'] = { count: { min: b.gpus.length, max: b.gpus.length }, mode: b.switches.length > 0 ? 'ppcie' : 'single' };
  return policy;
}

export const policyInitCommand: Command = {
  name: 'policy init',
  summary: 'write a policy pinning the measurements an evidence bundle shows',
  usage,
  async run(args, io) {
    const { values } = parse(args, { from: { type: 'string' }, out: { type: 'string' } }, usage);
    const bytes = await readInput(io, required(values.from, '--from', usage), 'bundle');
    let policy: Record<string, unknown>;
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
