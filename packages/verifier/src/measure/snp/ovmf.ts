/**
 * OVMF's SEV metadata, read from the end of the firmware image (parse stage: no hashing, no trust decisions).
 *
 * OVMF's reset vector (`OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm`) ends the image with a GUIDed table that a
 * VMM reads backwards: the last 0x20 bytes hold the reset vector, and the 18 bytes before them are the table's
 * footer `{ u16 length, GUID 96b582de-1fb2-45f7-baea-a366c55a082d }`, `length` covering the whole table. Each
 * entry in the table is `{ data, u16 length, GUID }`, again read from its end, `length` including the 18-byte
 * header. The SEV metadata entry points (as an offset from the image end) at the `ASEV` header followed by the
 * list of guest memory sections the VMM must pre-validate (`OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm`).
 */
import { ByteReader, parseFail } from '@ccinfer/core/internal';

const PAGE = 0x1000;
/** The reset vector and the VTF signature occupy the last 0x20 bytes of the image. */
const RESET_VECTOR_BYTES = 0x20;
const ENTRY_HEADER = 18;

/** GUIDs of the OVMF footer table entries that the SEV-SNP launch uses, in their registry (text) form. */
export const OVMF_TABLE_FOOTER_GUID = '96b582de-1fb2-45f7-baea-a366c55a082d';
export const SEV_ES_RESET_BLOCK_GUID = '00f771de-1a7e-4fcb-890e-68c77e2fb44e';
export const SEV_METADATA_OFFSET_GUID = 'dc886566-984a-4798-a75e-5585a7bf67cc';
export const SEV_HASH_TABLE_RV_GUID = '7255371f-3a3b-4b04-927b-1da6efa8d454';

/**
 * SEV metadata section types (`OvmfSevMetadata.asm`): how the VMM must place each range in guest memory, and
 * therefore which SNP_LAUNCH_UPDATE page type it gets.
 */
export const SevSectionType = {
  /** Pre-validated, zero-filled memory (SNP_SEC_MEM). */
  SnpSecMem: 1,
  /** The SNP secrets page. */
  SnpSecrets: 2,
  /** The CPUID page filled in by the PSP. */
  Cpuid: 3,
  /** The SVSM calling area (zero pages). */
  SvsmCaa: 4,
  /** The page holding the kernel / initrd / command-line hashes table (measured direct boot). */
  SnpKernelHashes: 0x10,
} as const;

export interface SevMetadataSection {
  gpa: number;
  size: number;
  type: number;
}

export interface OvmfImage {
  /** The whole image as given (also a tail of it: only the end is parsed). */
  data: Uint8Array;
  /** Guest-physical address of the first byte: the image is mapped so that it ends at 4 GiB. */
  gpa: number;
  /** The footer table's entries by GUID (lower-case text form). */
  table: ReadonlyMap<string, Uint8Array>;
  /** SEV metadata sections in the order the image lists them (empty if the image has none). */
  sections: readonly SevMetadataSection[];
  /** The SEV-ES AP reset address (CS base in bits 31:16, IP in 15:0), if the image has the reset block. */
  sevEsResetEip: number | undefined;
}

/** RFC 4122 text of a GUID stored in EFI (mixed-endian) byte order. */
export function guidText(b: Uint8Array): string {
  const h = (i: number): string => b[i]!.toString(16).padStart(2, '0');
  const le = (idx: number[]): string => idx.map(h).join('');
  return `${le([3, 2, 1, 0])}-${le([5, 4])}-${le([7, 6])}-${le([8, 9])}-${le([10, 11, 12, 13, 14, 15])}`;
}

function readFooterTable(data: Uint8Array): Map<string, Uint8Array> {
  const end = data.length - RESET_VECTOR_BYTES;
  if (end < ENTRY_HEADER) parseFail('ERR_MEASURE_OVMF_FOOTER', 'image too small for the OVMF footer table', { offset: 0 });
  const footer = new ByteReader(data.subarray(end - ENTRY_HEADER, end), 'ERR_MEASURE_OVMF_FOOTER');
  const tableLength = footer.u16le('footer length');
  if (guidText(footer.bytesView(16, 'footer GUID')) !== OVMF_TABLE_FOOTER_GUID) {
    parseFail('ERR_MEASURE_OVMF_FOOTER', 'no OVMF footer table GUID before the reset vector', { offset: end - 16 });
  }
  if (tableLength < ENTRY_HEADER || tableLength > end) parseFail('ERR_MEASURE_OVMF_FOOTER', `footer table length ${tableLength} out of range`, { offset: end - ENTRY_HEADER });
  const start = end - tableLength;
  const table = new Map<string, Uint8Array>();
  for (let p = end - ENTRY_HEADER; p > start; ) {
    if (p - start < ENTRY_HEADER) parseFail('ERR_MEASURE_OVMF_FOOTER', 'truncated footer table entry', { offset: start });
    const len = data[p - ENTRY_HEADER]! | (data[p - ENTRY_HEADER + 1]! << 8);
    const guid = guidText(data.subarray(p - 16, p));
    if (len < ENTRY_HEADER || len > p - start) parseFail('ERR_MEASURE_OVMF_FOOTER', `footer table entry ${guid} length ${len} out of range`, { offset: p - ENTRY_HEADER });
    if (table.has(guid)) parseFail('ERR_MEASURE_OVMF_FOOTER', `duplicate footer table entry ${guid}`, { offset: p - 16 });
    table.set(guid, data.subarray(p - len, p - ENTRY_HEADER));
    p -= len;
  }
  return table;
}

