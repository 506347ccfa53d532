/**
 * The response half of a chunked OHTTP exchange at the gateway (draft-ietf-ohai-chunked-ohttp §5.2): the
 * upstream's response is sealed chunk by chunk as it arrives and written at once, so SSE tokens reach the client
 * as they are produced, with the least work per chunk:
 *  - writes made in one turn of the event loop leave in one `writev` (cork, uncork on the next tick): the HTTP
 *    head and the first body bytes go out together, and so do chunks that arrive together; nothing waits for
 *    later data, so a lone token is never held back (and Node's sockets have Nagle's algorithm off);
 *  - the response nonce and the sealed BHTTP head are one HTTP chunk, so the client's first read has both, and
 *    every other write is one sealed OHTTP chunk (each write is an HTTP/1.1 chunk the client reads on its own);
 *  - the upstream request is cancelled through an event emitter (undici accepts one as `signal`), not an
 *    AbortController per request.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { CHUNK_SIZE, concat, MEDIA_TYPE_CHUNKED_RESPONSE, utf8, type ChunkedResponseEncoder } from '@ccinfer/core';
import { encodeContentChunk, encodeResponseEnd, encodeResponseHead } from '@ccinfer/core/internal';
import type { GatewayLog } from './slots.js';
import { responseFields, type InnerProblem, type UpstreamResponse } from './upstream.js';

export const PROBLEM_FIELDS: [string, string][] = [['content-type', 'application/problem+json']];

/** An emitter of `abort` with `aborted`: the shape undici accepts as a Dispatcher `signal`. */
export interface UpstreamCancel extends EventEmitter {
  aborted: boolean;
  /** Cancels the upstream request (once). */
  abort(): void;
}

/**
 * Cancels the upstream request when the client goes away before its response is complete, or when `abort()` is
 * called (a request that turns out truncated or forged). An emitter rather than an AbortController per request.
 */
export function upstreamSignal(res: ServerResponse): UpstreamCancel {
  const signal: UpstreamCancel = Object.assign(new EventEmitter(), {
    aborted: false,
    abort(): void {
      if (signal.aborted) return;
      signal.aborted = true;
      signal.emit('abort');
    },
  });
  res.once('close', () => {
    if (!res.writableFinished) signal.abort();
  });
  return signal;
}

/**
 * Writes one response with back-pressure. A client that disconnects never emits `drain`, so the wait also ends
 * on `close`; one that stops reading is cut off after `writeIdleTimeoutMs`.
 */
class ResponseWriter {
  private corked = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly writeIdleTimeoutMs: number,
  ) {}

  /** Queues bytes; the writes of this turn leave together on the next tick. Resolves once more may be written. */
  async write(bytes: Uint8Array): Promise<void> {
    const res = this.res;
    if (res.destroyed) throw new Error('client gone');
    if (!this.corked) {
      this.corked = true;
      res.cork();
      process.nextTick(() => {
        this.corked = false;
        res.uncork();
      });
    }
    if (!res.write(bytes)) await this.drained();
  }

  private drained(): Promise<void> {
    const res = this.res;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error('client stopped reading')), this.writeIdleTimeoutMs);
      const onDrain = (): void => done();
      const onClose = (): void => done(new Error('client gone'));
      function done(err?: Error): void {
        clearTimeout(timer);
        res.off('drain', onDrain);
        res.off('close', onClose);
        if (err) reject(err);
        else resolve();
      }
      res.once('drain', onDrain);
      res.once('close', onClose);
    });
  }
}

/**
 * Relays the upstream response (or the gateway's own inner problem) as a chunked OHTTP response. Each upstream
 * piece is sealed and written as soon as it arrives (no buffering), split at CHUNK_SIZE. A mid-stream failure
 * sends no final chunk, so the client sees a truncated (rejected) response, never a silently short one.
 */
export async function relayChunked(
  res: ServerResponse,
  encoder: ChunkedResponseEncoder,
  up: UpstreamResponse | InnerProblem,
  o: { writeIdleTimeoutMs: number; log: GatewayLog },
): Promise<void> {
  const out = new ResponseWriter(res, o.writeIdleTimeoutMs);
  const seal = (plaintext: Uint8Array, final: boolean): Promise<void> => encoder.seal(plaintext, final).then((c) => out.write(c));
  res.writeHead(200, { 'content-type': MEDIA_TYPE_CHUNKED_RESPONSE, incremental: '?1', 'cache-control': 'no-store' });
  try {
    const head = 'problem' in up ? encodeResponseHead(up.problem.status, PROBLEM_FIELDS) : encodeResponseHead(up.statusCode, responseFields(up.headers));
    await out.write(concat(encoder.header(), await encoder.seal(head, false)));
    if ('problem' in up) {
      await seal(concat(encodeContentChunk(utf8(up.problem.body)), encodeResponseEnd()), true);
    } else {
      await eachPiece(up.body, async (piece) => {
        for (let at = 0; at < piece.length; at += CHUNK_SIZE) await seal(encodeContentChunk(piece.subarray(at, Math.min(at + CHUNK_SIZE, piece.length))), false);
      });
      await seal(encodeResponseEnd(), true);
    }
    res.end();
  } catch (err) {
    o.log('stream-failed', { error: (err as Error).name });
    if ('body' in up) up.body.destroy();
    res.destroy();
  }
}

/**
 * Calls `f` on each piece of `body` in order, the next only once the previous one's promise settled (so a slow
 * client slows the upstream read: back-pressure); resolves at the body's end. Pieces are taken with `read()`
 * while any are buffered, and the loop waits for `readable` only when none are: pausing and resuming the
 * stream for each piece cost a tick per piece (a burst of 5000 SSE events went 3.5× slower), and a stream's
 * async iterator costs more to set up than a short response takes to relay (docs/design-notes.md "Gateway
 * overhead"). A body that errors, or closes before its end, rejects.
 */
function eachPiece(body: Readable, f: (piece: Buffer) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    let busy = false;
    let ended = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      reject(err instanceof Error ? err : new Error('upstream body failed'));
    };
    const pump = async (): Promise<void> => {
      if (busy || failed) return;
      busy = true;
      try {
        for (let piece = body.read() as Buffer | null; piece !== null && !failed; piece = body.read() as Buffer | null) await f(piece);
      } catch (err) {
        fail(err);
      } finally {
        busy = false;
      }
      if (ended && !failed) resolve();
    };
    body.on('readable', () => void pump());
    body.once('end', () => {
      ended = true;
      if (!busy && !failed) resolve();
    });
    body.once('error', fail);
    body.once('close', () => {
      if (!body.readableEnded) fail(new Error('upstream body closed before its end'));
    });
  });
}
