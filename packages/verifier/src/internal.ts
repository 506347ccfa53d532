/**
 * `@ccinfer/verifier/internal`: the stage functions the appraisals are built from (DER helpers of the X.509 code,
 * SNP certificate-table and TCB decoding, TDX PCK extensions and TCB evaluation, NVIDIA device identification, RIM
 * ids, OCSP, topology), shared with `@ccinfer/node` (the gateway's collateral attacher), the benchmarks and the
 * tests. **Not API**: names here may change or go in any release, without a major version bump. Applications
 * use `@ccinfer/verifier` (`appraise`, the `verify…` / `appraise…` functions, parsers, collateral URLs).
 */
import type {} from './error-codes.js'; // registers every code of this package in CcinferErrorCode
export { clearKeyCache, ecdsaDerToP1363 } from './x509/index.js';
export { productFromCpuid, decodeTcb } from './snp/parse.js';
export { parseCertTable, CERT_TABLE_GUID } from './snp/collateral.js';
export { parseSnpPolicy } from './snp/policy.js';
export { hasTdAttribute, TD_ATTR } from './tdx/parse.js';
export { parseSgxExtension, pckExtension, pckCaType, SGX_EXTENSION_OID, type SgxExtension } from './tdx/pck.js';
export { parsePckChain, type PckChain } from './tdx/verify.js';
export { decodeIssuerChainHeader, normalizeCrl } from './tdx/collateral.js';
export { evaluateTdxTcb, type TdxTcbFailure, type TcbEvaluation } from './tdx/tcb.js';
export { parseTdxPolicy, resolveTdxPolicy } from './tdx/policy.js';
export { parseOpaqueData, OpaqueType, type OpaqueData, type MeasurementBlock } from './nvidia/parse.js';
export { identifyDevice, leafFwid, checkFwid, checkNonce as checkNvidiaNonce, verifyReportSignature as verifyNvidiaReportSignature, verifyDeviceChain, ueid } from './nvidia/verify.js';
export { compareGolden, driverRimId, vbiosRimId, type GoldenResult, type MeasurementMismatch } from './nvidia/rim.js';
export { buildOcspRequest, parseOcspResponse, checkOcspResponse, certIdFor, type OcspMode, type OcspResponse, type OcspResult } from './nvidia/ocsp.js';
export { parseDetachedEat } from './nvidia/nras.js';
export { parseRimServiceResponse } from './nvidia/collateral.js';
export { parseGpuPolicy, evaluateDevicePolicy, evaluateSystemPolicy } from './nvidia/policy.js';
export { checkPpcieTopology, checkFeatureFlags, checkDistinctDevices, type PpcieTopology, type AppraisedDevice } from './nvidia/topology.js';
