/** SEV-SNP claims for the verification document (names of docs/wire-protocol.md "Verification document"; bytes as lowercase hex). */
import { toHex } from '@ccinfer/core';
import { formatVersion, type SnpProductLine, type SnpReport, type TcbVersion } from './parse.js';

export interface SnpTcbClaim {
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
  fmc?: number;
  raw: string;
}

export function tcbClaim(t: TcbVersion): SnpTcbClaim {
  const c: SnpTcbClaim = { bootloader: t.bootloader, tee: t.tee, snp: t.snp, microcode: t.microcode, raw: `0x${t.raw.toString(16).padStart(16, '0')}` };
  if (t.fmc !== undefined) c.fmc = t.fmc;
  return c;
}

const hex64 = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

export function snpClaims(r: SnpReport, productLine: SnpProductLine, tcbs: { reported: TcbVersion; current: TcbVersion; committed: TcbVersion; launch: TcbVersion }): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    version: r.version,
    productLine,
    signingKey: r.signingKey,
    vmpl: r.vmpl,
    guestSvn: r.guestSvn,
    policy: hex64(r.policy.raw),
    debug: r.policy.debug,
    migrationAgent: r.policy.migrateMa,
    smt: r.policy.smt,
    abi: `${r.policy.abiMajor}.${r.policy.abiMinor}`,
    measurement: toHex(r.measurement),
    reportData: toHex(r.reportData),
    hostData: toHex(r.hostData),
    familyId: toHex(r.familyId),
    imageId: toHex(r.imageId),
    idKeyDigest: toHex(r.idKeyDigest),
    authorKeyDigest: toHex(r.authorKeyDigest),
    authorKeyEn: r.authorKeyEn,
    reportId: toHex(r.reportId),
    reportIdMa: toHex(r.reportIdMa),
    chipId: toHex(r.chipId),
    platformInfo: hex64(r.platformInfo.raw),
    reportedTcb: tcbClaim(tcbs.reported),
    currentTcb: tcbClaim(tcbs.current),
    committedTcb: tcbClaim(tcbs.committed),
    launchTcb: tcbClaim(tcbs.launch),
    currentVersion: formatVersion(r.currentVersion),
    committedVersion: formatVersion(r.committedVersion),
  };
  if (r.cpuid) claims['cpuid'] = { family: r.cpuid.family, model: r.cpuid.model, stepping: r.cpuid.stepping };
  if (r.launchMitVector !== undefined) claims['launchMitVector'] = hex64(r.launchMitVector);
  if (r.currentMitVector !== undefined) claims['currentMitVector'] = hex64(r.currentMitVector);
  return claims;
}
