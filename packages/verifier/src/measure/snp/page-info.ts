/**
 * The SEV-SNP launch digest as the PSP accumulates it (AMD SEV-SNP Firmware ABI, pub. 56860, §8.17
 * SNP_LAUNCH_UPDATE and its PAGE_INFO table): for every page the VMM adds to the guest, the firmware hashes a
 * 0x70-byte PAGE_INFO structure that embeds the digest so far, so the final MEASUREMENT commits to the order,
 * type, address and contents of every page. This module replays that chain.
 */
import { sha384, toHex } from '@ccinfer/core';

export const PAGE_SIZE = 0x1000;

/** PAGE_TYPE values of SNP_LAUNCH_UPDATE (ABI 56860, §8.17 "Page Types"). */
export const PageType = {
  Normal: 0x01,
  Vmsa: 0x02,
  Zero: 0x03,
  Unmeasured: 0x04,
  Secrets: 0x05,
  Cpuid: 0x06,
} as const;
export type PageType = (typeof PageType)[keyof typeof PageType];

/** One SNP_LAUNCH_UPDATE step, for `--json` output and audits. */
export interface LaunchStep {
  gpa: number;
  pageType: keyof typeof PageType;
  /** Lower-case hex of PAGE_INFO.CONTENTS (SHA-384 of the page, or zero for page types whose content is not measured). */
  contents: string;
}

const PAGE_INFO_LENGTH = 0x70;
const ZERO_CONTENTS = new Uint8Array(48);

/**
 * PAGE_INFO (ABI 56860, §8.17, Table "PAGE_INFO Structure"): DIGEST_CUR (48) ‖ CONTENTS (48) ‖ LENGTH u16 = 0x70 ‖
 * PAGE_TYPE u8 ‖ IMI_PAGE (bit 0) ‖ VMPL3/2/1_PERMS (one byte each, zero: VMPL0 only) ‖ reserved ‖ GPA u64.
 */
function pageInfo(digestCur: Uint8Array, contents: Uint8Array, pageType: PageType, gpa: number): Uint8Array {
  const b = new Uint8Array(PAGE_INFO_LENGTH);
  b.set(digestCur, 0);
  b.set(contents, 0x30);
  const v = new DataView(b.buffer);
  v.setUint16(0x60, PAGE_INFO_LENGTH, true);
  v.setUint8(0x62, pageType);
  v.setBigUint64(0x68, BigInt(gpa), true);
  return b;
}

/** The guest context's running launch digest (GCTX.LD), starting from zero or from a known prefix digest. */
export class LaunchDigest {
  private ld: Uint8Array;
  readonly steps: LaunchStep[] = [];

  constructor(seed: Uint8Array = new Uint8Array(48)) {
    this.ld = seed.slice();
  }

  get value(): Uint8Array {
    return this.ld.slice();
  }

  private async extend(contents: Uint8Array, pageType: PageType, gpa: number): Promise<void> {
    this.ld = await sha384(pageInfo(this.ld, contents, pageType, gpa));
    const name = (Object.keys(PageType) as (keyof typeof PageType)[]).find((k) => PageType[k] === pageType)!;
    this.steps.push({ gpa, pageType: name, contents: toHex(contents) });
  }

  /** PAGE_TYPE_NORMAL: CONTENTS is the SHA-384 of each 4 KiB page of `data`, loaded from `gpa` on. */
  async normalPages(gpa: number, data: Uint8Array): Promise<void> {
    for (let off = 0; off < data.length; off += PAGE_SIZE) {
      await this.extend(await sha384(data.subarray(off, off + PAGE_SIZE)), PageType.Normal, gpa + off);
    }
  }

  /** PAGE_TYPE_VMSA: a vCPU's initial register state, always placed at the VMSA page address the VMM uses. */
  async vmsaPage(gpa: number, vmsa: Uint8Array): Promise<void> {
    await this.extend(await sha384(vmsa), PageType.Vmsa, gpa);
  }

  /** Page types whose CONTENTS is zero in PAGE_INFO: the firmware fills or zeroes them itself. */
  async unmeasuredPages(gpa: number, size: number, pageType: Exclude<PageType, 1 | 2>): Promise<void> {
    for (let off = 0; off < size; off += PAGE_SIZE) await this.extend(ZERO_CONTENTS, pageType, gpa + off);
  }
}
