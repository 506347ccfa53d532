/**
 * The `configfs` evidence provider: real hardware through the Linux configfs-tsm report interface
 * (Documentation/ABI/testing/configfs-tsm, Linux ≥ 6.7):
 *
 *   mkdir  /sys/kernel/config/tsm/report/<name>
 *   write  <name>/inblob      64 bytes → REPORT_DATA (SNP) / REPORTDATA (TDX)
 *   read   <name>/outblob     the SNP ATTESTATION_REPORT or the TDX quote
 *   read   <name>/auxblob     SNP only: the certificate table (VCEK/VLEK, ASK, ARK) when the host provides it
 *                             (parsed by @ccinfer/verifier's parseCertTable)
 *   read   <name>/provider    "sev_guest" or "tdx_guest"
 *   read   <name>/generation  incremented by every write; another writer between our write and our read
 *                             means outblob may belong to their inblob, so we compare and retry
 *   rmdir  <name>
 *
 * GPU / NVSwitch evidence comes from a configured command that prints NVIDIA's evidence JSON for a nonce.
 */
import { execFile } from 'node:child_process';
import * as nodeFs from 'node:fs/promises';
import { join } from 'node:path';
export type { GatewayErrorCode } from './errors.js';
import { CcinferError, fromBase64, toHex, type CpuEvidence, type EvidenceBundle, type GpuEvidence } from '@ccinfer/core';
import { CERT_TABLE_GUID as GUID, parseCertTable } from '@ccinfer/verifier/internal';
import { gatewayError } from './errors.js';
import { assembleBundle, noDevices, type CpuEvidenceSource, type DeviceEvidenceSource, type EvidenceProvider } from './provider.js';

/** The subset of `fs/promises` the provider uses, injectable so tests can emulate the kernel. */
export interface TsmFs {
  mkdir(path: string): Promise<unknown>;
  rmdir(path: string): Promise<unknown>;
  writeFile(path: string, data: Uint8Array): Promise<unknown>;
  readFile(path: string): Promise<Uint8Array>;
}

export interface ConfigfsOptions {
  /** Default `/sys/kernel/config/tsm/report`. */
  root?: string;
  fs?: TsmFs;
  /** SNP: leaf certificate (DER) to use when the host does not fill auxblob. */
  snpLeaf?: Uint8Array;
  /** Command (argv) printing GPU evidence JSON; the nonce is passed as the last argument in hex. */
  gpuCommand?: string[];
  /** Runs the GPU command (injectable for tests). Default `execFile`. */
  run?: (argv: string[]) => Promise<string>;
  initdata?: string;
  /** Attempts on generation races. Default 3. */
  attempts?: number;
}

