/**
 * Binding schemes: how a CPU report's REPORT_DATA commits to a session. Each scheme is a named object; an
 * appraisal names the scheme it expects and never guesses (docs/binding.md). `ccinfer/1` and its text form
 * `ccinfer/1-text` are defined here; others (Trustee KBS runtime-data: SHA-384 over the JSON
 * {"nonce","tee-pubkey"}, peers' schemes) are further `BindingScheme`s.
 */
import { concat, equalBytes, toBase64Url, toHex, utf8 } from '../bytes.js';
import { sha256, sha384, sha512 } from '../crypto.js';
import { VerificationError } from '../errors.js';
import { NONCE_LENGTH, type EvidenceBundle } from './bundle.js';
import { sessionError } from './errors.js';

export interface BindingInput {
  /** The client's fresh nonce, echoed by the pod. */
  nonce: Uint8Array;
  /** The RFC 9458 key config the client will encrypt to, exactly as carried in the bundle. */
  keyConfig: Uint8Array;
  /** SPDM request || response of each GPU, then each NVSwitch, in bundle order. */
  gpuReports: Uint8Array[];
  switchReports: Uint8Array[];
}

export interface BindingScheme {
  /** Stable name, recorded in verification documents. */
  readonly name: string;
  /** Length of the REPORT_DATA / MRCONFIG value the scheme produces (64 for SNP and TDX). */
  readonly length: number;
  compute(input: BindingInput): Promise<Uint8Array>;
}

/**
 * The committed inputs, framed once for every ccinfer scheme (docs/binding.md "ccinfer/1"):
 *   label || 0x00 || nonce || SHA-256(keyConfig) || u8(#gpus) || SHA-256(gpu.report)... || u8(#switches)
 *   || SHA-256(switch.report)...
 * The label and the 0x00 separator keep the digest from colliding with any other use of the hash over the
 * same inputs (and the two schemes from each other); the counts make the GPU/switch split unambiguous.
 */
async function preimage(label: string, input: BindingInput): Promise<Uint8Array> {
  if (input.nonce.length !== NONCE_LENGTH) throw sessionError('ERR_SESSION_BINDING_INPUT', `nonce must be ${NONCE_LENGTH} bytes`);
  if (input.gpuReports.length > 255 || input.switchReports.length > 255) {
    throw sessionError('ERR_SESSION_BINDING_INPUT', 'at most 255 GPUs and 255 switches can be bound');
  }
  const digests = await Promise.all([input.keyConfig, ...input.gpuReports, ...input.switchReports].map(sha256));
  const kc = digests[0]!;
  const gpus = digests.slice(1, 1 + input.gpuReports.length);
  const switches = digests.slice(1 + input.gpuReports.length);
  return concat(utf8(label), new Uint8Array([0]), input.nonce, kc, new Uint8Array([gpus.length]), ...gpus, new Uint8Array([switches.length]), ...switches);
}

/** `ccinfer/1`: SHA-512 of the framed inputs under the label "ccinfer/1 binding"; fills REPORT_DATA exactly. */
export const ccinferV1Binding: BindingScheme = {
  name: 'ccinfer/1',
  length: 64,
  compute: async (input: BindingInput): Promise<Uint8Array> => sha512(await preimage('ccinfer/1 binding', input)),
};

/**
 * `ccinfer/1-text`: for attesters that take REPORT_DATA only as text of at most 64 bytes — the CoCo
 * Attestation Agent of guest-components v0.19 (Kata 3.29) passes `/aa/evidence?runtime_data=` as raw UTF-8 and
 * has no binary encoding. REPORT_DATA = the ASCII of the unpadded base64url (RFC 4648 §5) of SHA-384 of the
 * framed inputs under the label "ccinfer/1-text binding": 48 bytes → exactly 64 characters, so the attester's
 * zero padding adds nothing and the same inputs are bound with a 384-bit digest.
 */
export const ccinferV1TextBinding: BindingScheme = {
  name: 'ccinfer/1-text',
  length: 64,
  compute: async (input: BindingInput): Promise<Uint8Array> => utf8(toBase64Url(await sha384(await preimage('ccinfer/1-text binding', input)))),
};

/** The ccinfer schemes a bundle may name in its `binding` field (absent = `ccinfer/1`). */
export const CCINFER_BINDINGS: ReadonlyMap<string, BindingScheme> = new Map([
  [ccinferV1Binding.name, ccinferV1Binding],
  [ccinferV1TextBinding.name, ccinferV1TextBinding],
]);

export function bindingInputOf(bundle: EvidenceBundle): BindingInput {
  return {
    nonce: bundle.nonce,
    keyConfig: bundle.keyConfig,
    gpuReports: bundle.gpus.map((g) => g.report),
    switchReports: bundle.switches.map((s) => s.report),
  };
}

/**
 * Recomputes the binding of `bundle` under `scheme` and requires `reportData` to equal it
 * (`ERR_SESSION_BINDING_MISMATCH`, a VerificationError). Returns the digest for the verification document.
 */
export async function verifyBinding(scheme: BindingScheme, bundle: EvidenceBundle, reportData: Uint8Array): Promise<Uint8Array> {
  const expected = await scheme.compute(bindingInputOf(bundle));
  if (!equalBytes(expected, reportData)) {
    throw new VerificationError(
      'ERR_SESSION_BINDING_MISMATCH',
      `REPORT_DATA ${toHex(reportData)} is not the ${scheme.name} binding ${toHex(expected)} of this bundle`,
    );
  }
  return expected;
}
