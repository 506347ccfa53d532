/** CoCo initdata (Kata's rule): declared algorithm over the whole document, fitted to HOST_DATA / MRCONFIGID. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ParseError, VerificationError, toHex, utf8 } from '@ccinfer/core';
import { checkInitdata, initdataClaims, initdataDigest, parseInitdataHeader } from '../../src/index.js';
import { expectCode, expectCodeSync } from '../../../../test-support/helpers.js';

const doc = (alg: string): string => `version = "0.1.0"\nalgorithm = "${alg}"\n\n[data]\n"aa.toml" = '''\n[token_configs]\n'''\n"policy.rego" = "package agent_policy"\n`;
/** An independent reference: node:crypto over the same bytes, then Kata's zero-pad / truncate. */
const reference = (alg: string, text: string, size: number): string => {
  const out = Buffer.alloc(size);
  createHash(alg).update(text).digest().copy(out, 0, 0, size);
  return out.toString('hex');
};

describe('initdataDigest', () => {
  for (const alg of ['sha256', 'sha384', 'sha512']) {
    it(`${alg}: zero-padded or truncated to HOST_DATA (32) and MRCONFIGID (48)`, async () => {
      expect(toHex(await initdataDigest(doc(alg), { tee: 'snp' }))).toBe(reference(alg, doc(alg), 32));
      expect(toHex(await initdataDigest(doc(alg), { tee: 'tdx' }))).toBe(reference(alg, doc(alg), 48));
      expect(toHex(await initdataDigest(utf8(doc(alg)), { tee: 'tdx' }))).toBe(reference(alg, doc(alg), 48));
    });
  }

  it('reports the parts as claims', async () => {
    const c = await initdataClaims(doc('sha512'), { tee: 'snp' });
    expect(c).toMatchObject({ algorithm: 'sha512', version: '0.1.0' });
    expect(c.digest).toHaveLength(64);
    expect(toHex(c.register)).toBe(toHex(c.digest.subarray(0, 32)));
    expect(parseInitdataHeader("algorithm = 'sha384' # literal string\n").algorithm).toBe('sha384');
    // Each [data] entry by its digest with the declared algorithm, over the entry's text (not its TOML quoting).
    expect(c.parts).toEqual({
      'aa.toml': createHash('sha512').update('[token_configs]\n').digest('hex'),
      'policy.rego': createHash('sha512').update('package agent_policy').digest('hex'),
    });
    expect((await initdataClaims('algorithm = "sha256"\n', { tee: 'snp' })).parts).toEqual({});
  });

  it('ERR_INITDATA_MALFORMED: no, unsupported, repeated or hidden algorithm; top level that is not key = "string"', async () => {
    const bad = [
      'version = "0.1.0"\n[data]\n', // none
      'algorithm = "md5"\n', // unsupported
      'algorithm = "constructor"\n', // not an own key of the table
      'algorithm = "sha256"\nalgorithm = "sha512"\n', // repeated: which one does the host use?
      'version = "0.1.0"\n[data]\nalgorithm = "sha256"\n', // only inside a table
      'x = """\nalgorithm = "sha256"\n"""\nalgorithm = "sha512"\n', // a multi-line string at the top level
      'algorithm = "sha\\u003256"\n', // escapes are not read
      'algorithm = "sha256"\n[data]\n"aa.toml" = "a"\n"aa.toml" = "b"\n', // a repeated [data] key: which one does the agent use?
      'algorithm = "sha256"\n[data]\n"policy.rego" = 1\n', // the agent reads strings only
      'algorithm = "sha256"\ndata = "x"\n', // data is not a table
      'algorithm = "sha256"\n[extra]\n', // a top-level key the agent does not know
      'algorithm = "sha256"\n[data]\n"aa.toml" = "unterminated\n', // not TOML
    ];
    for (const t of bad) await expectCode(initdataDigest(t, { tee: 'snp' }), ParseError, 'ERR_INITDATA_MALFORMED');
    await expectCode(initdataDigest(Uint8Array.of(0x61, 0xff), { tee: 'snp' }), ParseError, 'ERR_INITDATA_MALFORMED');
    expectCodeSync(() => parseInitdataHeader(''), ParseError, 'ERR_INITDATA_MALFORMED');
  });
});

describe('checkInitdata', () => {
  it('accepts the register Kata sets and refuses any other (ERR_INITDATA_MISMATCH)', async () => {
    const t = doc('sha256');
    const hostData = Buffer.from(reference('sha256', t, 32), 'hex');
    expect((await checkInitdata(new Uint8Array(hostData), t, { tee: 'snp' })).algorithm).toBe('sha256');
    await expectCode(checkInitdata(new Uint8Array(hostData), `${t}# changed\n`, { tee: 'snp' }), VerificationError, 'ERR_INITDATA_MISMATCH');
    const padded = new Uint8Array(48);
    padded.set(hostData);
    expect((await checkInitdata(padded, t, { tee: 'tdx' })).register).toEqual(padded);
    padded[40] = 1; // the padding must be zero
    await expectCode(checkInitdata(padded, t, { tee: 'tdx' }), VerificationError, 'ERR_INITDATA_MISMATCH');
  });
});
