import { parse } from '../args.js';
import { formatDocument } from '../format.js';
import { clientOptions, cliClient, endpointArg } from '../session.js';
import { EXIT, type Command } from '../types.js';

const usage = 'ccinfer attest URL [--policy FILE] [--anchors FILE] [--save FILE] [--offline] [--cache-dir DIR | --no-cache] [--allow-unpinned] [--json]';

export const attestCommand: Command = {
  name: 'attest',
  summary: 'fetch a live pod\'s evidence bound to a fresh nonce and appraise it',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, { ...clientOptions, save: { type: 'string' }, json: { type: 'boolean' } }, usage, 1);
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
      document = await client.attest();
    } catch (err) {
      if (!document) throw err;
    }
    // A refused bundle is saved too: for audit, or to review and pin with `ccinfer policy init` (trust on first use).
    const saved = client.exportEvidence()?.bundle ?? refused;
    if (values.save && saved) await io.writeFile(values.save, saved);
    if (json) io.stdout(JSON.stringify(document, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v), 2) + '\n');
    else io.stdout(formatDocument(document!, '').split('\n').slice(1 + document!.checks.length).join('\n'));
    return document!.ok ? EXIT.ACCEPTED : EXIT.REJECTED;
  },
};

