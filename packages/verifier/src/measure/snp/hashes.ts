/**
 * The measured-direct-boot hashes table that QEMU writes into OVMF's SNP_KERNEL_HASHES page (QEMU
 * `target/i386/sev.c` `SevHashTable`, consumed by OVMF `OvmfPkg/AmdSev/BlobVerifierLib`): a GUIDed table of
 * SHA-256 digests of the kernel command line, initrd and kernel. OVMF refuses to boot blobs whose hash differs,
 * so measuring this page pins all three.
 */
import { sha256, utf8 } from '@ccinfer/core';

const SEV_HASH_TABLE_GUID = '9438d606-4f22-4cc9-b479-a793d411fd21';
const SEV_CMDLINE_ENTRY_GUID = '97d02dd8-bd20-4c94-aa78-e7714d36ab2a';
const SEV_INITRD_ENTRY_GUID = '44baf731-3a2f-4bd7-9af1-41e29169781d';
const SEV_KERNEL_ENTRY_GUID = '4de79437-abd2-427f-b835-d5b172d2045b';

/** GUID ‖ u16 length ‖ SHA-256 (50 bytes). */
const ENTRY_LENGTH = 16 + 2 + 32;
/** GUID ‖ u16 length ‖ three entries (168 bytes), padded with zeros to a multiple of 16 in guest memory. */
const TABLE_LENGTH = 16 + 2 + 3 * ENTRY_LENGTH;
const PADDED_TABLE_LENGTH = Math.ceil(TABLE_LENGTH / 16) * 16;

/** EFI byte order of a GUID given in text form (first three groups little-endian). */
function guidBytes(text: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  const b = Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
  return Uint8Array.from([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8)]);
}

export interface DirectBootBlobs {
  kernel: Uint8Array;
  /** Absent: an empty initrd (QEMU hashes zero bytes). */
  initrd?: Uint8Array;
  /** The kernel command line; QEMU hashes it with its terminating NUL (an absent one is just the NUL). */
  append?: string;
}

export interface DirectBootHashes {
  kernel: Uint8Array;
  initrd: Uint8Array;
  cmdline: Uint8Array;
}

export async function directBootHashes(blobs: DirectBootBlobs): Promise<DirectBootHashes> {
  const cmdline = utf8(`${blobs.append ?? ''}\0`);
  return {
    kernel: await sha256(blobs.kernel),
    initrd: await sha256(blobs.initrd ?? new Uint8Array(0)),
    cmdline: await sha256(cmdline),
  };
}

/** The hashes page: zeros except the padded table at `offset` (where OVMF's hash-table footer entry points). */
export function hashesPage(h: DirectBootHashes, pageLength: number, offset: number): Uint8Array {
  const page = new Uint8Array(pageLength);
  const v = new DataView(page.buffer);
  page.set(guidBytes(SEV_HASH_TABLE_GUID), offset);
  v.setUint16(offset + 16, TABLE_LENGTH, true);
  const entries: [string, Uint8Array][] = [
    [SEV_CMDLINE_ENTRY_GUID, h.cmdline],
    [SEV_INITRD_ENTRY_GUID, h.initrd],
    [SEV_KERNEL_ENTRY_GUID, h.kernel],
  ];
  entries.forEach(([guid, digest], i) => {
    const at = offset + 18 + i * ENTRY_LENGTH;
    page.set(guidBytes(guid), at);
    v.setUint16(at + 16, ENTRY_LENGTH, true);
    page.set(digest, at + 18);
  });
  return page;
}

export const HASHES_TABLE_BYTES = PADDED_TABLE_LENGTH;
