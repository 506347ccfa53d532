/**
 * SEV-SNP appraisal policy (docs/policy.md `snp`): claims against reference values and platform rules. No
 * crypto here. Allowlists that are absent are "not checked" and reported as skipped; security switches
 * default strict: no debug, no migration agent, VMPL 0 only, no provisional firmware, revocation required.
 */
import { PolicyError, toHex, type ErrorCode } from '@ccinfer/core';
import { bool, COLLATERAL_MODES, enumList, hexList, int, intList, object, oneOf, version, type CollateralMode, type FieldErrors } from '../policy-schema.js';
import { parseProvenancePolicy, type ProvenancePolicy } from '../provenance/policy.js';
import type { SigningKey, SnpProductLine, SnpReport, TcbVersion } from './parse.js';
import { tcbAtLeast } from './verify.js';
import type { RuleOutcome } from '../policy-outcome.js';

export interface SnpPolicy {
  /** MEASUREMENT allowlist (48-byte hex). */
  measurements?: string[];
  /** HOST_DATA allowlist (32-byte hex); Kata/CoCo put the initdata digest here. */
  hostData?: string[];
  /** Minimum REPORTED, COMMITTED and CURRENT TCB, per component. */
  minTcb?: { bootloader?: number; tee?: number; snp?: number; microcode?: number; fmc?: number };
  productLines?: SnpProductLine[];
  signingKeys?: SigningKey[];
  /** Accepted VMPLs. Default [0]. */
  vmpl?: number[];
  allowDebug?: boolean;
  allowMigrationAgent?: boolean;
  /** Default true: SMT is common and not a confidentiality break for a VM by itself. */
  allowSmt?: boolean;
  /** Minimum COMMITTED firmware version (MAJOR.MINOR.BUILD). */
  minFirmware?: [number, number, number];
  /** Accept COMMITTED < CURRENT (firmware that can still be rolled back). Default false, as go-sev-guest. */
  allowProvisionalFirmware?: boolean;
  /**
   * The ARK-signed CRL (docs/policy.md "Unavailable collateral"): `require` (default) a current CRL must be
   * checked; `allow-unavailable` one that can be had is checked, none is a skipped check with a warning; `skip`
   * none is looked for.
   */
  revocation?: CollateralMode;
  /**
   * Release identity whose Sigstore-signed in-toto statement lists the allowed measurements (checked as
   * `snp.provenance.*` against the provenance bundle given to the client). With `measurements` too, both apply.
   */
  provenance?: ProvenancePolicy;
}

const KEYS = [
  'measurements',
  'hostData',
  'minTcb',
  'productLines',
  'signingKeys',
  'vmpl',
  'allowDebug',
  'allowMigrationAgent',
  'allowSmt',
  'minFirmware',
  'allowProvisionalFirmware',
  'revocation',
  'provenance',
] as const;

export function parseSnpPolicy(v: unknown, path: string, errs: FieldErrors): SnpPolicy | undefined {
  const o = object(v, path, errs, KEYS);
  if (!o) return undefined;
  const p: SnpPolicy = {};
  const set = <K extends keyof SnpPolicy>(k: K, val: SnpPolicy[K] | undefined): void => {
    if (val !== undefined) p[k] = val;
  };
  set('measurements', hexList(o['measurements'], `${path}.measurements`, errs, 48));
  set('hostData', hexList(o['hostData'], `${path}.hostData`, errs, 32));
  const t = object(o['minTcb'], `${path}.minTcb`, errs, ['bootloader', 'tee', 'snp', 'microcode', 'fmc']);
  if (t) {
    const minTcb: NonNullable<SnpPolicy['minTcb']> = {};
    for (const k of ['bootloader', 'tee', 'snp', 'microcode', 'fmc'] as const) {
      const n = int(t[k], `${path}.minTcb.${k}`, errs, 0, 255);
      if (n !== undefined) minTcb[k] = n;
    }
    p.minTcb = minTcb;
  }
  set('productLines', enumList(o['productLines'], `${path}.productLines`, errs, ['Milan', 'Genoa', 'Turin'] as const));
  set('signingKeys', enumList(o['signingKeys'], `${path}.signingKeys`, errs, ['vcek', 'vlek'] as const));
  set('vmpl', intList(o['vmpl'], `${path}.vmpl`, errs, 0, 3));
  set('allowDebug', bool(o['allowDebug'], `${path}.allowDebug`, errs));
  set('allowMigrationAgent', bool(o['allowMigrationAgent'], `${path}.allowMigrationAgent`, errs));
  set('allowSmt', bool(o['allowSmt'], `${path}.allowSmt`, errs));
  set('minFirmware', version(o['minFirmware'], `${path}.minFirmware`, errs));
  set('allowProvisionalFirmware', bool(o['allowProvisionalFirmware'], `${path}.allowProvisionalFirmware`, errs));
  set('revocation', oneOf(o['revocation'], `${path}.revocation`, errs, COLLATERAL_MODES));
  set('provenance', parseProvenancePolicy(o['provenance'], `${path}.provenance`, errs));
  return p;
}

/** The facts the rules look at: the parsed report plus what verification established. */
export interface SnpFacts {
  report: SnpReport;
  productLine: SnpProductLine;
  reportedTcb: TcbVersion;
  currentTcb: TcbVersion;
  committedTcb: TcbVersion;
}


