/**
 * The gateway's HPKE keys: the current key (the one an attest binds into the evidence) and, during a rotation
 * grace period, the previous one. Private halves never leave this process (`generateGatewayKey` makes them
 * non-extractable).
 *
 * Key identity (docs/wire-protocol.md "Key identity"): RFC 9458 §3.1 gives a key config a one-byte key id, so an
 * id alone cannot tell a restarted or rotated gateway's key from the one a client attested. Each key gets a
 * random id, never the id of a key the ring still holds, and a request names the whole key config it was
 * encrypted to (the `ccinfer-key-config` digest): a request for any key config this ring does not hold is
 * refused as `key-config-mismatch` before decryption, and the client re-attests (RFC 9458 §4.3: the server
 * picks the key by the request's key id).
 */
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { encodeKeyConfigList, generateGatewayKey, type GatewayKey, type KeyLookup } from '@ccinfer/core';
import { keyConfigDigest } from '@ccinfer/core/internal';

interface HeldKey {
  key: GatewayKey;
  digest: string;
}

export class KeyRing {
  private previousKey: HeldKey | undefined;

  private constructor(private currentKey: HeldKey) {}

  /** A ring holding one fresh key with a random key id. */
  static async create(): Promise<KeyRing> {
    return new KeyRing(await freshKey([]));
  }

  get current(): GatewayKey {
    return this.currentKey.key;
  }

  /** The key configs this ring opens requests for (current first). */
  get held(): GatewayKey[] {
    return this.previousKey ? [this.currentKey.key, this.previousKey.key] : [this.currentKey.key];
  }

  /** The previous key while it is in its grace period. */
  get previous(): GatewayKey | undefined {
    return this.previousKey?.key;
  }

  /** The key for an OHTTP key id: the current one or the previous one still in its grace period. */
  readonly lookup: KeyLookup = (id) => (id === this.currentKey.key.config.keyId ? this.currentKey.key : id === this.previousKey?.key.config.keyId ? this.previousKey.key : undefined);

  /**
   * The lookup for a request that names its key config by digest: only that key, and only while the ring
   * holds it; `undefined` when it holds no such key config (answer `key-config-mismatch`). Without a digest
   * (clients that do not send one) the plain key-id lookup applies.
   */
  lookupFor(digest: string | undefined): KeyLookup | undefined {
    if (digest === undefined) return this.lookup;
    const held = [this.currentKey, this.previousKey].find((h) => h?.digest === digest);
    if (!held) return undefined;
    return (id) => (id === held.key.config.keyId ? held.key : undefined);
  }

  /**
   * Makes a new key current, with a random key id other than the ids still held. With `keepPrevious` the old
   * key still opens requests until `dropPrevious()` or the next rotation; without it, it is forgotten at once.
   */
  async rotate(keepPrevious: boolean): Promise<GatewayKey> {
    const next = await freshKey(keepPrevious ? [this.currentKey.key.config.keyId] : []);
    this.previousKey = keepPrevious ? this.currentKey : undefined;
    this.currentKey = next;
    return next.key;
  }

  /** Ends a rotation's grace period: the previous key opens nothing any more. */
  dropPrevious(): void {
    this.previousKey = undefined;
  }

  /**
   * `GET /.well-known/ohttp-keys` (RFC 9458 §3.2, application/ohttp-keys): the key configs this ring opens
   * requests for, current first. Peers route forwarded requests by it (peers.ts); clients trust a key config
   * only from an appraised evidence bundle.
   */
  serveKeyConfigs(res: ServerResponse): void {
    const body = encodeKeyConfigList(this.held.map((k) => k.config));
    res.writeHead(200, { 'content-type': 'application/ohttp-keys', 'cache-control': 'no-store', 'content-length': body.length });
    res.end(body);
  }
}

/**
 * A new key whose id is random (so a restart does not start again at a fixed id) and differs from `taken`,
 * so the two keys held during a grace period never share an id.
 */
async function freshKey(taken: readonly number[]): Promise<HeldKey> {
  let id: number;
  do id = randomBytes(1)[0]!;
  while (taken.includes(id));
  const key = await generateGatewayKey(id);
  return { key, digest: keyConfigDigest(key.encoded) };
}