function configfsCpu(o: ConfigfsOptions): CpuEvidenceSource {
  const fs: TsmFs = o.fs ?? { mkdir: (p) => nodeFs.mkdir(p), rmdir: (p) => nodeFs.rmdir(p), writeFile: (p, d) => nodeFs.writeFile(p, d), readFile: async (p) => new Uint8Array(await nodeFs.readFile(p)) };
  const root = o.root ?? '/sys/kernel/config/tsm/report';
  let seq = 0;
  const text = async (p: string): Promise<string> => new TextDecoder().decode(await fs.readFile(p)).trim();
  return {
    async report(reportData: Uint8Array): Promise<CpuEvidence> {
      const dir = join(root, `ccinfer-${process.pid}-${seq++}`);
      try {
        await fs.mkdir(dir);
      } catch (cause) {
        throw gatewayError('ERR_GATEWAY_CONFIGFS', `cannot create ${dir}`, { cause });
      }
      try {
        for (let attempt = 0; attempt < (o.attempts ?? 3); attempt++) {
          await fs.writeFile(join(dir, 'inblob'), reportData);
          const before = await text(join(dir, 'generation'));
          const provider = await text(join(dir, 'provider'));
          const outblob = await fs.readFile(join(dir, 'outblob'));
          const aux = provider === 'sev_guest' ? await fs.readFile(join(dir, 'auxblob')).catch(() => new Uint8Array(0)) : new Uint8Array(0);
          if ((await text(join(dir, 'generation'))) !== before) continue; // raced with another writer
          if (provider === 'tdx_guest') return { tee: 'tdx', quote: outblob };
          if (provider !== 'sev_guest') throw gatewayError('ERR_GATEWAY_CONFIGFS', `unsupported TSM provider "${provider}"`);
          const certs = aux.length > 0 ? parseCertTable(aux) : new Map<string, Uint8Array>();
          const leaf = certs.get(GUID.vcek) ?? certs.get(GUID.vlek) ?? o.snpLeaf;
          if (!leaf) throw gatewayError('ERR_GATEWAY_NO_LEAF', 'no VCEK/VLEK in auxblob and none configured');
          const chain = [certs.get(GUID.ask), certs.get(GUID.ark)].filter((c): c is Uint8Array => c !== undefined);
          return { tee: 'snp', report: outblob, leaf, ...(chain.length > 0 ? { chain } : {}) };
        }
        throw gatewayError('ERR_GATEWAY_GENERATION_RACE', 'configfs-tsm generation kept changing under us');
      } catch (err) {
        if (err instanceof CcinferError) throw err;
        throw gatewayError('ERR_GATEWAY_CONFIGFS', `configfs-tsm report failed in ${dir}`, { cause: err });
      } finally {
        await fs.rmdir(dir).catch(() => undefined);
      }
    },
  };
}

interface NvidiaEvidenceItem {
  evidence: string;
  certificate: string;
}

function toDevice(x: unknown, i: number): GpuEvidence {
  const e = x as Partial<NvidiaEvidenceItem>;
  if (typeof e?.evidence !== 'string' || typeof e.certificate !== 'string') {
    throw gatewayError('ERR_GATEWAY_GPU_COMMAND', `evidence entry ${i} lacks base64 "evidence" and "certificate"`);
  }
  return { report: fromBase64(e.evidence), certChain: fromBase64(e.certificate) };
}

/**
 * NVIDIA evidence JSON as printed by nvtrust / nvattest collectors and sent to NRAS:
 * `{ "evidence_list": [{ "evidence": b64, "certificate": b64 }] }`, or a bare list; NVSwitches under
 * `"switches"` in the same shape.
 */
export function parseNvidiaEvidenceJson(json: string): { gpus: GpuEvidence[]; switches: GpuEvidence[] } {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (cause) {
    throw gatewayError('ERR_GATEWAY_GPU_COMMAND', 'GPU command output is not JSON', { cause });
  }
  const o = (Array.isArray(v) ? { evidence_list: v } : v) as { evidence_list?: unknown; gpus?: unknown; switches?: unknown };
  const gpus = o.evidence_list ?? o.gpus ?? [];
  const switches = o.switches ?? [];
  if (!Array.isArray(gpus) || !Array.isArray(switches)) throw gatewayError('ERR_GATEWAY_GPU_COMMAND', 'evidence lists must be arrays');
  return { gpus: gpus.map(toDevice), switches: switches.map(toDevice) };
}

function commandDevices(argv: string[], run: (argv: string[]) => Promise<string>): DeviceEvidenceSource {
  return {
    async collect(nonce) {
      let out: string;
      try {
        out = await run([...argv, toHex(nonce)]);
      } catch (cause) {
        throw gatewayError('ERR_GATEWAY_GPU_COMMAND', `${argv[0]} failed`, { cause });
      }
      return parseNvidiaEvidenceJson(out);
    },
  };
}

const execRun = (argv: string[]): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });

export function createConfigfsProvider(options: ConfigfsOptions = {}): EvidenceProvider {
  const cpu = configfsCpu(options);
  const devices = options.gpuCommand ? commandDevices(options.gpuCommand, options.run ?? execRun) : noDevices;
  return {
    name: 'configfs',
    collect: (request): Promise<EvidenceBundle> => assembleBundle(request, cpu, devices, options.initdata !== undefined ? { initdata: options.initdata } : {}),
  };
}
