// ccinfer weight gate: a model owner releases the key to its weights only to pods whose evidence passes.
//
//   node index.mjs
//
// 1. The owner encrypts a weights file (AES-256-GCM) and keeps the key as a KBS resource
//    `default/llama-weights/key`, with a policy pinning the approved pod (launch measurement and the digest of
//    its initdata, HOST_DATA) and a CC GPU.
// 2. The owner runs the key broker (KBS protocol 0.4.0, as Trustee speaks it) on 127.0.0.1.
// 3. Two simulated Confidential Containers pods ask for the key the way their Confidential Data Hub does
//    (auth → attest with SEV-SNP + GPU evidence bound to an ephemeral key → GET resource → JWE):
//    the approved pod decrypts the weights; a pod running other software is refused and gets nothing, and so is
//    a pod of the same guest image (same launch measurement) started with other initdata: in Kata every pod of
//    one image has the same measurement, so only the initdata digest tells the owner's pod from anyone else's.
// The evidence comes from ccinfer's hardware simulator: only the simulator's own roots accept it.
import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { webcrypto as crypto } from 'node:crypto';
import { createKeyBroker, DirectoryResourceStore, FileAuditSink, parseResourcePolicies } from '@ccinfer/node/keybroker';
import { initdataDigest, parsePolicy } from '@ccinfer/verifier';
import { openKbsResponse } from '@ccinfer/verifier/trustee';
import { mintKbsAttestation, simulatedPodMaterial } from '@ccinfer/verifier/testing';

const APPROVED = 'a1'.repeat(48); // the launch measurement of the pod image the owner approved
// The approved pod's initdata: its agent policy fixes which containers run (genpolicy writes the real one).
const INITDATA = 'version = "0.1.0"\nalgorithm = "sha256"\n[data]\n"policy.rego" = "package agent_policy # approved containers"\n';
const LAB_GPU = { requireRim: false, ocsp: 'skip' }; // the simulated GPUs have no RIM / OCSP service

/** A pod's Confidential Data Hub, reduced to the KBS protocol calls it makes. */
async function podFetchKey(kbs, { measurement, hostData }) {
  const cookieJar = {};
  const call = async (method, path, body) => {
    const res = await fetch(kbs + path, {
      method,
      headers: { 'content-type': 'application/json', ...(cookieJar.c ? { cookie: cookieJar.c } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const set = res.headers.get('set-cookie');
    if (set) cookieJar.c = set.split(';')[0];
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };
  const challenge = await call('POST', '/kbs/v0/auth', { version: '0.4.0', tee: 'snp', 'extra-params': '' });
  // Ephemeral key generated inside the TEE; only its public half leaves.
  const keys = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const jwk = await crypto.subtle.exportKey('jwk', keys.publicKey);
  const teePubkey = { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: jwk.x, y: jwk.y };
  const { attestation } = await mintKbsAttestation({ nonce: challenge.body.nonce, teePubkey, gpus: 1, report: { measurement: Uint8Array.from(Buffer.from(measurement, 'hex')), hostData } });
  const attest = await call('POST', '/kbs/v0/attest', attestation);
  if (attest.status !== 200) return { ok: false, step: 'attest', ...attest };
  const res = await call('GET', '/kbs/v0/resource/default/llama-weights/key');
  if (res.status !== 200) return { ok: false, step: 'resource', ...res };
  return { ok: true, key: await openKbsResponse(keys.privateKey, res.body) };
}

async function decryptWeights(key, sealed) {
  const k = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['decrypt']);
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.subarray(0, 12) }, k, sealed.subarray(12)));
}

export async function main({ log = console.log } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'ccinfer-weight-gate-'));

  // 1. The model owner: weights, their key, the encrypted file, the resource and its policy.
  const weights = crypto.getRandomValues(new Uint8Array(1 << 16));
  const key = crypto.getRandomValues(new Uint8Array(32));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const k = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
  const sealed = new Uint8Array([...iv, ...new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, k, weights))]);
  await writeFile(join(dir, 'weights.bin.enc'), sealed);
  await mkdir(join(dir, 'resources'));
  const store = new DirectoryResourceStore(join(dir, 'resources'));
  await store.put({ repository: 'default', type: 'llama-weights', tag: 'key' }, key);
  const approvedHostData = await initdataDigest(INITDATA, { tee: 'snp' });
  const policies = parseResourcePolicies({
    version: 1,
    resources: { 'default/llama-weights/key': { policy: { version: 1, snp: { measurements: [APPROVED], hostData: [Buffer.from(approvedHostData).toString('hex')] }, gpu: { ...LAB_GPU, count: { min: 1 } } } } },
  });
  log(`owner: encrypted ${weights.length} bytes of weights; key stored as default/llama-weights/key`);

  // 2. The key broker.
  const sim = await simulatedPodMaterial();
  const auditFile = join(dir, 'audit.jsonl');
  const broker = await createKeyBroker({
    store,
    policies,
    attestationPolicy: parsePolicy({ version: 1, gpu: LAB_GPU }),
    anchors: sim.anchors,
    snpCrl: await sim.amd.mintCrl(),
    audit: new FileAuditSink(auditFile),
  });
  const { url } = await broker.listen(0, '127.0.0.1');
  log(`broker: KBS protocol 0.4.0 on ${url}`);

  try {
    // 3a. The approved pod.
    const good = await podFetchKey(url, { measurement: APPROVED, hostData: approvedHostData });
    const plain = good.ok ? await decryptWeights(good.key, new Uint8Array(await readFile(join(dir, 'weights.bin.enc')))) : undefined;
    const decrypted = plain !== undefined && Buffer.from(plain).equals(Buffer.from(weights));
    log(`approved pod: ${decrypted ? 'received the key and decrypted the weights' : `refused (${good.step} ${good.status})`}`);

    // 3b. A pod running other software (another launch measurement).
    const rogue = await podFetchKey(url, { measurement: 'b2'.repeat(48), hostData: approvedHostData });
    log(`rogue pod: ${rogue.ok ? 'received the key (!)' : `refused at ${rogue.step}: ${rogue.status} ${rogue.body?.type?.split('/').pop()}`}`);

    // 3c. The same guest image (same launch measurement) with someone else's initdata and containers.
    const other = await initdataDigest(INITDATA.replace('approved containers', 'any containers'), { tee: 'snp' });
    const lookalike = await podFetchKey(url, { measurement: APPROVED, hostData: other });
    log(`same image, other initdata: ${lookalike.ok ? 'received the key (!)' : `refused at ${lookalike.step}: ${lookalike.status} ${lookalike.body?.type?.split('/').pop()}`}`);

    const audit = (await readFile(auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    for (const e of audit.filter((e) => e.event === 'release' || e.event === 'refusal')) {
      log(`audit: ${e.event} ${e.resource ?? ''} ${e.code ?? ''} document ${e.documentDigest?.slice(0, 16) ?? '-'}…`);
    }
    return { decrypted, rogue, lookalike, audit };
  } finally {
    await broker.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
