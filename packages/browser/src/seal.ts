/**
 * Verify-before-upload sealing: bytes are encrypted only to a key config that an accepted appraisal returned
 * (the key the hardware evidence binds, docs/binding.md), as a chunked OHTTP request (draft-ietf-ohai-chunked-
 * ohttp §4–5): a header, then AEAD-sealed chunks, the last one marked final so truncation is detected.
 */
import {
  ChunkedRequestEncoder,
  SessionError,
  VerificationError,
  concat,
  parseKeyConfig,
  type AttestedDocument,
} from '@ccinfer/core';

/** Plaintext per sealed chunk: large enough for AES-GCM throughput, well under the gateway's 1 MiB cap. */
export const UPLOAD_CHUNK = 64 * 1024;

export interface SealProgress {
  /** `sealing`: plaintext encrypted so far; `uploading`: ciphertext the network has taken. */
  phase: 'sealing' | 'uploading';
  loaded: number;
  total: number;
  /** 0–100, whole numbers. */
  percent: number;
}

export type ProgressListener = (p: SealProgress) => void;

export const progress = (phase: SealProgress['phase'], loaded: number, total: number): SealProgress => ({
  phase,
  loaded,
  total,
  percent: total === 0 ? 100 : Math.floor((loaded / total) * 100),
});

/** The key config of an accepted appraisal; anything else is refused before a byte is sealed. */
export function attestedKeyConfig(attested: AttestedDocument): ReturnType<typeof parseKeyConfig> {
  if (!attested || attested.ok !== true || !(attested.keyConfig instanceof Uint8Array) || attested.keyConfig.length === 0) {
    throw new VerificationError('ERR_UPLOAD_NOT_ATTESTED', 'refusing to seal: the document is not an accepted appraisal with a key config');
  }
  return parseKeyConfig(attested.keyConfig);
}

async function readSlice(data: Blob | Uint8Array, start: number, end: number): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data.subarray(start, end);
  try {
    return new Uint8Array(await data.slice(start, end).arrayBuffer());
  } catch (cause) {
    throw new SessionError('ERR_UPLOAD_READ', `could not read bytes ${start}–${end} of the file`, { cause });
  }
}

/**
 * Seals `prefix || data || suffix` chunk by chunk, reading `data` one slice at a time (a File is never read
 * whole). Returns the sealed parts in order: header first, final chunk last.
 */
export async function sealParts(
  encoder: ChunkedRequestEncoder,
  data: Blob | Uint8Array,
  options: { prefix?: Uint8Array; suffix?: Uint8Array; chunkSize?: number | undefined; onProgress?: ProgressListener | undefined; signal?: AbortSignal | undefined } = {},
): Promise<Uint8Array[]> {
  const size = data instanceof Uint8Array ? data.length : data.size;
  const chunk = options.chunkSize ?? UPLOAD_CHUNK;
  const parts: Uint8Array[] = [encoder.header()];
  let pending = options.prefix ?? new Uint8Array(0);
  let at = 0;
  options.onProgress?.(progress('sealing', 0, size));
  while (at < size) {
    options.signal?.throwIfAborted();
    const end = Math.min(size, at + chunk);
    const slice = await readSlice(data, at, end);
    at = end;
    const piece = pending.length ? concat(pending, slice) : slice;
    pending = new Uint8Array(0);
    if (at < size) {
      parts.push(await encoder.seal(piece, false));
      options.onProgress?.(progress('sealing', at, size));
    } else {
      pending = piece;
    }
  }
  parts.push(await encoder.seal(options.suffix?.length ? concat(pending, options.suffix) : pending, true));
  options.onProgress?.(progress('sealing', size, size));
  return parts;
}

/**
 * Encrypts `data` to the key an accepted appraisal attested (`client.attest()` returns that document). The
 * result is a `message/ohttp-chunked-req` body only the attested pod can open; throws ERR_UPLOAD_NOT_ATTESTED
 * for a document that is not ok.
 */
export async function sealFor(attested: AttestedDocument, data: Uint8Array | Blob, options: { chunkSize?: number; onProgress?: ProgressListener } = {}): Promise<Uint8Array> {
  const kc = attestedKeyConfig(attested);
  const encoder = await ChunkedRequestEncoder.create(kc);
  return concat(...(await sealParts(encoder, data, options)));
}
