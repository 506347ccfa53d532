/**
 * Pod-side failures to produce evidence (stable codes, CONTRIBUTING.md "Errors"). The gateway answers every one
 * with `evidence-unavailable`; the code goes to its log.
 */
import { CcinferError, type CcinferErrorOptions } from '@ccinfer/core';

export type GatewayErrorCode =
  // configfs.ts
  | 'ERR_GATEWAY_CONFIGFS' // configfs-tsm report directory not usable
  | 'ERR_GATEWAY_GENERATION_RACE' // another writer kept changing the report under us
  | 'ERR_GATEWAY_NO_LEAF' // SNP: no VCEK / VLEK from the host and none configured
  | 'ERR_GATEWAY_GPU_COMMAND' // the GPU evidence command failed or printed something else than evidence JSON
  // coco.ts, gpu/aa.ts — the CoCo Attestation Agent REST API
  | 'ERR_GATEWAY_AA_UNREACHABLE' // the agent did not answer, or answered with an HTTP error
  | 'ERR_GATEWAY_AA_EVIDENCE' // the agent's answer is not the evidence shape of its TEE
  | 'ERR_GATEWAY_AA_UNSUPPORTED' // the agent's API version or TEE lacks what was configured
  // gpu/nvattest.ts
  | 'ERR_GATEWAY_NVATTEST' // nvattest failed, or its output is not evidence for our nonce
  // gpu/nvml.ts
  | 'ERR_GATEWAY_NVML' // libnvidia-ml could not be loaded or a call failed
  | 'ERR_GATEWAY_NVML_CC_OFF' // confidential computing (and PPCIe) is off: there is no evidence to collect
  | 'ERR_GATEWAY_NVML_DEVTOOLS' // CC devtools mode: the GPU is not protected, evidence would be meaningless
  | 'ERR_GATEWAY_NVML_BOUNDS' // a length reported by the library exceeds its buffer
  // gateway.ts
  | 'ERR_GATEWAY_OPTIONS'; // ConfigError: a limit, timeout or rotation option out of range

export function gatewayError(code: GatewayErrorCode, message: string, options?: CcinferErrorOptions): CcinferError {
  return new CcinferError(code, message, options);
}

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<GatewayErrorCode, true> {}
}
