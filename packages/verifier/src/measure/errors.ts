/** Error codes of the launch-measurement calculators (`measure/`). */

/** Firmware images whose structure does not match OVMF's published layout (ParseError, with the byte offset). */
export type MeasureParseErrorCode =
  | 'ERR_MEASURE_IMAGE_SIZE'
  | 'ERR_MEASURE_OVMF_FOOTER'
  | 'ERR_MEASURE_OVMF_METADATA';

/** Caller input that cannot describe a launch (ConfigError, with the bad fields). */
export type MeasureConfigErrorCode =
  | 'ERR_MEASURE_OPTIONS'
  | 'ERR_MEASURE_VCPU_TYPE'
  | 'ERR_MEASURE_KERNEL_HASHES_UNSUPPORTED';

export type MeasureErrorCode = MeasureParseErrorCode | MeasureConfigErrorCode;

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<MeasureErrorCode, true> {}
}
