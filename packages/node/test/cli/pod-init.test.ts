/**
 * `ccinfer pod init`: the manifests validate against the Kubernetes OpenAPI schemas (kubernetes-models), carry
 * every object the reference architecture needs, and the initdata annotation decodes to the written TOML whose
 * digest is the one the written policy pins.
 */
import { mkdtempSync, readFileSync, existsSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { toHex } from '@ccinfer/core';
import { initdataClaims, parsePolicyText } from '@ccinfer/verifier';
import { cli } from './io.js';

const root = mkdtempSync(join(tmpdir(), 'ccinfer-pod-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const outDir = (): string => join(root, `out${n++}`);

const MODEL = 'registry.example/vllm@sha256:' + 'a'.repeat(64);
const GATEWAY = 'registry.example/ccinfer-gateway:0.1.0';
const json = (dir: string, file: string): any => JSON.parse(readFileSync(join(dir, file), 'utf8'));

async function podInit(extra: string[]): Promise<{ dir: string; code: number; err: string }> {
  const dir = outDir();
  const r = await cli(['pod', 'init', '--model-image', MODEL, '--gateway-image', GATEWAY, '--out', dir, ...extra]);
  return { dir, code: r.code, err: r.err };
}

describe('ccinfer pod init', () => {
  for (const [tee, platform, runtimeClass, register] of [
    ['snp', 'kata', 'kata-qemu-nvidia-gpu-snp', 'hostData'],
    ['tdx', 'kata', 'kata-qemu-nvidia-gpu-tdx', 'mrConfigId'],
    ['snp', 'openshift', 'kata-cc-nvidia-gpu', 'hostData'],
    ['tdx', 'openshift', 'kata-cc-nvidia-gpu', 'mrConfigId'],
  ] as const) {
    it(`${tee} on ${platform}: schema-valid manifests, initdata annotation = written TOML, digest pinned in policy.json`, async () => {
      const { dir, code, err } = await podInit(['--tee', tee, '--platform', platform, '--gpus', '2']);
      expect(err).toBe('');
      expect(code).toBe(0);
      const k8s = join(dir, 'k8s');
      const deployment = json(k8s, 'deployment.json');
      const service = json(k8s, 'service.json');
      const configMap = json(k8s, 'configmap-initdata.json');
      // The Kubernetes OpenAPI schemas: validate() throws on any violation.
      new Deployment(deployment).validate();
      new Service(service).validate();
      new ConfigMap(configMap).validate();
      expect(existsSync(join(k8s, 'service-peers.json'))).toBe(false); // one replica: no peer discovery
      expect(deployment.spec.template.spec.containers[1].args).not.toContain('--peers-dns');

      const pod = deployment.spec.template;
      expect(deployment.spec.replicas).toBe(1);
      expect(pod.spec.runtimeClassName).toBe(runtimeClass);
      expect(pod.metadata.annotations['io.katacontainers.config.hypervisor.kernel_params']).toBe('agent.guest_components_rest_api=all');
      const [model, gateway] = pod.spec.containers;
      expect(pod.spec.containers).toHaveLength(2);
      expect(model).toMatchObject({ name: 'model', image: MODEL, resources: { limits: { 'nvidia.com/pgpu': '2' } } });
      expect(model.resources.limits['nvidia.com/nvswitch']).toBeUndefined();
      expect(model.ports).toBeUndefined(); // the model is reachable only through the gateway
      expect(gateway).toMatchObject({ name: 'ccinfer-gateway', image: GATEWAY, ports: [{ name: 'ccinfer', containerPort: 8443 }] });
      expect(gateway.resources).toBeUndefined(); // no GPU for the gateway
      expect(gateway.args.slice(0, 7)).toEqual(['gateway', '--upstream', 'http://127.0.0.1:8000', '--evidence', 'coco', '--gpu', 'aa']);
      expect(gateway.args).toContain('--initdata');
      expect(gateway.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      // The gateway serves the initdata it mounts from the ConfigMap.
      const initdataPath = gateway.args[gateway.args.indexOf('--initdata') + 1];
      const mount = gateway.volumeMounts.find((m: { name: string }) => m.name === 'initdata');
      expect(initdataPath).toBe(`${mount.mountPath}/initdata.toml`);
      expect(pod.spec.volumes.find((v: { name: string }) => v.name === 'initdata').configMap.name).toBe(configMap.metadata.name);
      // The Service exposes the gateway port only, and selects the Deployment's pods.
      expect(service.spec.ports).toEqual([{ name: 'ccinfer', port: 8443, targetPort: 'ccinfer', protocol: 'TCP' }]);
      expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
      expect(pod.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);

      // base64(gzip(TOML)) decodes to the written initdata.toml, byte for byte; the ConfigMap holds the same text.
      const toml = readFileSync(join(dir, 'initdata.toml'));
      const annotation = pod.metadata.annotations['io.katacontainers.config.hypervisor.cc_init_data'];
      expect(gunzipSync(Buffer.from(annotation, 'base64')).equals(toml)).toBe(true);
      expect(configMap.data['initdata.toml']).toBe(toml.toString('utf8'));
      const claims = await initdataClaims(new Uint8Array(toml), { tee });
      expect(claims.algorithm).toBe(tee === 'snp' ? 'sha256' : 'sha384'); // fills the register exactly
      expect(Object.keys(claims.parts).sort()).toEqual(['aa.toml', 'cdh.toml', 'policy.rego']);

      const policy = parsePolicyText(readFileSync(join(dir, 'policy.json'), 'utf8'));
      const cpu = (policy as any)[tee];
      expect(cpu[register]).toEqual([toHex(claims.register)]);
      expect(cpu.measurements ?? cpu.mrTd).toBeUndefined(); // left for the user: README.txt says why
      expect(policy.gpu).toEqual({ count: { min: 2, max: 2 }, mode: 'single' });
      const readme = readFileSync(join(dir, 'README.txt'), 'utf8');
      expect(readme).toContain(toHex(claims.register));
      expect(readme).toContain('ERR_POLICY_UNPINNED');
    });
  }

  it('PPCIe with replicas: nvswitch limits, headless Service for the replicas', async () => {
    const { dir, code } = await podInit(['--tee', 'tdx', '--gpus', '8', '--switches', '4', '--replicas', '3', '--name', 'llama']);
    expect(code).toBe(0);
    const k8s = join(dir, 'k8s');
    const deployment = json(k8s, 'deployment.json');
    const peers = json(k8s, 'service-peers.json');
    new Deployment(deployment).validate();
    new Service(peers).validate();
    expect(deployment.metadata.name).toBe('llama');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.containers[0].resources.limits).toEqual({ 'nvidia.com/pgpu': '8', 'nvidia.com/nvswitch': '4' });
    expect(peers.metadata.name).toBe('llama-peers');
    expect(peers.spec.clusterIP).toBe('None');
    expect(peers.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    // Every gateway finds the others through the headless Service (the peers' port is the gateway's).
    const gateway = deployment.spec.template.spec.containers[1];
    expect(gateway.args.slice(gateway.args.indexOf('--peers-dns'))).toEqual(['--peers-dns', 'llama-peers:8443']);
    expect(gateway.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 'ccinfer' });
    expect(json(dir, 'policy.json').gpu).toEqual({ count: { min: 8, max: 8 }, mode: 'ppcie' });
  });

  it('the schema check can fail: a broken manifest is refused', async () => {
    const { dir } = await podInit(['--tee', 'snp']);
    const deployment = json(join(dir, 'k8s'), 'deployment.json');
    deployment.spec.template.spec.containers[1].ports[0].containerPort = '8443';
    expect(() => new Deployment(deployment).validate()).toThrow();
    const service = json(join(dir, 'k8s'), 'service.json');
    delete service.spec.ports[0].port;
    expect(() => new Service(service).validate()).toThrow();
  });

  it('no GPU: no device limits, the gateway collects none', async () => {
    const { dir, code } = await podInit(['--tee', 'snp', '--gpus', '0']);
    expect(code).toBe(0);
    const deployment = json(join(dir, 'k8s'), 'deployment.json');
    new Deployment(deployment).validate();
    const [model, gateway] = deployment.spec.template.spec.containers;
    expect(model.resources).toBeUndefined();
    expect(gateway.args.slice(5, 7)).toEqual(['--gpu', 'none']);
    expect(json(dir, 'policy.json').gpu).toBeUndefined();
  });

  it('--initdata: the user-finished document (genpolicy output) is annotated, served and pinned as is', async () => {
    const first = await podInit(['--tee', 'snp']);
    const file = join(first.dir, 'initdata.toml');
    const finished = readFileSync(file, 'utf8').replace(/default CreateContainerRequest := false/, 'default CreateContainerRequest := true');
    writeFileSync(file, finished);
    const r = await cli(['pod', 'init', '--tee', 'snp', '--model-image', MODEL, '--gateway-image', GATEWAY, '--initdata', file, '--out', first.dir]);
    expect(r.code).toBe(0);
    const deployment = json(join(first.dir, 'k8s'), 'deployment.json');
    const annotation = deployment.spec.template.metadata.annotations['io.katacontainers.config.hypervisor.cc_init_data'];
    expect(gunzipSync(Buffer.from(annotation, 'base64')).toString('utf8')).toBe(finished);
    const digest = toHex((await initdataClaims(finished, { tee: 'snp' })).register);
    expect(json(first.dir, 'policy.json').snp.hostData).toEqual([digest]);
  });

  it('usage errors exit 2 and write nothing', async () => {
    const cases: string[][] = [
      [], // no --tee
      ['--tee', 'sev'],
      ['--tee', 'snp', '--gpus', '9'],
      ['--tee', 'snp', '--gpus', '-1'],
      ['--tee', 'snp', '--gpus', 'two'],
      ['--tee', 'snp', '--gpus', '2', '--switches', '4'], // switches only with 8 GPUs in PPCIe
      ['--tee', 'snp', '--switches', '5', '--gpus', '8'],
      ['--tee', 'snp', '--platform', 'gke'],
      ['--tee', 'snp', '--replicas', '0'],
      ['--tee', 'snp', '--name', 'Bad_Name'],
      ['--tee', 'snp', '--initdata', join(root, 'missing.toml')],
      ['--tee', 'snp', '--unknown-flag'],
    ];
    for (const extra of cases) {
      const { dir, code, err } = await podInit(extra);
      expect(code, extra.join(' ')).toBe(2);
      expect(err).not.toBe('');
      expect(existsSync(dir)).toBe(false);
    }
    const bad = join(root, 'bad-initdata.toml');
    for (const text of ['version = "0.1.0"\n[data]\n', 'algorithm = "sha256"\n[data]\n"policy.rego" = 1\n']) {
      writeFileSync(bad, text);
      expect((await podInit(['--tee', 'snp', '--initdata', bad])).code).toBe(2);
    }
    for (const [flag, value] of [['--model-image', 'has space'], ['--gateway-image', ''], ['--model-image', 'x\ny']] as const) {
      const dir = outDir();
      const args = ['pod', 'init', '--tee', 'snp', '--model-image', MODEL, '--gateway-image', GATEWAY, '--out', dir];
      args[args.indexOf(flag) + 1] = value;
      expect((await cli(args)).code).toBe(2);
      expect(existsSync(dir)).toBe(false);
    }
    expect((await cli(['pod', 'init', '--tee', 'snp', '--model-image', MODEL, '--gateway-image', GATEWAY])).code).toBe(2); // no --out
  });
});
