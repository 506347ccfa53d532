/**
 * `ccinfer pod init`: everything needed to run a model behind the ccinfer gateway in the reference architecture
 * (Kata confidential VMs with the NVIDIA GPU Operator and the Confidential Containers guest components; README
 * "Deploying on the reference architecture"): the Kubernetes manifests, the pod's initdata document, and a client
 * policy that pins that document's digest.
 *
 * Why the initdata pin matters: every Kata pod started from one guest image has the same launch measurement, and
 * the Attestation Agent's REST API (which the gateway needs) signs any runtime data it is given. A measurement
 * pin alone therefore accepts any Kata pod, running anyone's containers ("evidence factory", CoCo
 * `get-attestation.md`). What makes a pod ours is its initdata: the host measures its digest into SNP HOST_DATA /
 * TDX MRCONFIGID (Kata `addHypervisorInitdataOverrides`), and its `policy.rego` (from `genpolicy`) fixes which
 * containers, images and commands the agent runs.
 *
 * For SEV-SNP the policy can also pin the launch measurement with no first contact: computed from the node's Kata
 * runtime configuration and the images it names (`--kata-config`, the same computation as `ccinfer measure snp`),
 * or given (`--measurement`). TDX has no MRTD calculator here, so `--tee tdx` refuses those flags rather than
 * writing a value nobody computed.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CcinferError, toBase64, toHex } from '@ccinfer/core';
import { initdataDigest, parsePolicy } from '@ccinfer/verifier';
import { parse, readInput, required } from '../args.js';
import { SNP_LAUNCH_FLAGS, snpLaunchFromFlags, type SnpLaunchResult } from '../snp-launch.js';
import { EXIT, UsageError, type CliIo, type Command, type FlagTable } from '../types.js';

const usage =
  'ccinfer pod init --tee snp|tdx --model-image IMG --gateway-image IMG --out DIR [--gpus N] [--switches M] [--platform kata|openshift] [--replicas N] [--name NAME] [--initdata FILE] [--measurement HEX]... [--kata-config FILE [--append TEXT] [--vcpus N] [--vcpu-type NAME] [--guest-features HEX] | --ovmf FILE ...]';

/** RuntimeClasses of the NVIDIA confidential-containers stack (GPU Operator docs) and OpenShift sandboxed containers. */
const RUNTIME_CLASS = {
  kata: { snp: 'kata-qemu-nvidia-gpu-snp', tdx: 'kata-qemu-nvidia-gpu-tdx' },
  openshift: { snp: 'kata-cc-nvidia-gpu', tdx: 'kata-cc-nvidia-gpu' },
} as const;

/** Kata reads the pod's initdata from this annotation: base64 of the gzip-compressed TOML. */
export const INITDATA_ANNOTATION = 'io.katacontainers.config.hypervisor.cc_init_data';
/** Kernel parameters of the guest; the agent starts the guest components' REST API with `/aa/*` only when asked. */
export const KERNEL_PARAMS_ANNOTATION = 'io.katacontainers.config.hypervisor.kernel_params';
export const KERNEL_PARAMS = 'agent.guest_components_rest_api=all';

/** The gateway's one exposed port, and where the model server must listen (loopback of the pod only). */
const GATEWAY_PORT = 8443;
const MODEL_URL = 'http://127.0.0.1:8000';
const INITDATA_DIR = '/etc/ccinfer/initdata';

interface PodOptions {
  tee: 'snp' | 'tdx';
  platform: 'kata' | 'openshift';
  gpus: number;
  switches: number;
  replicas: number;
  name: string;
  modelImage: string;
  gatewayImage: string;
}

/** The launch measurements policy.json pins (SNP), and where each came from, for README.txt. */
interface MeasurementPins {
  given: string[];
  computed: (SnpLaunchResult & { hex: string }) | undefined;
}

function intFlag(value: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,4}$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}\nusage: ${usage}`);
  return Number(value);
}

function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (value === undefined) throw new UsageError(`missing ${flag}\nusage: ${usage}`);
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be ${allowed.join(' or ')}, not ${value}`);
  return value as T;
}

function image(value: string | undefined, flag: string): string {
  const v = required(value, flag, usage);
  // An OCI reference: no whitespace or control characters (they would break the manifest or the policy).
  if (!/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/.test(v) || v.length > 512) throw new UsageError(`${flag} ${JSON.stringify(v)} is not an image reference`);
  return v;
}