const reject = (code: ErrorCode, field: string, message: string, expected: unknown, actual: unknown): PolicyError =>
  new PolicyError(code, message, { field, expected, actual });

const versionNumber = (v: { major: number; minor: number; build: number }): number => (v.major << 16) | (v.minor << 8) | v.build;

/**
 * Evaluates every rule (none stops the others, so a document lists all that failed). Check ids are
 * `snp.policy.<rule>`.
 */
export function evaluateSnpPolicy(f: SnpFacts, policy: SnpPolicy = {}): RuleOutcome[] {
  const r = f.report;
  const out: RuleOutcome[] = [];
  const rule = (id: string, fn: () => PolicyError | { skipped: string } | string | undefined): void => {
    const res = fn();
    if (res instanceof PolicyError) out.push({ id: `snp.policy.${id}`, error: res });
    else if (typeof res === 'object') out.push({ id: `snp.policy.${id}`, skipped: res.skipped, warn: res.skipped.includes('NOT CHECKED') });
    else out.push(res === undefined ? { id: `snp.policy.${id}` } : { id: `snp.policy.${id}`, detail: res });
  };
  const allowlist = (id: string, code: ErrorCode, field: string, list: string[] | undefined, actual: Uint8Array): void =>
    rule(id, () => {
      const hex = toHex(actual);
      if (!list) return { skipped: `no ${field} allowlist in the policy: ${field} ${hex} NOT CHECKED` };
      return list.includes(hex) ? `${field} ${hex} is allowed` : reject(code, field, `${field} ${hex} is not in the allowlist`, list, hex);
    });

  rule('debug', () => (r.policy.debug && !policy.allowDebug ? reject('ERR_SNP_POLICY_DEBUG', 'policy.debug', 'guest policy allows debugging (the hypervisor can read guest memory)', false, true) : undefined));
  rule('migrationAgent', () =>
    r.policy.migrateMa && !policy.allowMigrationAgent ? reject('ERR_SNP_POLICY_MIGRATION_AGENT', 'policy.migrateMa', 'guest policy allows a migration agent', false, true) : undefined,
  );
  rule('smt', () => (r.policy.smt && policy.allowSmt === false ? reject('ERR_SNP_POLICY_SMT', 'policy.smt', 'guest policy allows SMT', false, true) : undefined));
  rule('vmpl', () => {
    const allowed = policy.vmpl ?? [0];
    return allowed.includes(r.vmpl) ? undefined : reject('ERR_SNP_POLICY_VMPL', 'vmpl', `report requested at VMPL ${r.vmpl}`, allowed, r.vmpl);
  });
  rule('productLine', () =>
    policy.productLines && !policy.productLines.includes(f.productLine)
      ? reject('ERR_SNP_POLICY_PRODUCT_LINE', 'productLine', `product line ${f.productLine} is not allowed`, policy.productLines, f.productLine)
      : undefined,
  );
  rule('signingKey', () =>
    policy.signingKeys && !policy.signingKeys.includes(r.signingKey)
      ? reject('ERR_SNP_POLICY_SIGNING_KEY', 'signingKey', `signing key ${r.signingKey} is not allowed`, policy.signingKeys, r.signingKey)
      : undefined,
  );
  rule('provisionalFirmware', () => {
    const provisional = r.committedTcbRaw !== r.currentTcbRaw || versionNumber(r.committedVersion) !== versionNumber(r.currentVersion);
    return provisional && !policy.allowProvisionalFirmware
      ? reject('ERR_SNP_POLICY_PROVISIONAL_FIRMWARE', 'committedTcb', 'COMMITTED firmware/TCB differs from CURRENT (provisional firmware can be rolled back)', 'committed == current', 'committed != current')
      : undefined;
  });
  rule('minTcb', () => {
    const min = policy.minTcb;
    if (!min) return { skipped: 'no minimum TCB in the policy' };
    for (const [name, tcb] of [['reportedTcb', f.reportedTcb], ['committedTcb', f.committedTcb], ['currentTcb', f.currentTcb]] as const) {
      if (!tcbAtLeast(tcb, min)) return reject('ERR_SNP_POLICY_TCB', name, `${name} is below the policy minimum`, min, { ...tcb, raw: `0x${tcb.raw.toString(16)}` });
    }
    return undefined;
  });
  rule('minFirmware', () => {
    const min = policy.minFirmware;
    if (!min) return { skipped: 'no minimum firmware in the policy' };
    const c = r.committedVersion;
    const want = (min[0] << 16) | (min[1] << 8) | min[2];
    return versionNumber(c) >= want ? undefined : reject('ERR_SNP_POLICY_FIRMWARE', 'committedVersion', `committed firmware ${c.major}.${c.minor}.${c.build} is below ${min.join('.')}`, min.join('.'), `${c.major}.${c.minor}.${c.build}`);
  });
  if (!policy.measurements && policy.provenance) {
    out.push({ id: 'snp.policy.measurement', skipped: 'no measurement allowlist: the measurement is checked against the signed provenance (snp.provenance.*)' });
  } else allowlist('measurement', 'ERR_SNP_POLICY_MEASUREMENT', 'measurement', policy.measurements, r.measurement);
  allowlist('hostData', 'ERR_SNP_POLICY_HOST_DATA', 'hostData', policy.hostData, r.hostData);
  return out;
}
