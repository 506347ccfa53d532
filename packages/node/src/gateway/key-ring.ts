/**
 * The gateway's HPKE keys: the current key (the one an attest binds into the evidence) and, during a rotation
 * grace period, the previous one. Private halves never leave this process (`generateGatewayKey` makes them
 * non-extractable). A request encrypted to any other key id is refused as `key-config-mismatch`, and the
 * client re-attests (RFC 9458 §4.3: the server picks the key by the request's key id).
 */
import type { ServerResponse } from 'node:http';
import { encodeKeyConfigList, generateGatewayKey, type GatewayKey, type KeyLookup } from '@ccinfer/core';

export class KeyRing {
  private nextKeyId: number;
  private previousKey: GatewayKey | undefined;

  private constructor(
    private currentKey: GatewayKey,
    nextKeyId: number,
  ) {
    this.nextKeyId = nextKeyId;
  }

  /** A ring holding one fresh key (key id 1). */
  static async create(): Promise<KeyRing> {
    return new KeyRing(await generateGatewayKey(1), 2);
  }

  get current(): GatewayKey {
    return this.currentKey;
  }

  /** The previous key while it is in its grace period. */
  get previous(): GatewayKey | undefined {
    return this.previousKey;
  }

  /** The key for an OHTTP key id: the current one or the previous one still in its grace period. */
  readonly lookup: KeyLookup = (id) => (id === this.currentKey.config.keyId ? this.currentKey : id === this.previousKey?.config.keyId ? this.previousKey : undefined);

  /**
   * Makes a new key current (key ids count up modulo 256, the one-byte OHTTP key id). With `keepPrevious` the
   * old key still opens requests until the next rotation; without it, it is forgotten at once.
   */
  async rotate(keepPrevious: boolean): Promise<GatewayKey> {
    const next = await generateGatewayKey(this.nextKeyId++ & 0xff);
    this.previousKey = keepPrevious ? this.currentKey : undefined;
    this.currentKey = next;
    return next;
  }

  /**
   * `GET /.well-known/ohttp-keys` (RFC 9458 §3.2, application/ohttp-keys): the current key config. A
   * convenience only: clients trust a key config only from an appraised evidence bundle.
   */
  serveKeyConfigs(res: ServerResponse): void {
    const body = encodeKeyConfigList([this.currentKey.config]);
    res.writeHead(200, { 'content-type': 'application/ohttp-keys', 'cache-control': 'no-store', 'content-length': body.length });
    res.end(body);
  }
}
