/**
 * The one place ccinfer reaches the platform's WebCrypto. Node ≥ 20 and browsers expose
 * `globalThis.crypto.subtle`; a runtime without it can supply a provider with {@link setCryptoProvider}.
 *
 * TypeScript's DOM typings want `ArrayBuffer`-backed views for `BufferSource`; our bytes are plain
 * `Uint8Array`s, so the cast lives here once instead of at every call site.
 */
import { CcinferError } from './errors.js';

export type CryptoProvider = Pick<Crypto, 'subtle' | 'getRandomValues'>;

let provider: CryptoProvider | undefined;

export function setCryptoProvider(p: CryptoProvider | undefined): void {
  provider = p;
}

export function webcrypto(): CryptoProvider {
  const c = provider ?? (globalThis as { crypto?: CryptoProvider }).crypto;
  if (!c?.subtle) throw new CcinferError('ERR_CRYPTO_UNAVAILABLE', 'WebCrypto (crypto.subtle) is not available');
  return c;
}

export function subtle(): SubtleCrypto {
  return webcrypto().subtle;
}

/** `Uint8Array` as the `BufferSource` WebCrypto's typings ask for. */
export function bs(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

export type HashName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

export async function digest(hash: HashName, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest(hash, bs(data)));
}

export const sha256 = (d: Uint8Array): Promise<Uint8Array> => digest('SHA-256', d);
export const sha384 = (d: Uint8Array): Promise<Uint8Array> => digest('SHA-384', d);
export const sha512 = (d: Uint8Array): Promise<Uint8Array> => digest('SHA-512', d);

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  webcrypto().getRandomValues(out);
  return out;
}
