/**
 * Where resources live: `<repository>/<type>/<tag>` (the KBS resource path). A directory store keeps each at
 * DIR/<repository>/<type>/<tag>; any other backend implements `ResourceStore`.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ParseError } from '@ccinfer/core';

export interface ResourceId {
  repository: string;
  type: string;
  tag: string;
}

export interface ResourceStore {
  get(id: ResourceId): Promise<Uint8Array | undefined>;
  put(id: ResourceId, data: Uint8Array): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Validates the three path segments (no traversal, no separators, bounded). */
export function resourceId(repository: string, type: string, tag: string): ResourceId {
  for (const s of [repository, type, tag]) {
    if (!SEGMENT.test(s)) throw new ParseError('ERR_KBS_PATH_INVALID', `resource path segment ${JSON.stringify(s)} is not a safe name`);
  }
  return { repository, type, tag };
}

export function resourceName(id: ResourceId): string {
  return `${id.repository}/${id.type}/${id.tag}`;
}

export class MemoryResourceStore implements ResourceStore {
  private readonly map = new Map<string, Uint8Array>();
  async get(id: ResourceId): Promise<Uint8Array | undefined> {
    return this.map.get(resourceName(id))?.slice();
  }
  async put(id: ResourceId, data: Uint8Array): Promise<void> {
    this.map.set(resourceName(id), data.slice());
  }
}

export class DirectoryResourceStore implements ResourceStore {
  constructor(private readonly dir: string) {}
  async get(id: ResourceId): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(join(this.dir, id.repository, id.type, id.tag)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw err;
    }
  }
  async put(id: ResourceId, data: Uint8Array): Promise<void> {
    const d = join(this.dir, id.repository, id.type);
    await mkdir(d, { recursive: true, mode: 0o700 });
    // An unpredictable temp name created exclusively ('wx'): two concurrent puts of one tag never share a temp
    // file, and a pre-planted file or symlink at that name makes the put fail instead of being written through.
    const tmp = join(d, `.${id.tag}.${randomBytes(12).toString('hex')}.tmp`);
    await writeFile(tmp, data, { mode: 0o600, flag: 'wx' });
    try {
      await rename(tmp, join(d, id.tag));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}
