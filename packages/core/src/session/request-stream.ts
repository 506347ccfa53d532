/**
 * A request body encrypted as it is read (chunked OHTTP, draft-ietf-ohai-chunked-ohttp-08 §4): the Binary HTTP
 * request (RFC 9292, indeterminate length) is produced piece by piece and each piece is sealed as one request
 * chunk, the last one with the AAD "final". The stream is pull-based: the next source piece is read and sealed
 * only when the transport asks for more, so a slow network slows the reader instead of filling a queue, and
 * neither the plaintext nor the ciphertext of the whole body is ever held.
 */
import { CcinferError } from '../errors.js';
import { sessionError } from './errors.js';
import { encodeContentChunk, encodeMessageEnd, encodeRequestHead, type BhttpRequestHead } from './bhttp.js';
import { CHUNK_SIZE, type ChunkedRequestEncoder } from './ohttp.js';

/**
 * Most content bytes per request chunk: a Binary HTTP content chunk of this size with its 2-byte length
 * prefix fits in one CHUNK_SIZE plaintext chunk (the draft §3 size receivers must accept).
 */
export const MAX_CONTENT_PER_CHUNK = CHUNK_SIZE - 2;

/** A body source that is read once, piece by piece. */
export type BodySource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface RequestStreamOptions {
  /** Called after each piece is sealed with the content bytes sealed so far (uploads' progress). */
  onProgress?: (sentBytes: number) => void;
  /** Called once the final chunk is sealed (the whole body was read). */
  onEnd?: () => void;
}

/**
 * The encapsulated chunked request for `head` and a body read from `source`: the chunked request header, the
 * head as the first chunk, the content in chunks of at most {@link MAX_CONTENT_PER_CHUNK} bytes, and the
 * message end as the final chunk. A source that fails errors the stream, so the message never gets its final
 * chunk and the gateway refuses it as truncated; cancelling the stream cancels the source.
 */
export function encryptRequestStream(encoder: ChunkedRequestEncoder, head: BhttpRequestHead, source: BodySource, options: RequestStreamOptions = {}): ReadableStream<Uint8Array> {
  const pieces = iterate(source);
  let started = false;
  let sent = 0;
  let pending: Uint8Array | undefined; // the rest of a source piece larger than one chunk
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          const first = await encoder.seal(encodeRequestHead(head), false);
          const header = encoder.header();
          const out = new Uint8Array(header.length + first.length);
          out.set(header);
          out.set(first, header.length);
          controller.enqueue(out);
          return;
        }
        let piece = pending;
        pending = undefined;
        while (!piece || piece.length === 0) {
          const r = await pieces.next().catch((cause: unknown) => {
            throw cause instanceof CcinferError ? cause : sessionError('ERR_SESSION_BODY', 'the request body source failed', { cause });
          });
          if (r.done) {
            controller.enqueue(await encoder.seal(encodeMessageEnd(), true));
            controller.close();
            options.onEnd?.();
            return;
          }
          piece = asBytes(r.value);
        }
        if (piece.length > MAX_CONTENT_PER_CHUNK) {
          pending = piece.subarray(MAX_CONTENT_PER_CHUNK);
          piece = piece.subarray(0, MAX_CONTENT_PER_CHUNK);
        }
        controller.enqueue(await encoder.seal(encodeContentChunk(piece), false));
        sent += piece.length;
        options.onProgress?.(sent);
      },
      async cancel(reason) {
        await pieces.return?.(reason);
      },
    },
    // One sealed chunk ahead at most: the transport's own buffer is the only queue.
    { highWaterMark: 1 },
  );
}

function iterate(source: BodySource): AsyncIterator<Uint8Array> {
  if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function' && !(Symbol.asyncIterator in source)) {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    return {
      next: async () => {
        const r = await reader.read();
        return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
      },
      return: async (reason?: unknown) => {
        await reader.cancel(reason);
        return { done: true, value: undefined };
      },
    };
  }
  return (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
}

/** A source piece as bytes: Uint8Array (Buffer included) or another ArrayBuffer view; anything else is refused. */
function asBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw sessionError('ERR_SESSION_BODY', 'a request body piece is not bytes');
}
