import { parse } from '../args.js';
import { formatDocument } from '../format.js';
import { clientOptions, cliClient, endpointArg } from '../session.js';
import { EXIT, type Command, type FlagTable } from '../types.js';

const usage = 'ccinfer attest URL [--policy FILE] [--anchors FILE] [--save FILE] [--timeout SECONDS] [--offline] [--cache-dir DIR | --no-cache] [--allow-unpinned] [--json]';

const options = {
  ...clientOptions,
  save: { type: 'string', arg: 'FILE', help: 'write the evidence bundle, also when refused (for audit, or `ccinfer policy init --from FILE`)' },
  json: { type: 'boolean', help: 'print the verification document (or the error) as JSON' },
} as const satisfies FlagTable;

export const attestCommand: Command = {
  name: 'attest',
  summary: 'fetch a live pod\'s evidence bound to a fresh nonce and appraise it',
  usage,
  options,
  example: 'ccinfer attest http://127.0.0.1:8443 --anchors anchors.json --save pod.cbor',
  async run(args, io) {
    const { values, positionals } = parse(args, options, usage, 1);
    const endpoint = endpointArg(positionals[0], usage);
    const json = values.json ?? false;
    if (!json) io.stdout(`ccinfer attest ${endpoint}\n`);
    const client = await cliClient(io, endpoint, values, json ? undefined : io.stdout);
    let document;
    let refused: Uint8Array | undefined;
    client.on('rejected', (e) => {
      document = e.document;
      refused = e.bundle;
    });
    try {
      document = await client.attest({ signal: io.signal });
    } catch (err) {
      if (!document) throw err;
    }
    // A refused bundle is saved too: for audit, or to review and pin with `ccinfer policy init` (trust on first use).
    const saved = client.exportEvidence()?.bundle ?? refused;
    if (json) io.stdout(JSON.stringify(document, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v), 2) + '\n');
    else io.stdout(formatDocument(document!, '').split('\n').slice(1 + document!.checks.length).join('\n'));
    if (values.save && saved) {
      await io.writeFile(values.save, saved);
      const next = document!.ok ? '' : `; review it, then pin it: ccinfer policy init --from ${values.save} --out policy.json`;
      (json ? io.stderr : io.stdout)(`saved the evidence bundle (${saved.length} bytes) to ${values.save}${next}\n`);
    }
    return document!.ok ? EXIT.ACCEPTED : EXIT.REJECTED;
  },
};
