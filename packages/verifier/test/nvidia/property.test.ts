/**
 * Property tests: the SPDM / opaque-data, RIM (XML) and OCSP parsers only ever throw CcinferErrors on
 * truncated, bit-flipped or random input, never hang, and round-trip what the simulator encodes.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CcinferError, randomBytes, toHex, utf8 } from '@ccinfer/core';
import { parseOpaqueData, parseReport } from '../../src/nvidia/parse.js';
import { parseOcspResponse } from '../../src/nvidia/ocsp.js';
import { parseRim } from '../../src/nvidia/rim.js';
import { canonicalize, parseXml } from '../../src/nvidia/rim-xml.js';
import { createSimulatedNvidia, gpuOpaque, mintDevice, mintOcspResponse, mintRim, mintSpdmReport, rimMeasurementsFrom, type SimulatedNvidia } from '../../src/testing/nvidia.js';

let sim: SimulatedNvidia;
let report: Uint8Array;
let rim: string;
let ocsp: Uint8Array;

beforeAll(async () => {
  sim = await createSimulatedNvidia();
  const dev = await mintDevice(sim);
  report = await mintSpdmReport({ nonce: randomBytes(32), opaque: gpuOpaque(), signer: dev.leafKey });
  rim = await mintRim(sim, { version: '1.0', measurements: rimMeasurementsFrom([], [0, 1], 4) });
  ocsp = await mintOcspResponse(sim, { cert: dev.certs[1]!, issuer: dev.certs[2]!, thisUpdate: new Date('2026-01-01'), nextUpdate: new Date('2026-02-01'), signer: sim.provisioner.key, nonce: randomBytes(32) });
});

/** Runs `f`; passes when it returns or throws a CcinferError. */
function onlyTyped(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof CcinferError) return true;
    throw e;
  }
}

async function onlyTypedAsync(f: () => Promise<unknown>): Promise<boolean> {
  try {
    await f();
    return true;
  } catch (e) {
    if (e instanceof CcinferError) return true;
    throw e;
  }
}

const mutate = (base: () => Uint8Array) =>
  fc.oneof(
    fc.nat().map((n) => base().subarray(0, n % (base().length + 1))),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, m]) => {
      const b = base().slice();
      b[i % b.length]! ^= m;
      return b;
    }),
    fc.uint8Array({ maxLength: 5000 }),
  );

describe('SPDM report and opaque data parser', () => {
  it('round-trips the simulator encoding', () => {
    const r = parseReport(report);
    expect(r.response.blocks.length).toBe(64);
    expect(r.response.opaque.driverVersion).toBe('550.90.07');
    expect(r.signedBytes.length).toBe(report.length - 96);
  });

  it('truncated / bit-flipped / random reports only throw CcinferErrors', () => {
    fc.assert(fc.property(mutate(() => report), (b) => onlyTyped(() => parseReport(b))), { numRuns: 500 });
    fc.assert(fc.property(mutate(() => report), (b) => onlyTyped(() => parseReport(b, 'switch'))), { numRuns: 200 });
  });

  it('arbitrary TLV lists parse or fail typed; well-formed unknown types are kept', () => {
    const tlv = fc.record({ type: fc.integer({ min: 0, max: 0xffff }), value: fc.uint8Array({ maxLength: 64 }) });
    fc.assert(
      fc.property(fc.uniqueArray(tlv, { selector: (t) => t.type, maxLength: 12 }), (fields) => {
        const bytes = new Uint8Array(fields.flatMap((f) => [f.type & 0xff, f.type >> 8, f.value.length & 0xff, f.value.length >> 8, ...f.value]));
        return onlyTyped(() => {
          const o = parseOpaqueData(bytes);
          expect(o.fields.map((f) => [f.type, toHex(f.value)])).toEqual(fields.map((f) => [f.type, toHex(f.value)]));
        });
      }),
      { numRuns: 300 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyTyped(() => parseOpaqueData(b))), { numRuns: 300 });
  });
});

describe('RIM / XML parser', () => {
  it('parses and re-canonicalizes the simulator RIM', async () => {
    const r = await parseRim(rim);
    expect(r.measurements.filter((m) => m.active).map((m) => m.index)).toEqual([0, 1]);
    // Canonical form is a fixed point.
    const c = canonicalize(parseXml(rim, 'ERR_NV_RIM_MALFORMED'));
    expect(canonicalize(parseXml(c, 'ERR_NV_RIM_MALFORMED'))).toBe(c);
  });

  it('truncated / character-flipped / random documents only throw CcinferErrors', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.nat().map((n) => rim.slice(0, n % rim.length)),
          fc.tuple(fc.nat(), fc.constantFrom('<', '>', '"', '&', '/', 'x', ' ', '=', "'", ':', '\u0000')).map(([i, c]) => rim.slice(0, i % rim.length) + c + rim.slice((i % rim.length) + 1)),
          fc.string({ maxLength: 300 }),
        ),
        (s) => onlyTypedAsync(() => parseRim(s)),
      ),
      { numRuns: 300 },
    );
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), (b) => onlyTypedAsync(() => parseRim(b))), { numRuns: 100 });
  });

  it('deep nesting and huge documents are refused, not recursed into', () => {
    expect(() => parseXml('<a>'.repeat(10_000) + '</a>'.repeat(10_000), 'ERR_NV_RIM_MALFORMED')).toThrow(CcinferError);
    expect(() => parseXml(`<a>${'x'.repeat(5 * 1024 * 1024)}</a>`, 'ERR_NV_RIM_MALFORMED')).toThrow(CcinferError);
    expect(() => parseXml('<a b="1" b="2"/>', 'ERR_NV_RIM_MALFORMED')).toThrow(CcinferError);
    expect(() => parseXml('<p:a/>', 'ERR_NV_RIM_MALFORMED')).toThrow(CcinferError);
    expect(() => parseXml('<a>&ext;</a>', 'ERR_NV_RIM_MALFORMED')).toThrow(CcinferError);
    expect(canonicalize(parseXml('<a  z="&#x9;" b=\'x"\'><!-- c --><e/>&lt;&#13;</a>', 'ERR_NV_RIM_MALFORMED'))).toBe('<a b="x&quot;" z="&#x9;"><e></e>&lt;&#xD;</a>');
    void utf8;
  });
});

describe('OCSP response parser', () => {
  it('round-trips the simulator encoding', () => {
    const r = parseOcspResponse(ocsp);
    expect(r.responseStatus).toBe(0);
    expect(r.basic!.responses[0]!.certStatus.status).toBe('good');
    expect(r.basic!.nonce!.length).toBe(32);
  });

  it('truncated / bit-flipped / random responses only throw CcinferErrors', () => {
    fc.assert(fc.property(mutate(() => ocsp), (b) => onlyTyped(() => parseOcspResponse(b))), { numRuns: 500 });
  });
});
