/**
 * `ccinfer keybroker`: a model owner's Key Broker Service speaking Trustee's KBS protocol 0.4.0, releasing
 * each resource only to pods whose evidence ccinfer appraises against that resource's policy.
 */
import { once } from 'node:events';
import { ConfigError } from '@ccinfer/core';
import { parseCollateralFile, type CollateralFile } from '@ccinfer/core';
import { defaultDiskCache } from '../../disk-cache.js';
import { loadAnchors, loadPolicy, parse, readInput, required } from '../args.js';
import { createKeyBroker, DirectoryResourceStore, FileAuditSink, parseResourcePolicies } from '../../keybroker/index.js';
import { parsePolicyJson } from '@ccinfer/verifier';
import { parseListen } from './proxy.js';
import { EXIT, UsageError, type Command, type FlagTable } from '../types.js';

const usage =
  'ccinfer keybroker --resources DIR --policy FILE [--listen 127.0.0.1:8080] [--attestation-policy FILE] [--audit FILE] [--admin-key PEM] [--anchors FILE] [--snp-crl FILE] [--collateral-file FILE] [--cache-dir DIR] [--offline] [--session-ttl SECONDS]';

const options = {
  resources: { type: 'string', arg: 'DIR', help: 'resource files, <repository>/<type>/<tag> (required)' },
  policy: { type: 'string', arg: 'FILE', help: 'resource policies JSON (required)' },
  listen: { type: 'string', arg: 'HOST:PORT', help: 'loopback address to listen on', fallback: '127.0.0.1:8080' },
  'attestation-policy': { type: 'string', arg: 'FILE', help: 'an appraisal policy applied to every attestation' },
  audit: { type: 'string', arg: 'FILE', help: 'append-only audit log; nothing is released when it cannot be written' },
  'admin-key': { type: 'string', arg: 'PEM', help: 'enables the admin API with this public key' },
  anchors: { type: 'string', arg: 'FILE', help: 'trust anchors replacing the pinned vendor roots' },
  'snp-crl': { type: 'string', arg: 'FILE', help: 'the ARK-signed CRL to use' },
  'collateral-file': { type: 'string', arg: 'FILE', help: 'a ccinfer-collateral/1 file (ccinfer collateral fetch) loaded into the cache' },
  'cache-dir': { type: 'string', arg: 'DIR', help: 'where fetched collateral is kept between runs' },
  offline: { type: 'boolean', help: 'fetch no collateral: only the collateral file, the pods\' bundles and the cache' },
  'session-ttl': { type: 'string', arg: 'SECONDS', help: 'KBS session lifetime, 1..86400' },
} as const satisfies FlagTable;

export const keybrokerCommand: Command = {
  name: 'keybroker',
  summary: 'run a KBS-protocol (Trustee 0.4.0) key broker that releases model keys only to appraised pods',
  usage,
  options,
  example: 'ccinfer keybroker --resources ./resources --policy resource-policy.json --audit audit.jsonl',
  async run(args, io) {
    const { values } = parse(
      args,
      options,
      usage,
    );
    const dir = required(values.resources, '--resources', usage);
    const policyPath = required(values.policy, '--policy', usage);
    let policies;
    try {
      policies = parseResourcePolicies(parsePolicyJson(new TextDecoder().decode(await readInput(io, policyPath, 'resource policy'))));
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(`resource policy ${policyPath} is invalid:\n  ${err.fields.join('\n  ')}`);
      throw err;
    }
    const ttl = values['session-ttl'] !== undefined ? Number(values['session-ttl']) : undefined;
    if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0 && ttl <= 86_400)) throw new UsageError('--session-ttl must be 1..86400 seconds');
    const listen = parseListen(values.listen, '127.0.0.1:8080');
    const adminKey = values['admin-key'] ? new TextDecoder().decode(await readInput(io, values['admin-key'], 'admin public key')) : undefined;
    const broker = await createKeyBroker({
      store: new DirectoryResourceStore(dir),
      policies,
      attestationPolicy: await loadPolicy(io, values['attestation-policy']),
      anchors: await loadAnchors(io, values.anchors),
      // Offline (no vendor access): collateral only from --collateral-file, --cache-dir and --snp-crl.
      fetcher: values.offline ? undefined : io.fetcher,
      ...(values['snp-crl'] ? { snpCrl: await readInput(io, values['snp-crl'], 'SNP CRL') } : {}),
      ...(values['collateral-file'] ? { collateralFile: await readCollateralFile(io, values['collateral-file']) } : {}),
      ...(values['cache-dir'] ? { cache: defaultDiskCache(values['cache-dir']) } : {}),
      ...(values.audit ? { audit: new FileAuditSink(values.audit) } : {}),
      ...(adminKey ? { admin: { publicKey: adminKey } } : {}),
      ...(ttl ? { sessionTtlSeconds: ttl } : {}),
      log: (event, detail) => io.stderr(`keybroker: ${event}${detail ? ' ' + JSON.stringify(detail) : ''}\n`),
    });
    let url: string;
    try {
      ({ url } = await broker.listen(listen.port, listen.host));
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(err.message);
      throw err;
    }
    io.stdout(`ccinfer keybroker: KBS protocol 0.4.0 on ${url}/kbs/v0 — ${policies.entries.length} resource polic${policies.entries.length === 1 ? 'y' : 'ies'}, resources in ${dir}${adminKey ? ', admin API enabled' : ''}\n`);
    if (!io.signal.aborted) await once(io.signal, 'abort');
    await broker.close();
    return EXIT.ACCEPTED;
  },
};

/** A `ccinfer collateral fetch` file; one that is not a collateral file is a usage error (exit 2). */
async function readCollateralFile(io: Parameters<Command['run']>[1], path: string): Promise<CollateralFile> {
  try {
    return parseCollateralFile(await readInput(io, path, 'collateral file'));
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`collateral file ${path} is invalid: ${err.message}`);
    throw err;
  }
}
