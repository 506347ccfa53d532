/**
 * `ccinfer collateral fetch`: appraises a saved evidence bundle with network access, recording every piece of
 * collateral the appraisal needed beyond what the bundle carries (AMD KDS VCEK / chain / CRL, Intel PCS TCB
 * Info / QE Identity / CRLs, NVIDIA RIMs and OCSP responses), and writes them to one ccinfer-collateral/1 file
 * that a browser client loads (`collateralFile`) where AMD's and Intel's servers cannot be reached (no CORS).
 * The items are vendor-signed and verified again wherever the file is used.
 */
import { RecordingCache, decodeBundle, encodeCollateralFile, CcinferError } from '@ccinfer/core';
import { appraise } from '@ccinfer/verifier';
import { loadAnchors, loadPolicy, parse, parseAt, readInput, required } from '../args.js';
import { formatDocument } from '../format.js';
import { EXIT, UsageError, type Command, type FlagTable } from '../types.js';

const usage = 'ccinfer collateral fetch BUNDLE --out FILE [--anchors FILE] [--policy FILE] [--at ISO]';

const options = {
  out: { type: 'string', arg: 'FILE', help: 'where to write the ccinfer-collateral/1 file (required)' },
  anchors: { type: 'string', arg: 'FILE', help: 'trust anchors replacing the pinned vendor roots' },
  policy: { type: 'string', arg: 'FILE', help: 'appraisal policy JSON (which GPU RIMs are needed)' },
  at: { type: 'string', arg: 'ISO', help: 'verification time', fallback: 'now' },
} as const satisfies FlagTable;

export const collateralFetchCommand: Command = {
  name: 'collateral fetch',
  summary: 'fetch the AMD / Intel / NVIDIA collateral a saved bundle needs into one file for browsers',
  usage,
  options,
  example: 'ccinfer collateral fetch pod.cbor --out collateral.cbor',
  async run(args, io) {
    const { values, positionals } = parse(args, options, usage, 1);
    const path = positionals[0];
    if (!path) throw new UsageError(`missing the bundle file\nusage: ${usage}`);
    const out = required(values.out, '--out', usage);
    const bytes = await readInput(io, path, 'bundle');
    const anchors = await loadAnchors(io, values.anchors);
    const policy = await loadPolicy(io, values.policy);
    const now = parseAt(values.at) ?? new Date();
    let nonce: Uint8Array;
    try {
      // The bundle's own nonce: this run gathers collateral, it does not establish freshness.
      nonce = decodeBundle(bytes).nonce;
    } catch (err) {
      io.stderr(`ccinfer collateral fetch: ${path} is not an evidence bundle (${err instanceof CcinferError ? err.code : 'unreadable'})\n`);
      return EXIT.REJECTED;
    }
    if (!io.fetcher) io.stderr('ccinfer collateral fetch: no network access: only cached collateral can be written\n');
    const cache = new RecordingCache();
    const { document } = await appraise(bytes, { nonce, now, anchors, policy, fetcher: io.fetcher, cache, signal: io.signal });
    await io.writeFile(out, encodeCollateralFile(cache.written, now));
    io.stdout(formatDocument(document, `ccinfer collateral fetch ${path}`));
    io.stdout(`wrote ${cache.written.size} collateral item(s) to ${out}${cache.written.size ? ':\n' + [...cache.written.keys()].map((k) => `  ${k}\n`).join('') : '\n'}`);
    return document.ok ? EXIT.ACCEPTED : EXIT.REJECTED;
  },
};