/**
 * The initdata template (Trustee `kbs/docs/initdata.md`; the agent reads exactly `aa.toml`, `cdh.toml` and
 * `policy.rego`). The algorithm fills the register exactly: SHA-256 for SNP HOST_DATA (32 bytes), SHA-384 for
 * TDX MRCONFIGID (48 bytes). The agent policy is a deny-all placeholder, so an unfinished deployment fails
 * closed; `genpolicy` replaces it with rules for exactly this pod's containers.
 */
export function initdataTemplate(tee: 'snp' | 'tdx'): string {
  return `version = "0.1.0"
algorithm = "${tee === 'snp' ? 'sha256' : 'sha384'}"

[data]
"aa.toml" = '''
# Attestation Agent configuration. Fill in your Key Broker Service if the pod fetches secrets through it.
[token_configs]
[token_configs.kbs]
url = "https://kbs.invalid:8080"
'''

"cdh.toml" = '''
# Confidential Data Hub configuration (same Key Broker Service as aa.toml).
socket = "unix:///run/confidential-containers/cdh.sock"

[kbc]
name = "cc_kbc"
url = "https://kbs.invalid:8080"
'''

"policy.rego" = '''
# PLACEHOLDER agent policy: refuses every request, so this pod cannot start until it is replaced.
# Generate the real one with genpolicy for k8s/deployment.json (see README.txt), then re-run
# ccinfer pod init --initdata initdata.toml so the annotation and policy.json match it.
package agent_policy

default CreateContainerRequest := false
default ExecProcessRequest := false
default ReadStreamRequest := false
'''
`;
}

type Manifest = Record<string, unknown>;

function labels(o: PodOptions): Record<string, string> {
  return { 'app.kubernetes.io/name': o.name, 'app.kubernetes.io/component': 'confidential-inference' };
}

function deployment(o: PodOptions, initdata: Uint8Array): Manifest {
  const gpuLimits: Record<string, string> = {};
  if (o.gpus > 0) gpuLimits['nvidia.com/pgpu'] = String(o.gpus);
  if (o.switches > 0) gpuLimits['nvidia.com/nvswitch'] = String(o.switches);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: o.name, labels: labels(o) },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: labels(o) },
      template: {
        metadata: {
          labels: labels(o),
          annotations: {
            [INITDATA_ANNOTATION]: toBase64(gzipSync(initdata)),
            [KERNEL_PARAMS_ANNOTATION]: KERNEL_PARAMS,
          },
        },
        spec: {
          runtimeClassName: RUNTIME_CLASS[o.platform][o.tee],
          automountServiceAccountToken: false,
          containers: [
            {
              // No ports: the model server must listen on the pod's loopback only, behind the gateway.
              name: 'model',
              image: o.modelImage,
              ...(Object.keys(gpuLimits).length > 0 ? { resources: { limits: gpuLimits } } : {}),
            },
            {
              name: 'ccinfer-gateway',
              image: o.gatewayImage,
              args: [
                'gateway',
                '--upstream', MODEL_URL,
                '--evidence', 'coco',
                '--gpu', o.gpus > 0 ? 'aa' : 'none',
                '--initdata', `${INITDATA_DIR}/initdata.toml`,
                '--listen', `0.0.0.0:${GATEWAY_PORT}`,
                '--cache-dir', '/var/lib/ccinfer/cache',
                // Replicas (docs/architecture.md "Replicas"): the headless Service lists every ready replica, and a
                // request for another replica's key is forwarded to it still encrypted. The short name resolves
                // through the pod's DNS search path (its own namespace).
                ...(o.replicas > 1 ? ['--peers-dns', `${peersService(o)}:${GATEWAY_PORT}`] : []),
              ],
              // Ready once it serves: the headless Service publishes only ready replicas as peers.
              readinessProbe: { httpGet: { path: '/healthz', port: 'ccinfer' }, periodSeconds: 5 },
              ports: [{ name: 'ccinfer', containerPort: GATEWAY_PORT, protocol: 'TCP' }],
              securityContext: {
                runAsNonRoot: true,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'initdata', mountPath: INITDATA_DIR, readOnly: true },
                { name: 'state', mountPath: '/var/lib/ccinfer' },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            // The gateway serves the document the pod was started with; the host controls this ConfigMap, but a
            // client accepts it only when its digest is the HOST_DATA / MRCONFIGID the hardware signed.
            { name: 'initdata', configMap: { name: `${o.name}-initdata` } },
            { name: 'state', emptyDir: {} },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}

function service(o: PodOptions, headless: boolean): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: headless ? peersService(o) : o.name, labels: labels(o) },
    spec: {
      selector: labels(o),
      ports: [{ name: 'ccinfer', port: GATEWAY_PORT, targetPort: 'ccinfer', protocol: 'TCP' }],
      // Headless: DNS answers with every ready replica's address: the gateways' --peers-dns.
      ...(headless ? { clusterIP: 'None', publishNotReadyAddresses: false } : { type: 'ClusterIP' }),
    },
  };
}

