/** Reading KBS request bodies and writing KBS answers (JSON, no caching, errors in the KBS format). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CcinferError, ParseError, fromUtf8 } from '@ccinfer/core';
import { BodyTooLarge, readBody } from '../http.js';
import { KBS_PROBLEMS, kbsErrorBody, type KbsProblem } from './errors.js';

export function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(data);
}

export function sendKbsError(res: ServerResponse, problem: KbsProblem, detail: string): void {
  send(res, KBS_PROBLEMS[problem], kbsErrorBody(problem, detail));
}

/** A request body of at most `max` bytes; over it `ERR_KBS_BODY_TOO_LARGE`. */
export async function readKbsBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  try {
    return await readBody(req, max);
  } catch (cause) {
    if (cause instanceof BodyTooLarge) throw new ParseError('ERR_KBS_BODY_TOO_LARGE', `request bodies are limited to ${max} bytes`, { cause });
    throw cause;
  }
}

/** A JSON request body of at most `max` bytes; not UTF-8 JSON is `ERR_KBS_REQUEST_MALFORMED`. */
export async function readKbsJson(req: IncomingMessage, max: number): Promise<unknown> {
  const body = await readKbsBody(req, max);
  try {
    return JSON.parse(fromUtf8(body, 'ERR_KBS_REQUEST_MALFORMED'));
  } catch (cause) {
    if (cause instanceof CcinferError) throw cause;
    throw new ParseError('ERR_KBS_REQUEST_MALFORMED', 'the request body is not JSON', { cause });
  }
}
