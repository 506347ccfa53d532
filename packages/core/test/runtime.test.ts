import { describe, expect, it } from 'vitest';
import { CollateralError, MemoryCache, TransportError, cachedFetch, fetchBytes, ParseError, fromHex, toHex, fromBase64Url, toBase64Url, fromUtf8 } from '../src/index.js';
import { ByteReader } from '../src/internal.js';

const noSleep = async (): Promise<void> => undefined;

describe('fetchBytes', () => {
  it('retries 429/5xx with back-off and gives up after `retries`', async () => {
    let n = 0;
    const delays: number[] = [];
    const fetcher = async (): Promise<Response> => {
      n++;
      return new Response('x', { status: 503 });
    };
    await expect(fetchBytes('https://x', { fetcher, retries: 3, backoffMs: 10, sleep: async (ms) => void delays.push(ms) })).rejects.toMatchObject({ code: 'ERR_FETCH_HTTP_STATUS', status: 503 });
    expect(n).toBe(4);
    expect(delays).toEqual([10, 20, 40]);
  });

  it('does not retry other 4xx', async () => {
    let n = 0;
    const e = await fetchBytes('https://x', { fetcher: async () => (n++, new Response('', { status: 404 })), sleep: noSleep }).catch((x) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect(e.status).toBe(404);
    expect(n).toBe(1);
  });

  it('times out a hanging server and caps the body size', async () => {
    const hang = (_u: string, init?: RequestInit): Promise<Response> => new Promise((_, rej) => init?.signal?.addEventListener('abort', () => rej(init.signal!.reason)));
    await expect(fetchBytes('https://x', { fetcher: hang, timeoutMs: 20, retries: 0 })).rejects.toMatchObject({ code: 'ERR_FETCH_TIMEOUT' });
    await expect(fetchBytes('https://x', { fetcher: async () => new Response(new Uint8Array(100)), maxBytes: 10 })).rejects.toMatchObject({ code: 'ERR_FETCH_TOO_LARGE' });
  });

  it('cachedFetch: cache first, then network; missing fetcher is a CollateralError with the caller code', async () => {
    const cache = new MemoryCache();
    const now = new Date('2026-01-01Z');
    let n = 0;
    const fetcher = async (): Promise<Response> => (n++, new Response(Uint8Array.of(1, 2)));
    expect(await cachedFetch('u', { fetcher, cache, now, ttlMs: 1000, missingCode: 'ERR_FETCH_FAILED' })).toEqual(Uint8Array.of(1, 2));
    await cachedFetch('u', { fetcher, cache, now, missingCode: 'ERR_FETCH_FAILED' });
    expect(n).toBe(1);
    await cachedFetch('u', { fetcher, cache, now: new Date(now.getTime() + 2000), missingCode: 'ERR_FETCH_FAILED' });
    expect(n).toBe(2);
    const e = await cachedFetch('v', { now, missingCode: 'ERR_FETCH_FAILED' }).catch((x) => x);
    expect(e).toBeInstanceOf(CollateralError);
    expect(e.code).toBe('ERR_FETCH_FAILED');
  });
});

describe('bytes', () => {
  it('ByteReader bounds every read with the caller code and offset', () => {
    const r = new ByteReader(Uint8Array.of(1, 0, 0, 0, 2), 'ERR_DER_MALFORMED');
    expect(r.u32le()).toBe(1);
    const e = ((): ParseError | undefined => {
      try {
        r.u32le();
      } catch (x) {
        return x as ParseError;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ParseError);
    expect(e!.code).toBe('ERR_DER_MALFORMED');
    expect(e!.offset).toBe(4);
  });

  it('strict hex, base64url and UTF-8', () => {
    expect(toHex(fromHex('0aFF'))).toBe('0aff');
    expect(() => fromHex('abc')).toThrow(ParseError);
    expect(() => fromHex('zz')).toThrow(ParseError);
    expect(toBase64Url(fromBase64Url('AQID_-8'))).toBe('AQID_-8');
    expect(() => fromBase64Url('a+b')).toThrow(ParseError);
    expect(() => fromUtf8(Uint8Array.of(0xc3, 0x28))).toThrow(ParseError);
  });
});

describe('codes of the runtime primitives', () => {
  it('ERR_HEX_INVALID, ERR_BASE64_INVALID, ERR_UTF8_INVALID', () => {
    for (const [fn, code] of [
      [() => fromHex('zz'), 'ERR_HEX_INVALID'],
      [() => fromBase64Url('a+b'), 'ERR_BASE64_INVALID'],
      [() => fromUtf8(Uint8Array.of(0xff)), 'ERR_UTF8_INVALID'],
    ] as const) {
      let e: unknown;
      try {
        fn();
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(ParseError);
      expect((e as ParseError).code).toBe(code);
    }
  });

  it('ERR_FETCH_ABORTED (caller abort) and ERR_FETCH_FAILED (network error after the retries)', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(fetchBytes('https://x', { fetcher: async () => new Response('x'), signal: ac.signal })).rejects.toMatchObject({ code: 'ERR_FETCH_ABORTED' });
    let n = 0;
    const down = async (): Promise<Response> => {
      n++;
      throw new TypeError('fetch failed');
    };
    const e = await fetchBytes('https://x', { fetcher: down, retries: 1, sleep: noSleep }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('ERR_FETCH_FAILED');
    expect(n).toBe(2);
  });

  it('ERR_CRYPTO_UNAVAILABLE when the runtime has no WebCrypto', async () => {
    const { setCryptoProvider, subtle, CcinferError } = await import('../src/index.js');
    setCryptoProvider({} as never);
    try {
      expect(() => subtle()).toThrow(CcinferError);
      try {
        subtle();
      } catch (x) {
        expect((x as InstanceType<typeof CcinferError>).code).toBe('ERR_CRYPTO_UNAVAILABLE');
      }
    } finally {
      setCryptoProvider(undefined);
    }
  });
});
