/**
 * AMD Key Distribution Service addressing (VCEK/KDS spec #57230 §4) and the GHCB certificate table
 * (GHCB spec #56421 §4.1.8.1, the configfs-tsm `auxblob`). URL builders and parsers only; fetching goes through
 * an injected Fetcher in verify.ts, and everything fetched is verified by signature before it is trusted.
 */
import { ParseError, toHex } from '@ccinfer/core';
import type { SnpProductLine, TcbVersion } from './parse.js';

export const KDS_BASE = 'https://kdsintf.amd.com';

/**
 * VCEK URL for a chip at a TCB. Turin uses the first 8 bytes of CHIP_ID and adds fmcSPL (a 64-byte hwID
 * gets 404 there). The TCB must be REPORTED_TCB, the one the VCEK is derived from — never CURRENT_TCB.
 */
export function vcekUrl(product: SnpProductLine, chipId: Uint8Array, tcb: TcbVersion, base = KDS_BASE): string {
  const hw = product === 'Turin' ? chipId.subarray(0, 8) : chipId;
  const q = [`blSPL=${tcb.bootloader}`, `teeSPL=${tcb.tee}`, `snpSPL=${tcb.snp}`, `ucodeSPL=${tcb.microcode}`];
  if (product === 'Turin') q.unshift(`fmcSPL=${tcb.fmc ?? 0}`);
  return `${base}/vcek/v1/${product}/${toHex(hw)}?${q.join('&')}`;
}

/** `/vcek/v1/{P}/cert_chain` (ASK then ARK) or `/vlek/v1/{P}/cert_chain` (ASVK then ARK), PEM. */
export function certChainUrl(product: SnpProductLine, kind: 'vcek' | 'vlek', base = KDS_BASE): string {
  return `${base}/${kind}/v1/${product}/cert_chain`;
}

/** The ARK-signed CRL revoking ASKs (`vcek`) or ASVKs (`vlek`), DER. */
export function crlUrl(product: SnpProductLine, kind: 'vcek' | 'vlek', base = KDS_BASE): string {
  return `${base}/${kind}/v1/${product}/crl`;
}

/** Certificate-table GUIDs (RFC 4122 text order in the table bytes). */
export const CERT_TABLE_GUID = {
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
  crl: '92f81bc3-5811-4d3d-97ff-d19f88dc67ea',
} as const;

function guidText(b: Uint8Array): string {
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Parses a certificate table: 24-byte entries `{GUID[16], offset u32le, length u32le}` up to an all-zero
 * entry, offsets from the start of the table. Entries must lie after the header, inside the buffer, and
 * GUIDs must not repeat. Returns blobs by GUID text. An ARK found here is ignored by verification: the root
 * is always the pinned one.
 */
export function parseCertTable(table: Uint8Array): Map<string, Uint8Array> {
  const code = 'ERR_SNP_CERT_TABLE_MALFORMED';
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const entries: { id: string; offset: number; length: number }[] = [];
  let p = 0;
  for (;;) {
    if (p + 24 > table.length) throw new ParseError(code, 'certificate table has no terminating entry', { offset: p });
    const guid = table.subarray(p, p + 16);
    const offset = view.getUint32(p + 16, true);
    const length = view.getUint32(p + 20, true);
    p += 24;
    if (guid.every((b) => b === 0) && offset === 0 && length === 0) break;
    if (entries.length === 64) throw new ParseError(code, 'certificate table has too many entries', { offset: p });
    entries.push({ id: guidText(guid), offset, length });
  }
  const out = new Map<string, Uint8Array>();
  for (const { id, offset, length } of entries) {
    if (out.has(id)) throw new ParseError(code, `certificate table repeats ${id}`);
    // Blobs lie after the header (the entries and the terminator) and inside the buffer.
    if (offset < p || length === 0 || offset + length > table.length) {
      throw new ParseError(code, `certificate table entry ${id} points outside the table`);
    }
    out.set(id, table.subarray(offset, offset + length));
  }
  return out;
}
