/**
 * Intel's TCB evaluation for TDX quotes, step for step as Intel's Quote Verification Library does it
 * (SGX-TDX-DCAP-QuoteVerificationLibrary, Src/AttestationLibrary/src/Verifiers/: QuoteVerifier.cpp §4.1.2.4.11
 * module identity, EnclaveReportVerifier QE identity, Checks/TcbLevelCheck.cpp `matchTcbLevels` /
 * `checkTcbLevel`, Checks/TdxModuleCheck.cpp, Checks/TDRelaunchCheck.cpp, VerificationCollateralInfo.cpp for
 * advisory IDs). No crypto: the inputs are already verified.
 *
 * Where the two best-known open verifiers differ from Intel (tdx.md §6), this follows Intel:
 * - TDX components 0 and 1 (module SVN and major version) are skipped when TEE_TCB_SVN[1] > 0; the module is
 *   judged by its `TDX_xx` identity instead (dcap-qvl compares all 16);
 * - the platform level and the module level are converged, not replaced (go-tdx-guest returns the module's).
 */
import { equalBytes, toHex } from '@ccinfer/core';
import { isZero } from '@ccinfer/core/internal';
import type { IdentityLevel, IdentityLevelStatus, QeIdentity, TcbInfo, TcbLevel, TcbLevelStatus, TdxModuleIdentity } from './collateral.js';
import type { EnclaveReport, TdReportBody } from './parse.js';
import { BODY_TD_REPORT15 } from './parse.js';
import type { SgxExtension } from './pck.js';

/** Final TCB status (QVL `sgx_ql_qv_result_t` names as Intel PCS spells level statuses). */
export type TdxTcbStatus = TcbLevelStatus | 'TDRelaunchAdvised' | 'TDRelaunchAdvisedConfigurationNeeded';

/** Outcomes in which no status can be given (QVL STATUS_TCB_NOT_SUPPORTED / STATUS_TDX_MODULE_MISMATCH). */
export type TdxTcbFailure = 'TCB_NOT_SUPPORTED' | 'TDX_MODULE_MISMATCH';

