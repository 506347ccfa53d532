import { appraise } from '@ccinfer/verifier';
import { loadAnchors, loadPolicy, parse, parseAt, parseHexFlag, readInput, verifyOptions, provenanceOptions, loadProvenance, cliCache } from '../args.js';
import { printDocument } from '../format.js';
import { UsageError, type Command, type FlagTable } from '../types.js';

const usage = 'ccinfer verify bundle FILE [--nonce HEX] [--at ISO] [--policy FILE] [--provenance BUNDLE [--trusted-root FILE]] [--anchors FILE] [--offline] [--cache-dir DIR | --no-cache] [--json]';

const options = {
  nonce: { type: 'string', arg: 'HEX', help: 'the 32-byte nonce the bundle must be bound to', fallback: 'none: an audit, freshness not established' },
  ...verifyOptions,
  ...provenanceOptions,
} as const satisfies FlagTable;

export const verifyBundleCommand: Command = {
  name: 'verify bundle',
  summary: 'appraise a ccinfer/1 evidence bundle (CPU + GPUs + NVSwitches + binding)',
  usage,
  options,
  example: 'ccinfer verify bundle pod.cbor --policy policy.json --anchors sim-anchors.json --offline',
  async run(args, io) {
    const { values, positionals } = parse(args, options, usage, 1);
    const file = positionals[0];
    if (!file) throw new UsageError(`missing FILE\nusage: ${usage}`);
    const nonce = values.nonce !== undefined ? parseHexFlag(values.nonce, '--nonce', 32) : undefined;
    const now = parseAt(values.at);
    const policy = await loadPolicy(io, values.policy);
    const anchors = await loadAnchors(io, values.anchors);
    const bytes = await readInput(io, file, 'bundle');
    const { document } = await appraise(bytes, {
      ...(nonce ? { nonce } : { audit: true }),
      policy,
      anchors,
      now,
      provenance: await loadProvenance(io, values),
      fetcher: values.offline ? undefined : io.fetcher,
      cache: cliCache(io, values),
      signal: io.signal,
    });
    return printDocument(document, values.json ?? false, `ccinfer verify bundle ${file}${nonce ? '' : ' (audit: no --nonce, freshness not established)'}`, io.stdout);
  },
};
