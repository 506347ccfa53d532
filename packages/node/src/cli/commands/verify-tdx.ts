import { verifyTdx, type TdxCollateral } from '@ccinfer/verifier';
import { loadAnchors, loadPolicy, parse, parseAt, readInput, verifyOptions, cliCache } from '../args.js';
import { printDocument } from '../format.js';
import { UsageError, type CliIo, type Command, type FlagTable } from '../types.js';

const usage =
  'ccinfer verify tdx --quote FILE [--collateral DIR] [--event-log FILE] [--at ISO] [--policy FILE] [--anchors FILE] [--offline] [--cache-dir DIR | --no-cache] [--json]';

/** The collateral directory of docs/cli.md "Verifying evidence": the Intel PCS responses, as served (issuer chains URL-decoded). */
async function readCollateralDir(io: CliIo, dir: string): Promise<TdxCollateral> {
  const f = (name: string): Promise<Uint8Array> => readInput(io, `${dir}/${name}`, 'collateral file');
  const [tcbInfo, tcbInfoIssuerChain, qeIdentity, qeIdentityIssuerChain, pckCrl, rootCaCrl] = await Promise.all([
    f('tcb_info.json'),
    f('tcb_info_issuer_chain.pem'),
    f('qe_identity.json'),
    f('qe_identity_issuer_chain.pem'),
    f('pck_crl.der'),
    f('root_ca_crl.der'),
  ]);
  const c: TdxCollateral = { tcbInfo, tcbInfoIssuerChain, qeIdentity, qeIdentityIssuerChain, pckCrl, rootCaCrl };
  try {
    c.pckCrlIssuerChain = await io.readFile(`${dir}/pck_crl_issuer_chain.pem`);
  } catch {
    // Optional: the quote's own PCK chain carries the CRL issuer.
  }
  return c;
}

const options = {
  quote: { type: 'string', arg: 'FILE', help: 'the TDX quote v4 / v5 (required)' },
  collateral: { type: 'string', arg: 'DIR', help: 'Intel PCS responses as served (tcb_info.json, qe_identity.json, pck_crl.der, …)', fallback: 'fetched from Intel PCS' },
  'event-log': { type: 'string', arg: 'FILE', help: 'the CCEL event log, replayed against the RTMRs' },
  ...verifyOptions,
} as const satisfies FlagTable;

export const verifyTdxCommand: Command = {
  name: 'verify tdx',
  summary: 'verify an Intel TDX quote (v4/v5) with DCAP collateral; Intel TCB status and advisories',
  usage,
  options,
  example: 'ccinfer verify tdx --quote quote.bin --collateral pcs/ --offline --at 2025-06-01T00:00:00Z',
  async run(args, io) {
    const { values } = parse(args, options, usage);
    if (!values.quote) throw new UsageError(`missing --quote\nusage: ${usage}`);
    if (!values.collateral && values.offline) throw new UsageError(`--offline needs --collateral DIR\nusage: ${usage}`);
    const now = parseAt(values.at);
    const policy = await loadPolicy(io, values.policy);
    const anchors = await loadAnchors(io, values.anchors);
    const quote = await readInput(io, values.quote, 'quote');
    const collateral = values.collateral ? await readCollateralDir(io, values.collateral) : undefined;
    const eventLog = values['event-log'] ? await readInput(io, values['event-log'], 'event log') : undefined;
    const grace = policy?.freshness?.collateralGraceSeconds;
    const doc = await verifyTdx(quote, {
      ...(now ? { now } : {}),
      anchors,
      ...(collateral ? { collateral } : {}),
      ...(policy?.tdx ? { policy: policy.tdx } : {}),
      ...(grace ? { collateralGraceMs: grace * 1000 } : {}),
      ...(eventLog ? { eventLog } : {}),
      ...(!values.offline && io.fetcher ? { fetcher: io.fetcher } : {}),
      cache: cliCache(io, values),
      signal: io.signal,
    });
    const title = `ccinfer verify tdx ${values.quote}  tcbStatus=${String(doc.claims['tcbStatus'] ?? 'unknown')} advisoryIds=[${((doc.claims['advisoryIds'] as string[] | undefined) ?? []).join(', ')}]`;
    return printDocument(doc, values.json ?? false, title, io.stdout);
  },
};
