/**
 * CCEL (Confidential Computing Event Log, ACPI table "CCEL", UEFI 2.10 §38.4) parsing and RTMR replay.
 *
 * The log is a TCG crypto-agile event log (TCG PC Client Platform Firmware Profile §10.2): a legacy
 * TCG_PCR_EVENT carrying the "Spec ID Event03" header, then TCG_PCR_EVENT2 records. For TDX the "PCR index"
 * is the CC measurement register index: 0 = MRTD, 1..4 = RTMR0..3 (UEFI 2.10 §38.4.1). Each RTMR starts at
 * 48 zero bytes and is extended as RTMR = SHA-384(RTMR ‖ digest). The log area is padded with 0xFF (or 0x00)
 * after the last event.
 */
import { ParseError, VerificationError, concat, equalBytes, sha384, toHex } from '@ccinfer/core';
import { ByteReader } from '@ccinfer/core/internal';

const T = 'ERR_TDX_EVENTLOG_MALFORMED';
const EV_NO_ACTION = 3;
const TPM_ALG_SHA384 = 0x000c;

export interface CcelEvent {
  /** CC MR index: 1..4 = RTMR0..3. */
  mrIndex: number;
  eventType: number;
  /** SHA-384 digest extended into the RTMR. */
  digest: Uint8Array;
  data: Uint8Array;
}

function allPadding(b: Uint8Array): boolean {
  return b.every((x) => x === 0xff) || b.every((x) => x === 0);
}

/** Parses a CCEL log area into its TCG_PCR_EVENT2 records (the Spec ID header is checked, not returned). */
export function parseCcel(log: Uint8Array): CcelEvent[] {
  const r = new ByteReader(log, T);
  // TCG_PCR_EVENT with the Spec ID Event03 (TCG PFP §10.4.5.1).
  r.u32le('pcrIndex');
  if (r.u32le('eventType') !== EV_NO_ACTION) throw new ParseError(T, 'first event is not the Spec ID event', { offset: 4 });
  r.skip(20, 'SHA-1 digest');
  const specSize = r.u32le('eventSize');
  const spec = new ByteReader(r.bytesView(specSize, 'Spec ID event'), T);
  const sig = spec.bytesView(16, 'signature');
  if (String.fromCharCode(...sig) !== 'Spec ID Event03\0') throw new ParseError(T, 'Spec ID event signature is not "Spec ID Event03"', { offset: 32 });
  spec.skip(8, 'platformClass, version, errata, uintnSize');
  const n = spec.u32le('numberOfAlgorithms');
  if (n === 0 || n > 16) throw new ParseError(T, `Spec ID event lists ${n} algorithms`);
  const sizes = new Map<number, number>();
  for (let i = 0; i < n; i++) sizes.set(spec.u16le('algorithmId'), spec.u16le('digestSize'));
  if (sizes.get(TPM_ALG_SHA384) !== 48) throw new ParseError(T, 'event log does not carry SHA-384 digests');

  const events: CcelEvent[] = [];
  while (r.remaining >= 8) {
    const start = r.offset;
    const rest = log.subarray(start);
    if (allPadding(rest.subarray(0, 8)) && allPadding(rest)) break;
    const mrIndex = r.u32le('mrIndex');
    const eventType = r.u32le('eventType');
    if (mrIndex === 0xffffffff || eventType === 0xffffffff) break;
    const count = r.u32le('digestCount');
    if (count === 0 || count > 16) throw new ParseError(T, `event at ${start} has ${count} digests`, { offset: start });
    let digest: Uint8Array | undefined;
    for (let i = 0; i < count; i++) {
      const alg = r.u16le('hashAlg');
      const size = sizes.get(alg);
      if (size === undefined) throw new ParseError(T, `event at ${start} uses algorithm 0x${alg.toString(16)} not in the Spec ID event`, { offset: start });
      const d = r.bytesView(size, 'digest');
      if (alg === TPM_ALG_SHA384) digest = d;
    }
    const data = r.bytesView(r.u32le('eventSize'), 'event data');
    if (!digest) throw new ParseError(T, `event at ${start} has no SHA-384 digest`, { offset: start });
    events.push({ mrIndex, eventType, digest, data });
  }
  return events;
}

/** Replays the events into RTMR0..3. EV_NO_ACTION events are not extended (TCG PFP §10.4.5). */
export async function replayRtmrs(events: readonly CcelEvent[]): Promise<Uint8Array[]> {
  const rtmrs: Uint8Array[] = [0, 1, 2, 3].map(() => new Uint8Array(48));
  for (const e of events) {
    if (e.eventType === EV_NO_ACTION || e.mrIndex < 1 || e.mrIndex > 4) continue;
    rtmrs[e.mrIndex - 1] = await sha384(concat(rtmrs[e.mrIndex - 1]!, e.digest));
  }
  return rtmrs;
}

/** Replays the log and requires it to reach the quote's RTMR0..3 exactly. */
export async function verifyEventLog(log: Uint8Array, rtmrs: readonly Uint8Array[]): Promise<CcelEvent[]> {
  const events = parseCcel(log);
  const replayed = await replayRtmrs(events);
  for (let i = 0; i < 4; i++) {
    if (!equalBytes(replayed[i]!, rtmrs[i]!)) {
      throw new VerificationError('ERR_TDX_EVENTLOG_MISMATCH', `event log replays RTMR${i} to ${toHex(replayed[i]!)}, the quote has ${toHex(rtmrs[i]!)}`);
    }
  }
  return events;
}
