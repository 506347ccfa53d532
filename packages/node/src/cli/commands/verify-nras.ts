import { verifyNras } from '@ccinfer/verifier';
import { UsageError } from '../types.js';
import { parse, parseAt, parseHexFlag, readInput, required } from '../args.js';
import { printDocument } from '../format.js';
import type { Command } from '../types.js';

const usage = 'ccinfer verify nras --token FILE --jwks FILE --nonce HEX [--evidence FILE]... [--at ISO] [--json]';

export const verifyNrasCommand: Command = {
  name: 'verify nras',
  summary: 'verify an NVIDIA Remote Attestation Service result (detached EAT); delegated appraisal',
  usage,
  async run(args, io) {
    const { values } = parse(
      args,
      {
        token: { type: 'string' },
        jwks: { type: 'string' },
        nonce: { type: 'string' },
        evidence: { type: 'string', multiple: true },
        at: { type: 'string' },
        json: { type: 'boolean' },
      },
      usage,
    );
    const tokenPath = required(values.token, '--token', usage);
    const jwksPath = required(values.jwks, '--jwks', usage);
    const expectedNonce = parseHexFlag(required(values.nonce, '--nonce', usage), '--nonce', 32);
    const now = parseAt(values.at);
    const token = await readInput(io, tokenPath, 'token');
    let jwks: { keys: never[] };
    try {
      jwks = JSON.parse(new TextDecoder().decode(await readInput(io, jwksPath, 'JWKS')));
      if (!Array.isArray(jwks.keys)) throw new Error('no keys');
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--jwks ${jwksPath} is not a JSON Web Key Set`);
    }
    const evidence = await Promise.all((values.evidence ?? []).map((p) => readInput(io, p, 'evidence')));
    const doc = await verifyNras(token, { expectedNonce, jwks, evidence, ...(now ? { now } : {}) });
    return printDocument(doc, values.json ?? false, `ccinfer verify nras ${tokenPath} (delegated to NVIDIA NRAS)`, io.stdout);
  },
};
