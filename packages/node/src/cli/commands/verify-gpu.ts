import { verifyGpu } from '@ccinfer/verifier';
import { loadAnchors, loadPolicy, parse, parseAt, parseHexFlag, readInput, required, verifyOptions, cliCache } from '../args.js';
import { printDocument } from '../format.js';
import type { Command , FlagTable } from '../types.js';

const usage =
  'ccinfer verify gpu --report FILE --certs PEM --nonce HEX [--rim FILE]... [--at ISO] [--policy FILE] [--anchors FILE] [--offline] [--cache-dir DIR | --no-cache] [--json]';

/** An SPDM report file: raw bytes, or the hex text NVIDIA tools and our vectors also use. */
function reportBytes(raw: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(raw.subarray(0, 64));
  if (raw[0] === 0x11 || !/^[0-9a-fA-F\s]+$/.test(text)) return raw;
  return parseHexFlag(new TextDecoder().decode(raw).replace(/\s+/g, ''), '--report');
}

const options = {
  report: { type: 'string', arg: 'FILE', help: 'the SPDM attestation report, raw or hex (required)' },
  certs: { type: 'string', arg: 'PEM', help: 'the device certificate chain (required)' },
  nonce: { type: 'string', arg: 'HEX', help: 'the 32-byte nonce the report must echo (required)' },
  rim: { type: 'string', multiple: true, arg: 'FILE', help: 'a driver or VBIOS RIM (repeatable)', fallback: 'fetched from the NVIDIA RIM service' },
  ...verifyOptions,
} as const satisfies FlagTable;

export const verifyGpuCommand: Command = {
  name: 'verify gpu',
  summary: 'verify an NVIDIA GPU / NVSwitch SPDM attestation report, its device chain and RIMs',
  usage,
  options,
  example: 'ccinfer verify gpu --report gpu.hex --certs gpu-chain.pem --nonce <64 hex> --rim driver.swidtag',
  async run(args, io) {
    const { values } = parse(
      args,
      options,
      usage,
    );
    const reportPath = required(values.report, '--report', usage);
    const certsPath = required(values.certs, '--certs', usage);
    const expectedNonce = parseHexFlag(required(values.nonce, '--nonce', usage), '--nonce', 32);
    const now = parseAt(values.at);
    const policy = await loadPolicy(io, values.policy);
    const anchors = await loadAnchors(io, values.anchors);
    const report = reportBytes(await readInput(io, reportPath, 'report'));
    const certChain = await readInput(io, certsPath, 'certificate chain');
    const rims = await Promise.all((values.rim ?? []).map((p) => readInput(io, p, 'RIM')));
    const doc = await verifyGpu(
      { report, certChain },
      {
        expectedNonce,
        anchors,
        policy: policy?.gpu,
        rims,
        ...(now ? { now } : {}),
        fetcher: values.offline ? undefined : io.fetcher,
        cache: cliCache(io, values),
        signal: io.signal,
      },
    );
    return printDocument(doc, values.json ?? false, `ccinfer verify gpu ${reportPath}`, io.stdout);
  },
};
