/**
 * The append-only audit log: one JSON line per release, refusal, attestation and admin change, each with the
 * digest of the verification document that decided it. Entries are hash-chained (`prev` = SHA-256 of the
 * previous line), so removing or editing a line is evident to `verifyAuditChain`.
 */
import { appendFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';

export interface AuditEntry {
  seq: number;
  time: string;
  event: 'auth' | 'attest' | 'release' | 'refusal' | 'admin';
  session?: string | undefined;
  resource?: string | undefined;
  tee?: string | undefined;
  ok: boolean;
  /** ccinfer error code of a refusal. */
  code?: string | undefined;
  /** KBS problem type answered. */
  kbsError?: string | undefined;
  /** SHA-256 (hex) of the verification document behind the decision, when one was produced. */
  documentDigest?: string | undefined;
  detail?: string | undefined;
  prev: string;
}

export interface AuditSink {
  append(line: string): Promise<void>;
}

export class FileAuditSink implements AuditSink {
  constructor(private readonly path: string) {}
  async append(line: string): Promise<void> {
    await appendFile(this.path, line + '\n', { flag: 'a', mode: 0o600 });
  }
}

const GENESIS = '0'.repeat(64);

export class AuditLog {
  readonly entries: AuditEntry[] = [];
  private prev = GENESIS;
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly sink?: AuditSink) {}

  /** Appends in order (writes are serialized). */
  record(e: Omit<AuditEntry, 'seq' | 'time' | 'prev'>, now: Date): Promise<AuditEntry> {
    const entry: AuditEntry = { seq: this.entries.length, time: now.toISOString(), ...stripUndefined(e), prev: this.prev };
    const line = JSON.stringify(entry);
    this.prev = createHash('sha256').update(line).digest('hex');
    this.entries.push(entry);
    const write = this.chain.then(() => this.sink?.append(line));
    this.chain = write.catch(() => undefined);
    return write.then(() => entry);
  }
}

/** Checks a JSONL audit log's hash chain; returns the index of the first broken line, or -1. */
export function verifyAuditChain(text: string): number {
  let prev = GENESIS;
  const lines = text.split('\n').filter(Boolean);
  for (let i = 0; i < lines.length; i++) {
    const e = JSON.parse(lines[i]!) as AuditEntry;
    if (e.prev !== prev || e.seq !== i) return i;
    prev = createHash('sha256').update(lines[i]!).digest('hex');
  }
  return -1;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
