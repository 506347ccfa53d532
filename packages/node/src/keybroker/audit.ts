/**
 * The append-only audit log: one JSON line per release, refusal, attestation and admin change, each with the
 * digest of the verification document that decided it. Entries are hash-chained (`prev` = SHA-256 of the
 * previous line, `seq` = the line's index), and a log reopened after a restart continues the chain from the
 * file's last valid line, so `verifyAuditChain` holds across process lifetimes.
 *
 * What the chain proves, and what it does not: editing, reordering, inserting or removing a line INSIDE the log
 * breaks the chain at that line. Truncating the TAIL (dropping the last N lines, or the whole file) leaves a
 * valid shorter chain: there is no external anchor (signed checkpoint, remote witness) of the latest head. Ship
 * the log to append-only storage elsewhere when tail truncation matters.
 *
 * Writes are serialized; an entry is counted (seq, prev, the in-memory window) only once its sink accepted it,
 * and a failed write rejects `record` so callers can fail closed (the broker then releases nothing).
 */
import { appendFile, open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { TransportError } from '@ccinfer/core';
import { definedOnly } from '@ccinfer/core/internal';

export interface AuditEntry {
  seq: number;
  time: string;
  /** 'auth' is no longer written (bare challenges are unauthenticated and not audited); kept for old logs. */
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
  /**
   * The last complete lines already in the sink (oldest first), read when a log opens and after a failed write,
   * so the chain resumes where the stored log ends. Sinks without history omit it (the chain starts at genesis).
   */
  tail?(): Promise<string[]>;
}

/** How much of a file's end `FileAuditSink.tail` reads: far more than one entry. */
const TAIL_BYTES = 256 * 1024;

export class FileAuditSink implements AuditSink {
  /** The file ends inside a line (a torn write): the next append starts a fresh line. */
  private torn = false;
  constructor(private readonly path: string) {}

  async append(line: string): Promise<void> {
    await appendFile(this.path, (this.torn ? '\n' : '') + line + '\n', { flag: 'a', mode: 0o600 });
    this.torn = false;
  }

  async tail(): Promise<string[]> {
    let fh;
    try {
      fh = await open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - TAIL_BYTES);
      const buf = Buffer.alloc(size - start);
      if (buf.length) await fh.read(buf, 0, buf.length, start);
      const text = buf.toString('utf8');
      this.torn = text.length > 0 && !text.endsWith('\n');
      const lines = text.split('\n');
      lines.pop(); // '' after the final newline, or the torn fragment
      if (start > 0) lines.shift(); // the first line may begin before the window
      return lines;
    } finally {
      await fh.close();
    }
  }
}

const GENESIS = '0'.repeat(64);
const HEX64 = /^[0-9a-f]{64}$/;

const hashLine = (line: string): string => createHash('sha256').update(line).digest('hex');

export interface AuditLogOptions {
  /** How many recent entries `entries` keeps in memory (the admin GET /kbs/v0/audit serves them). Default 1000. */
  window?: number | undefined;
}

export class AuditLog {
  private readonly recent: AuditEntry[] = [];
  private readonly window: number;
  private seq = 0;
  private prev = GENESIS;
  /** Resolves once seq/prev continue the sink's stored chain; cleared after a failed write to re-read it. */
  private resumed: Promise<void> | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sink?: AuditSink,
    options: AuditLogOptions = {},
  ) {
    this.window = Math.max(1, options.window ?? 1000);
  }

  /** The most recent entries written (at most `window`), oldest first. */
  get entries(): readonly AuditEntry[] {
    return this.recent;
  }

  /** Continues the chain from the sink's last valid line (done on the first record if not called). */
  resume(): Promise<void> {
    this.resumed ??= this.loadTail().catch((cause) => {
      this.resumed = undefined;
      throw new TransportError('ERR_KBS_AUDIT_UNAVAILABLE', 'the audit log could not be read', { cause });
    });
    return this.resumed;
  }

  private async loadTail(): Promise<void> {
    const lines = (await this.sink?.tail?.()) ?? [];
    for (let i = lines.length - 1; i >= 0; i--) {
      const e = parseEntry(lines[i]!);
      if (!e) continue;
      this.seq = e.seq + 1;
      this.prev = hashLine(lines[i]!);
      return;
    }
  }

  /**
   * Appends in order (writes are serialized). Rejects with TransportError ERR_KBS_AUDIT_UNAVAILABLE when the
   * sink fails; the entry then takes no sequence number and the stored chain is re-read before the next write.
   */
  record(e: Omit<AuditEntry, 'seq' | 'time' | 'prev'>, now: Date): Promise<AuditEntry> {
    const write = this.chain.then(async () => {
      await this.resume();
      const entry: AuditEntry = { seq: this.seq, time: now.toISOString(), event: e.event, ...definedOnly(e), ok: e.ok, prev: this.prev };
      const line = JSON.stringify(entry);
      try {
        await this.sink?.append(line);
      } catch (cause) {
        this.resumed = undefined; // a partial write may have landed: continue from what the sink holds
        throw new TransportError('ERR_KBS_AUDIT_UNAVAILABLE', 'the audit entry could not be written', { cause });
      }
      this.seq++;
      this.prev = hashLine(line);
      this.recent.push(entry);
      if (this.recent.length > this.window) this.recent.splice(0, this.recent.length - this.window);
      return entry;
    });
    this.chain = write.catch(() => undefined);
    return write;
  }
}

function parseEntry(line: string): AuditEntry | undefined {
  try {
    const e = JSON.parse(line) as AuditEntry;
    return typeof e === 'object' && e !== null && Number.isSafeInteger(e.seq) && e.seq >= 0 && typeof e.prev === 'string' && HEX64.test(e.prev) ? e : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks a JSONL audit log's hash chain from its first line; returns the index of the first broken (or
 * unparseable) line, or -1. Detects edits and removals inside the log, not truncation of its tail.
 */
export function verifyAuditChain(text: string): number {
  let prev = GENESIS;
  const lines = text.split('\n').filter(Boolean);
  for (let i = 0; i < lines.length; i++) {
    const e = parseEntry(lines[i]!);
    if (!e || e.prev !== prev || e.seq !== i) return i;
    prev = hashLine(lines[i]!);
  }
  return -1;
}

