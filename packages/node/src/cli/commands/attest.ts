import { parse } from '../args.js';
import { formatDocument } from '../format.js';
import { clientOptions, cliClient, endpointArg } from '../session.js';
import { EXIT, type Command } from '../types.js';

const usage = 'ccinfer attest URL [--policy FILE] [--anchors FILE] [--save FILE] [--offline] [--json]';

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
    client.on('rejected', (e) => {
      document = e.document;
    });
    try {
      document = await client.attest();
    } catch (err) {
      if (!document) throw err;
    }
    const evidence = client.exportEvidence();
    if (values.save && evidence) await io.writeFile(values.save, evidence.bundle);
    if (json) io.stdout(JSON.stringify(document, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v), 2) + '\n');
    else io.stdout(formatDocument(document!, '').split('\n').slice(1 + document!.checks.length).join('\n'));
    return document!.ok ? EXIT.ACCEPTED : EXIT.REJECTED;
  },
};

