import { verifyNras } from '@ccinfer/verifier';
import { UsageError, type FlagTable } from '../types.js';
import { parse, parseAt, parseHexFlag, readInput, required } from '../args.js';
import { printDocument } from '../format.js';
import type { Command } from '../types.js';

const usage = 'ccinfer verify nras --token FILE --jwks FILE --nonce HEX [--evidence FILE]... [--at ISO] [--json]';

const options = {
  token: { type: 'string', arg: 'FILE', help: 'the NRAS detached EAT (required)' },
  jwks: { type: 'string', arg: 'FILE', help: 'NRAS\'s JSON Web Key Set (required)' },
  nonce: { type: 'string', arg: 'HEX', help: 'the 32-byte nonce sent to NRAS (required)' },
  evidence: { type: 'string', multiple: true, arg: 'FILE', help: 'the evidence submitted, checked against the token (repeatable)' },
  at: { type: 'string', arg: 'ISO', help: 'verification time, ISO-8601 with a time zone', fallback: 'now' },
  json: { type: 'boolean', help: 'print the verification document as JSON' },
} as const satisfies FlagTable;

export const verifyNrasCommand: Command = {
  name: 'verify nras',
  summary: 'verify an NVIDIA Remote Attestation Service result (detached EAT); delegated appraisal',
  usage,
  options,
  example: 'ccinfer verify nras --token eat.json --jwks nras-jwks.json --nonce <64 hex>',
  async run(args, io) {
    const { values } = parse(
      args,
      options,
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
