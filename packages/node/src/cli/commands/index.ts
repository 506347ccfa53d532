/** Every `ccinfer` command, in the order `ccinfer --help` lists them. */
import type { Command } from '../types.js';
import { verifySnpCommand } from './verify-snp.js';
import { verifyTdxCommand } from './verify-tdx.js';
import { attestCommand } from './attest.js';
import { inferCommand } from './infer.js';
import { proxyCommand } from './proxy.js';
import { gatewayCommand } from './gateway.js';
import { demoCommand } from './demo.js';
import { policyInitCommand } from './policy-init.js';
import { verifyGpuCommand } from './verify-gpu.js';
import { verifyNrasCommand } from './verify-nras.js';
import { collateralFetchCommand } from './collateral-fetch.js';
import { verifyBundleCommand } from './verify-bundle.js';
import { keybrokerCommand } from './keybroker.js';
import { measureSnpCommand } from './measure-snp.js';
import { podInitCommand } from './pod-init.js';
import { podSimulateCommand } from './pod-simulate.js';

export const commands: Command[] = [verifySnpCommand, verifyTdxCommand, verifyGpuCommand, verifyNrasCommand, verifyBundleCommand, attestCommand, inferCommand, proxyCommand, gatewayCommand, podSimulateCommand, demoCommand, policyInitCommand, podInitCommand, collateralFetchCommand, keybrokerCommand, measureSnpCommand];
