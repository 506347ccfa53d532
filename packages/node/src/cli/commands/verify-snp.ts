import { verifySnp } from '@ccinfer/verifier';
import { loadAnchors, loadPolicy, parse, parseAt, readInput, required, verifyOptions, provenanceOptions, loadProvenance, cliCache } from '../args.js';
import { printDocument } from '../format.js';
import type { Command , FlagTable } from '../types.js';

const usage = 'ccinfer verify snp --report FILE --cert FILE [--chain PEM] [--crl FILE] [--at ISO] [--policy FILE] [--provenance BUNDLE [--trusted-root FILE]] [--anchors FILE] [--offline] [--cache-dir DIR | --no-cache] [--json]';

const options = {
  report: { type: 'string', arg: 'FILE', help: 'the 1184-byte attestation report (required)' },
  cert: { type: 'string', arg: 'FILE', help: 'the VCEK or VLEK certificate, DER or PEM (required)' },
  chain: { type: 'string', arg: 'PEM', help: 'the ASK/ASVK + ARK chain', fallback: 'fetched from AMD KDS' },
  crl: { type: 'string', arg: 'FILE', help: 'the ARK-signed CRL', fallback: 'fetched from AMD KDS' },
  ...verifyOptions,
  ...provenanceOptions,
} as const satisfies FlagTable;

export const verifySnpCommand: Command = {
  name: 'verify snp',
  summary: 'verify an AMD SEV-SNP attestation report and its VCEK/VLEK',
  usage,
  options,
  example: 'ccinfer verify snp --report report.bin --cert vcek.der --chain cert_chain.pem --policy policy.json',
  async run(args, io) {
    const { values } = parse(args, options, usage);
    const reportPath = required(values.report, '--report', usage);
    const certPath = required(values.cert, '--cert', usage);
    const now = parseAt(values.at);
    const policy = await loadPolicy(io, values.policy);
    const anchors = await loadAnchors(io, values.anchors);
    const report = await readInput(io, reportPath, 'report');
    const leaf = await readInput(io, certPath, 'certificate');
    const chain = values.chain ? await readInput(io, values.chain, 'chain') : undefined;
    const crl = values.crl ? await readInput(io, values.crl, 'CRL') : undefined;
    const doc = await verifySnp(
      { report, leaf, ...(chain ? { chain } : {}), ...(crl ? { crl } : {}) },
      {
        anchors,
        policy: policy?.snp,
        provenance: await loadProvenance(io, values),
        ...(now ? { now } : {}),
        fetcher: values.offline ? undefined : io.fetcher,
        cache: cliCache(io, values),
        signal: io.signal,
      },
    );
    return printDocument(doc, values.json ?? false, `ccinfer verify snp ${reportPath}`, io.stdout);
  },
};