export interface TcbEvaluation {
  status: TdxTcbStatus | TdxTcbFailure;
  /** Union of the selected TDX, module and QE levels' advisory IDs, sorted and unique (QVL collateral info). */
  advisoryIds: string[];
  /** Earliest tcbDate among the selected levels. */
  tcbDate: string | undefined;
  sgxLevel: TcbLevel | undefined;
  tdxLevel: TcbLevel | undefined;
  module: { id: string; level: IdentityLevel | undefined } | undefined;
  moduleStatus: IdentityLevelStatus | 'UpToDate' | TdxTcbFailure | undefined;
  qeLevel: IdentityLevel | undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Ordering. QVL keeps TCB levels in a std::set ordered by TcbLevel::operator> (cpusvn components
// lexicographically, then pcesvn, then for TDX the tdx components), newest first, duplicates dropped. PCS
// serves them in that order already; sorting makes the evaluation independent of JSON order.

function lexCompare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function levelKey(l: TcbLevel): number[] {
  return [...l.sgxTcbComponents, l.pceSvn, ...l.tdxTcbComponents];
}

export function sortTcbLevels(levels: readonly TcbLevel[]): TcbLevel[] {
  const out: TcbLevel[] = [];
  for (const l of levels) if (!out.some((o) => lexCompare(levelKey(o), levelKey(l)) === 0)) out.push(l);
  return out.sort((a, b) => lexCompare(levelKey(b), levelKey(a)));
}

function sortIdentityLevels(levels: readonly IdentityLevel[]): IdentityLevel[] {
  return [...levels].sort((a, b) => b.isvSvn - a.isvSvn);
}

// ---------------------------------------------------------------------------------------------------------
// QE identity (EnclaveReportVerifier; QuoteVerifier §4.1.2.4.14–15).

export type QeIdentityMismatch = 'miscselect' | 'attributes' | 'mrsigner' | 'isvprodid';

function maskedEqual(value: Uint8Array, mask: Uint8Array, expected: Uint8Array): boolean {
  if (value.length !== mask.length || mask.length !== expected.length) return false;
  for (let i = 0; i < value.length; i++) if ((value[i]! & mask[i]!) !== expected[i]) return false;
  return true;
}

function u32le(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
}

/**
 * The QE report fields the identity pins. MISCSELECT is a u32; the identity's hex is its little-endian byte
 * image as in the report (QVL compares the report bytes against the hex bytes).
 */
export function qeIdentityMismatch(report: EnclaveReport, identity: QeIdentity): QeIdentityMismatch | undefined {
  if (!maskedEqual(u32le(report.miscSelect), identity.miscSelectMask, identity.miscSelect)) return 'miscselect';
  if (!maskedEqual(report.attributes, identity.attributesMask, identity.attributes)) return 'attributes';
  if (!equalBytes(report.mrSigner, identity.mrSigner)) return 'mrsigner';
  if (report.isvProdId !== identity.isvProdId) return 'isvprodid';
  return undefined;
}

/** First level (highest ISVSVN first) whose isvsvn ≤ the QE's; undefined = ISVSVN not supported. */
export function qeTcbLevel(report: EnclaveReport, identity: QeIdentity): IdentityLevel | undefined {
  return sortIdentityLevels(identity.tcbLevels).find((l) => report.isvSvn >= l.isvSvn);
}

// ---------------------------------------------------------------------------------------------------------
// TDX module identity (QuoteVerifier §4.1.2.4.11, TdxModuleCheck.cpp).

export function moduleIdentityId(majorVersion: number): string {
  return `TDX_${toHex(Uint8Array.of(majorVersion)).toUpperCase()}`;
}

export function findModuleIdentity(tcbInfo: TcbInfo, majorVersion: number): TdxModuleIdentity | undefined {
  const want = moduleIdentityId(majorVersion);
  return tcbInfo.tdxModuleIdentities?.find((m) => m.id.toUpperCase() === want);
}

/**
 * §4.1.2.4.11: MRSIGNERSEAM equals the module signer (of `TDX_xx` when TEE_TCB_SVN[1] > 0, else `tdxModule`),
 * and SEAMATTRIBUTES is all zero and equal to the expected attributes (QVL compares bytes; it does not apply
 * attributesMask). Returns the failure, or undefined when the module is the expected one.
 */
export function moduleMismatch(body: TdReportBody, tcbInfo: TcbInfo): TdxTcbFailure | 'TCB_INFO_MISMATCH' | undefined {
  let expected: { mrSigner: Uint8Array; attributes: Uint8Array } | undefined = tcbInfo.tdxModule;
  const major = body.teeTcbSvn[1]!;
  if (major > 0) {
    if (!tcbInfo.tdxModuleIdentities) return 'TCB_INFO_MISMATCH';
    expected = findModuleIdentity(tcbInfo, major);
    if (!expected) return 'TDX_MODULE_MISMATCH';
  }
  if (!expected) return 'TCB_INFO_MISMATCH';
  if (!equalBytes(body.mrSignerSeam, expected.mrSigner)) return 'TDX_MODULE_MISMATCH';
  if (!isZero(body.seamAttributes) || !equalBytes(body.seamAttributes, expected.attributes)) return 'TDX_MODULE_MISMATCH';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Level matching (TcbLevelCheck.cpp).

function sgxHigherOrEqual(pck: SgxExtension, level: TcbLevel): boolean {
  for (let i = 0; i < 16; i++) if (pck.sgxTcbComponents[i]! < level.sgxTcbComponents[i]!) return false;
  return pck.pceSvn >= level.pceSvn;
}

/** Components 0–1 describe the module and are skipped when the module has a major version (TEE_TCB_SVN[1]). */
function tdxHigherOrEqual(teeTcbSvn: Uint8Array, level: TcbLevel): boolean {
  for (let i = teeTcbSvn[1]! > 0 ? 2 : 0; i < 16; i++) if (teeTcbSvn[i]! < level.tdxTcbComponents[i]!) return false;
  return true;
}

/** `matchTcbLevels`: the first level the PCK's SGX TCB reaches, and the first that the TD's TCB also reaches. */
export function matchTcbLevels(levels: readonly TcbLevel[], pck: SgxExtension, teeTcbSvn: Uint8Array): { sgx?: TcbLevel; tdx?: TcbLevel } {
  let sgx: TcbLevel | undefined;
  for (const level of levels) {
    if (!sgxHigherOrEqual(pck, level)) continue;
    sgx ??= level;
    if (tdxHigherOrEqual(teeTcbSvn, level)) return { sgx, tdx: level };
  }
  return sgx ? { sgx } : {};
}

/** Module status per TdxModuleCheck.cpp: OK for a module without major version, else its identity level. */
function moduleTcb(body: TdReportBody, tcbInfo: TcbInfo): { status: IdentityLevelStatus | TdxTcbFailure; id?: string; level?: IdentityLevel } {
  const major = body.teeTcbSvn[1]!;
  if (major === 0) return { status: 'UpToDate' };
  const identity = findModuleIdentity(tcbInfo, major);
  if (!identity) return { status: 'TDX_MODULE_MISMATCH' };
  const level = sortIdentityLevels(identity.tcbLevels).find((l) => body.teeTcbSvn[0]! >= l.isvSvn);
  if (!level) return { status: 'TCB_NOT_SUPPORTED', id: identity.id };
  return { status: level.tcbStatus, id: identity.id, level };
}

/** `convergeTcbStatusWithTdxModuleStatus` and `convergeTcbStatusWithQeTcbStatus`: an OutOfDate or Revoked
 * component downgrades the level status. */
function converge<S extends TdxTcbStatus>(status: S, other: IdentityLevelStatus): TdxTcbStatus {
  if (other === 'OutOfDate') {
    if (status === 'UpToDate' || status === 'SWHardeningNeeded') return 'OutOfDate';
    if (status === 'ConfigurationNeeded' || status === 'ConfigurationAndSWHardeningNeeded') return 'OutOfDateConfigurationNeeded';
  }
  if (other === 'Revoked') return 'Revoked';
  return status;
}

const CONFIG_NEEDED: ReadonlySet<string> = new Set([
  'ConfigurationNeeded',
  'OutOfDateConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'TDRelaunchAdvisedConfigurationNeeded',
]);

/**
 * TDRelaunchCheck.cpp (TD report 1.5 only): the platform and QE are current, the module is OutOfDate, but
 * the TD-preserving update already installed a module that reaches the newest level (TEE_TCB_SVN2) — a TD
 * relaunch would bring it up to date.
 */
function relaunch(
  teeTcbSvn2: Uint8Array,
  tcbInfo: TcbInfo,
  levels: readonly TcbLevel[],
  sgxStatus: TcbLevelStatus,
  tdxStatus: TdxTcbStatus,
  moduleStatus: string,
  qe: IdentityLevelStatus | undefined,
): TdxTcbStatus | TdxTcbFailure {
  if (qe === 'OutOfDate' || qe === 'Revoked') return tdxStatus;
  if (!['UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded'].includes(sgxStatus)) return tdxStatus;
  if (tdxStatus !== 'OutOfDate' && tdxStatus !== 'OutOfDateConfigurationNeeded') return tdxStatus;
  if (moduleStatus !== 'OutOfDate') return tdxStatus;
  const latest = levels[0];
  if (!latest) return 'TCB_NOT_SUPPORTED';
  let reaches: boolean;
  if (teeTcbSvn2[1] === 0) {
    reaches = teeTcbSvn2[0]! >= latest.tdxTcbComponents[0]! && teeTcbSvn2[2]! >= latest.tdxTcbComponents[2]!;
  } else {
    const identity2 = findModuleIdentity(tcbInfo, teeTcbSvn2[1]!);
    if (!identity2) return 'TDX_MODULE_MISMATCH';
    const newest = sortIdentityLevels(identity2.tcbLevels)[0];
    if (!newest) return 'TCB_NOT_SUPPORTED';
    reaches = teeTcbSvn2[0]! >= newest.isvSvn && teeTcbSvn2[2]! >= latest.tdxTcbComponents[2]!;
  }
  if (!reaches) return tdxStatus;
  return CONFIG_NEEDED.has(sgxStatus) || CONFIG_NEEDED.has(tdxStatus) ? 'TDRelaunchAdvisedConfigurationNeeded' : 'TDRelaunchAdvised';
}

/**
 * `checkTcbLevel` for a TDX quote whose QE identity already matched (`qeLevel` undefined = the QE's ISVSVN is
 * below every level). The module identity check (§4.1.2.4.11) is `moduleMismatch`, run before this.
 */
export function evaluateTdxTcb(input: { tcbInfo: TcbInfo; pck: SgxExtension; body: TdReportBody; qeLevel: IdentityLevel | undefined }): TcbEvaluation {
  const { tcbInfo, pck, body, qeLevel } = input;
  const levels = sortTcbLevels(tcbInfo.tcbLevels);
  const { sgx, tdx } = matchTcbLevels(levels, pck, body.teeTcbSvn);
  const result: TcbEvaluation = {
    status: 'TCB_NOT_SUPPORTED',
    advisoryIds: [],
    tcbDate: undefined,
    sgxLevel: sgx,
    tdxLevel: tdx,
    module: undefined,
    moduleStatus: undefined,
    qeLevel,
  };
  const finish = (status: TcbEvaluation['status']): TcbEvaluation => {
    result.status = status;
    // VerificationCollateralInfo: advisory IDs of the TDX (else SGX) level, the QE level and the module level.
    const chosen = [tdx ?? sgx, qeLevel, result.module?.level];
    const ids = new Set<string>();
    const dates: string[] = [];
    for (const l of chosen) {
      if (!l) continue;
      l.advisoryIds.forEach((a) => ids.add(a));
      dates.push(l.tcbDate);
    }
    result.advisoryIds = [...ids].sort();
    result.tcbDate = dates.sort()[0];
    return result;
  };
  if (!sgx || !tdx) return finish('TCB_NOT_SUPPORTED');

  const mod = moduleTcb(body, tcbInfo);
  result.moduleStatus = mod.status;
  if (mod.id !== undefined) result.module = { id: mod.id, level: mod.level };
  if (mod.status === 'TCB_NOT_SUPPORTED' || mod.status === 'TDX_MODULE_MISMATCH') return finish(mod.status);

  let status: TdxTcbStatus | TdxTcbFailure = converge(tdx.tcbStatus, mod.status);
  if (status === 'Revoked') return finish(status);
  // TDRelaunchCheck is skipped when the QE is OutOfDate, Revoked or below every identity level.
  if (body.bodyType === BODY_TD_REPORT15 && body.teeTcbSvn2 && qeLevel) {
    status = relaunch(body.teeTcbSvn2, tcbInfo, levels, sgx.tcbStatus, status, mod.status, qeLevel?.tcbStatus);
    if (status === 'TCB_NOT_SUPPORTED' || status === 'TDX_MODULE_MISMATCH') return finish(status);
  }
  // convergeTcbStatusWithQeTcbStatus: a QE below every identity level is TCB_NOT_SUPPORTED.
  if (!qeLevel) return finish('TCB_NOT_SUPPORTED');
  return finish(converge(status, qeLevel.tcbStatus));
}
