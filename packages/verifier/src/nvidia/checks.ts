/**
 * The check ids the NVIDIA appraisals record. A device appraisal (nvidia/appraise.ts) prefixes its steps with
 * the device's slot (`gpu0.`, `switch1.`, …), so the table lists the steps after the prefix; NVSwitches carry
 * no driver RIM. The NRAS appraisal (nvidia/nras.ts) records fixed ids. docs/checks.md describes each one;
 * test/docs/checks.test.ts keeps the two in step and fails when the code records an id that is in no table.
 */
export const DEVICE_CHECKS = [
  'parse',
  'arch',
  'chain',
  'fwid',
  'ocsp',
  'nonce',
  'signature',
  'rim.driver',
  'rim.driver.version',
  'rim.driver.signature',
  'rim.driver.identity',
  'rim.driver.ocsp',
  'rim.vbios',
  'rim.vbios.version',
  'rim.vbios.signature',
  'rim.vbios.identity',
  'rim.vbios.ocsp',
  'measurements',
  // Policy rules (nvidia/policy.ts); driver and VBIOS versions are GPU-only.
  'policy.arch',
  'policy.driver',
  'policy.vbios',
] as const;

/** The device steps an NVSwitch does not record: it has no driver, so no driver RIM or driver policy. */
export const GPU_ONLY_CHECKS: readonly DeviceCheck[] = [
  'rim.driver',
  'rim.driver.version',
  'rim.driver.signature',
  'rim.driver.identity',
  'rim.driver.ocsp',
  'policy.driver',
  'policy.vbios',
];

export type DeviceCheck = (typeof DEVICE_CHECKS)[number];

export const NRAS_CHECKS = ['nras.parse', 'nras.jwks', 'nras.signature', 'nras.submods', 'nras.nonce', 'nras.result'] as const;

export type NrasCheckId = (typeof NRAS_CHECKS)[number];
