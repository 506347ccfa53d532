/** Every `ccinfer` command, in the order `ccinfer --help` lists them. */
import type { Command } from '../types.js';
import { verifySnpCommand } from './verify-snp.js';

export const commands: Command[] = [verifySnpCommand];