function entryU32(table: ReadonlyMap<string, Uint8Array>, guid: string, what: string): number | undefined {
  const e = table.get(guid);
  if (e === undefined) return undefined;
  if (e.length < 4) parseFail('ERR_MEASURE_OVMF_FOOTER', `${what} entry is ${e.length} bytes, 4 expected`);
  return new ByteReader(e, 'ERR_MEASURE_OVMF_FOOTER').u32le(what);
}

/** `ASEV` header `{ signature, length, version 1, count }` then `count` × `{ u32 gpa, u32 size, u32 type }`. */
function readSevMetadata(data: Uint8Array, offsetFromEnd: number): SevMetadataSection[] {
  const at = data.length - offsetFromEnd;
  if (offsetFromEnd <= 0 || at < 0 || at + 16 > data.length) {
    parseFail('ERR_MEASURE_OVMF_METADATA', `SEV metadata offset 0x${offsetFromEnd.toString(16)} is outside the image`);
  }
  const r = new ByteReader(data.subarray(at), 'ERR_MEASURE_OVMF_METADATA');
  if (r.u32le('signature') !== 0x56455341) parseFail('ERR_MEASURE_OVMF_METADATA', 'SEV metadata signature is not "ASEV"', { offset: at });
  const length = r.u32le('length');
  const version = r.u32le('version');
  const count = r.u32le('count');
  if (version !== 1) parseFail('ERR_MEASURE_OVMF_METADATA', `SEV metadata version ${version}, 1 expected`, { offset: at + 8 });
  if (length !== 16 + 12 * count || at + length > data.length) {
    parseFail('ERR_MEASURE_OVMF_METADATA', `SEV metadata length ${length} does not match ${count} sections`, { offset: at + 4 });
  }
  const sections: SevMetadataSection[] = [];
  for (let i = 0; i < count; i++) {
    const s = { gpa: r.u32le('gpa'), size: r.u32le('size'), type: r.u32le('type') };
    if (s.gpa % PAGE !== 0 || s.size === 0 || s.size % PAGE !== 0 || s.gpa + s.size > 2 ** 32) {
      parseFail('ERR_MEASURE_OVMF_METADATA', `SEV metadata section ${i} is not a page-aligned range below 4 GiB`, { offset: at + 16 + 12 * i });
    }
    if (!(Object.values(SevSectionType) as number[]).includes(s.type)) {
      parseFail('ERR_MEASURE_OVMF_METADATA', `SEV metadata section ${i} has unknown type 0x${s.type.toString(16)}`, { offset: at + 24 + 12 * i });
    }
    sections.push(s);
  }
  return sections;
}

/**
 * Parses the end of an OVMF image: footer table, SEV-ES reset block and SEV metadata sections. `data` may be the
 * whole image or a page-multiple tail of it (the table and metadata live in the last pages).
 */
export function parseOvmf(data: Uint8Array): OvmfImage {
  if (data.length === 0 || data.length % PAGE !== 0 || data.length > 2 ** 32) {
    parseFail('ERR_MEASURE_IMAGE_SIZE', `firmware image of ${data.length} bytes is not a non-empty multiple of 4 KiB below 4 GiB`);
  }
  const table = readFooterTable(data);
  const metadataOffset = entryU32(table, SEV_METADATA_OFFSET_GUID, 'SEV metadata offset');
  return {
    data,
    gpa: 2 ** 32 - data.length,
    table,
    sections: metadataOffset === undefined ? [] : readSevMetadata(data, metadataOffset),
    sevEsResetEip: entryU32(table, SEV_ES_RESET_BLOCK_GUID, 'SEV-ES reset block'),
  };
}
