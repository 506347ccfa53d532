/** Reads a collateral directory (the layout of docs/cli.md `verify tdx`) for tests. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TdxCollateral } from '../../src/tdx/collateral.js';
import { readBytes } from '../../../../test-support/vectors.js';

export function readCollateralDir(dir: string): TdxCollateral {
  const c: TdxCollateral = {
    tcbInfo: readBytes(dir, 'tcb_info.json'),
    tcbInfoIssuerChain: readBytes(dir, 'tcb_info_issuer_chain.pem'),
    qeIdentity: readBytes(dir, 'qe_identity.json'),
    qeIdentityIssuerChain: readBytes(dir, 'qe_identity_issuer_chain.pem'),
    pckCrl: readBytes(dir, 'pck_crl.der'),
    rootCaCrl: readBytes(dir, 'root_ca_crl.der'),
  };
  if (existsSync(join(dir, 'pck_crl_issuer_chain.pem'))) c.pckCrlIssuerChain = readBytes(dir, 'pck_crl_issuer_chain.pem');
  return c;
}