/** The headless Service whose A records are the replicas (the gateways' peers). */
function peersService(o: PodOptions): string {
  return `${o.name}-peers`;
}

function configMap(o: PodOptions, initdata: string): Manifest {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${o.name}-initdata`, labels: labels(o) }, data: { 'initdata.toml': initdata } };
}

/** README.txt step 2: the measurement pinned and where it came from, or how to pin it. */
function measurementStep(o: PodOptions, pins: MeasurementPins): string {
  const why = `Clients refuse a pod unless BOTH the measurement and the
   initdata digest are pinned (ERR_POLICY_UNPINNED): every Kata pod of one guest image has the same
   measurement, and the agent's REST API signs any data it is given, so a measurement pin alone would accept
   any Kata pod running anyone's containers ("evidence factory"). The initdata digest, whose policy.rego fixes
   the containers and their images, is what makes the pod yours.`;
  const c = pins.computed;
  if (c === undefined && pins.given.length === 0) {
    const measurement = o.tee === 'snp' ? 'snp.measurements (the SNP launch measurement)' : 'tdx.mrTd (and tdx.rtmr0..rtmr2)';
    return `2. Pin the launch measurement: add ${measurement} to policy.json.
   It is left out on purpose: it depends on the guest image, kernel, firmware, vCPU count and kernel command
   line of your nodes.${o.tee === 'snp' ? ` Compute it with ccinfer pod init ... --kata-config <the node's
   configuration-qemu-nvidia-gpu-snp.toml> --append "<the guest kernel command line, with ${KERNEL_PARAMS}>"
   (or ccinfer measure snp with the same flags), or take it` : ' MRTD computation is not available in ccinfer: take it'}
   from a first bundle with ccinfer attest --save and ccinfer policy init. ${why}`;
  }
  const lines = ['2. The launch measurement is pinned in policy.json (snp.measurements), with no first contact:'];
  if (c !== undefined) {
    const s = c.source;
    lines.push(`   ${c.hex}`,
      `     computed from ${s.kataConfig !== undefined ? `the Kata configuration ${s.kataConfig}: ` : ''}firmware ${s.ovmf}${s.kernel !== undefined ? `, kernel ${s.kernel}` : ''}${s.initrd !== undefined ? `, initrd ${s.initrd}` : ''},`,
      `     ${c.vcpus} vCPU(s)${c.vcpuType !== undefined ? ` of type ${c.vcpuType}` : ''}, vmm ${c.vmm}, SEV features ${c.guestFeatures}, ${c.directBoot ? `kernel command line ${JSON.stringify(s.append ?? '')}` : 'no kernel hashes'}`,
      '     (ccinfer measure snp with the same flags prints the same value and, with --json, every launch step).');
    for (const n of c.notes) lines.push(`     note: ${n}`);
  }
  for (const m of pins.given) lines.push(`   ${m}`, '     given with --measurement.');
  lines.push(`   Recompute and re-run pod init when the nodes' firmware, kernel, initrd, vCPU count or command line change:
   a pod launched from other images reports another measurement and is refused (ERR_SNP_POLICY_MEASUREMENT).
   ${why}`);
  return lines.join('\n');
}

function readme(o: PodOptions, register: string, pins: MeasurementPins): string {
  const reg = o.tee === 'snp' ? 'HOST_DATA' : 'MRCONFIGID';
  const pinned = pins.computed !== undefined || pins.given.length > 0;
  return `ccinfer pod init output (${o.tee.toUpperCase()}, ${RUNTIME_CLASS[o.platform][o.tee]}, ${o.gpus} GPU(s), ${o.switches} NVSwitch(es), ${o.replicas} replica(s))

initdata.toml        the pod's initdata. Its ${o.tee === 'snp' ? 'sha256' : 'sha384'} digest is measured into ${reg}:
                     ${register}
k8s/                 Deployment, Service${o.replicas > 1 ? `, headless Service ${peersService(o)} (the gateways find each other
                     through it and forward requests for another replica's key to it, still encrypted)` : ''} and the ConfigMap the gateway serves
                     initdata.toml from. Apply with: kubectl apply -f k8s/
policy.json          the client policy: pins ${o.tee === 'snp' ? 'snp.hostData' : 'tdx.mrConfigId'} = the initdata digest above${pinned ? '\n                     and snp.measurements = the launch measurement (step 2)' : ''}.

Before deploying:
1. Replace the placeholder agent policy. Run genpolicy (Kata tools) on k8s/deployment.json with
   initdata.toml, write the generated policy into initdata.toml's "policy.rego", fill aa.toml / cdh.toml,
   then re-run:  ccinfer pod init ... --initdata initdata.toml --out <this directory>
   so the annotation, the ConfigMap and policy.json carry the final document's digest.
${measurementStep(o, pins)}
3. The model image must serve its OpenAI-compatible API on ${MODEL_URL} (loopback only); the gateway is the only
   exposed port (${GATEWAY_PORT}).${o.gpus > 0 ? `\n4. The gateway collects GPU evidence with --gpu aa (guest components v0.21, Kata >= 4.0). On Kata 3.29 use
   --gpu nvattest or --gpu nvml with access to the GPUs instead.` : ''}
`;
}

/**
 * The SNP launch measurements to pin: computed from the launch flags (shared with `ccinfer measure snp`) and/or
 * given with `--measurement`. Refused for TDX: there is no MRTD calculator, and a guessed value would pin nothing.
 */
async function measurementPins(io: CliIo, tee: 'snp' | 'tdx', values: Record<string, unknown>): Promise<MeasurementPins> {
  const given = (values['measurement'] as string[] | undefined) ?? [];
  const launch = Object.keys(SNP_LAUNCH_FLAGS).filter((k) => values[k] !== undefined);
  if (tee === 'tdx' && (given.length > 0 || launch.length > 0)) {
    throw new UsageError(`--${given.length > 0 ? 'measurement' : launch[0]} is SEV-SNP only: MRTD computation from a TDVF image is not available in ccinfer; pin tdx.mrTd from a first bundle (ccinfer attest --save, ccinfer policy init)\nusage: ${usage}`);
  }
  const seen = new Set<string>();
  for (const m of given) {
    if (!/^[0-9a-fA-F]{96}$/.test(m)) throw new UsageError(`--measurement must be 48 bytes of hex (the SNP launch MEASUREMENT), not ${JSON.stringify(m)}\nusage: ${usage}`);
    if (seen.has(m.toLowerCase())) throw new UsageError(`--measurement ${m} is given twice`);
    seen.add(m.toLowerCase());
  }
  let computed: MeasurementPins['computed'];
  if (launch.length > 0) {
    const r = await snpLaunchFromFlags(io, values as Parameters<typeof snpLaunchFromFlags>[1], usage);
    computed = { ...r, hex: toHex(r.measurement) };
    // The same value computed and given: pinned once, reported as computed.
    seen.delete(computed.hex);
  }
  return { given: [...seen], computed };
}

const options = {
  tee: { type: 'string', arg: 'snp|tdx', help: 'the confidential VM type (required)' },
  gpus: { type: 'string', arg: 'N', help: 'GPUs passed to the model container (0..8)', fallback: '1' },
  switches: { type: 'string', arg: 'N', help: 'NVSwitches, PPCIe (0..4, only with --gpus 8)', fallback: '0' },
  'model-image': { type: 'string', arg: 'IMG', help: 'the model server image (required)' },
  'gateway-image': { type: 'string', arg: 'IMG', help: 'the ccinfer gateway sidecar image (required)' },
  platform: { type: 'string', arg: 'kata|openshift', help: 'the Kubernetes flavour (RuntimeClass names)', fallback: 'kata' },
  replicas: { type: 'string', arg: 'N', help: 'Deployment replicas (1..100)', fallback: '1' },
  name: { type: 'string', arg: 'NAME', help: 'the Deployment and Service name', fallback: 'ccinfer-model' },
  initdata: { type: 'string', arg: 'FILE', help: 'a finished initdata document (after genpolicy) instead of the template' },
  out: { type: 'string', arg: 'DIR', help: 'where to write k8s/, initdata.toml, policy.json and README.txt (required)' },
  measurement: { type: 'string', multiple: true, arg: 'HEX', help: 'SNP only: a launch measurement (48 bytes) to pin (repeatable)' },
  // SNP only: the flags and computation of `ccinfer measure snp`, whose result policy.json pins.
  ...SNP_LAUNCH_FLAGS,
} as const satisfies FlagTable;

export const podInitCommand: Command = {
  name: 'pod init',
  summary: 'write Kubernetes manifests, initdata and a client policy for a confidential inference pod',
  usage,
  options,
  example: 'ccinfer pod init --tee snp --model-image vllm/vllm-openai:v0.6.3 --gateway-image ghcr.io/example/ccinfer-gateway:1 --out deploy/',
  async run(args, io) {
    const { values } = parse(
      args,
      options,
      usage,
    );
    const tee = oneOf(values.tee, '--tee', ['snp', 'tdx'] as const);
    const gpus = intFlag(values.gpus, '--gpus', 1, 0, 8);
    const switches = intFlag(values.switches, '--switches', 0, 0, 4);
    // NVSwitches are attested only with their GPUs in protected PCIe mode (8 GPUs and 4 switches on HGX Hopper).
    if (switches > 0 && gpus !== 8) throw new UsageError(`--switches needs --gpus 8 (protected PCIe: 8 GPUs with 4 NVSwitches), not --gpus ${gpus}`);
    const name = values.name ?? 'ccinfer-model';
    // A DNS-1035 label: Service names must be one, and "-initdata" / "-peers" are appended.
    if (!/^[a-z]([a-z0-9-]{0,44}[a-z0-9])?$/.test(name)) throw new UsageError(`--name ${JSON.stringify(name)} must be a lower-case DNS label of at most 46 characters`);
    const o: PodOptions = {
      tee,
      platform: oneOf(values.platform, '--platform', ['kata', 'openshift'] as const, 'kata'),
      gpus,
      switches,
      replicas: intFlag(values.replicas, '--replicas', 1, 1, 100),
      name,
      modelImage: image(values['model-image'], '--model-image'),
      gatewayImage: image(values['gateway-image'], '--gateway-image'),
    };
    const out = required(values.out, '--out', usage);
    const pins = await measurementPins(io, tee, values);
    const measurements = [...(pins.computed ? [pins.computed.hex] : []), ...pins.given.map((m) => m.toLowerCase())];

    let text: string;
    if (values.initdata !== undefined) {
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(await readInput(io, values.initdata, 'initdata'));
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError(`initdata ${values.initdata} is not UTF-8`);
      }
    } else text = initdataTemplate(tee);
    let register: Uint8Array;
    try {
      register = await initdataDigest(text, { tee });
    } catch (err) {
      if (err instanceof CcinferError) throw new UsageError(`initdata ${values.initdata ?? ''} is not an initdata document: ${err.message}`);
      throw err;
    }
    const bytes = new TextEncoder().encode(text);
    const policy = parsePolicy({
      version: 1,
      ...(tee === 'snp'
        ? { snp: { ...(measurements.length > 0 ? { measurements } : {}), hostData: [toHex(register)] } }
        : { tdx: { mrConfigId: [toHex(register)] } }),
      ...(gpus > 0 ? { gpu: { count: { min: gpus, max: gpus }, mode: switches > 0 ? 'ppcie' : 'single' } } : {}),
    });

    const k8s = join(out, 'k8s');
    try {
      await mkdir(k8s, { recursive: true });
    } catch (err) {
      throw new UsageError(`cannot create ${k8s}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const json = (m: unknown): string => JSON.stringify(m, null, 2) + '\n';
    const files: [string, string | Uint8Array][] = [
      [join(out, 'initdata.toml'), bytes],
      [join(out, 'policy.json'), json(policy)],
      [join(out, 'README.txt'), readme(o, toHex(register), pins)],
      [join(k8s, 'configmap-initdata.json'), json(configMap(o, text))],
      [join(k8s, 'deployment.json'), json(deployment(o, bytes))],
      [join(k8s, 'service.json'), json(service(o, false))],
    ];
    if (o.replicas > 1) files.push([join(k8s, 'service-peers.json'), json(service(o, true))]);
    for (const [path, data] of files) {
      try {
        await io.writeFile(path, data);
      } catch (err) {
        throw new UsageError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    const pinned = measurements.map((m) => `MEASUREMENT (launch digest${m === pins.computed?.hex ? ', computed' : ', given'}): ${m}\n`).join('');
    io.stdout(`wrote ${files.map(([p]) => p).join(', ')}\n${tee === 'snp' ? 'HOST_DATA' : 'MRCONFIGID'} (initdata digest): ${toHex(register)}\n${pinned}next: read ${join(out, 'README.txt')}\n`);
    for (const n of pins.computed?.notes ?? []) io.stderr(`  note: ${n}\n`);
    return EXIT.ACCEPTED;
  },
};
