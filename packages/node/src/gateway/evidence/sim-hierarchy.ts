/**
 * `--sim-hierarchy DIR`: the simulated vendor hierarchy kept in a directory, written by the first simulated pod
 * that finds none and loaded by every later one (restarts, replicas sharing a volume), so they all chain to the
 * same simulated AMD / Intel / NVIDIA roots — one set of simulated anchors accepts them all, as one set of
 * pinned roots accepts every real pod. The file holds the simulated vendors' private keys: it is created
 * owner-only, and it is simulation material, never a secret of a real pod.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@ccinfer/core';
import { loadSimulatedHierarchy, saveSimulatedHierarchy, simulatedPodMaterial, type SimulatedPodMaterial } from '@ccinfer/verifier/testing';

/** The file inside the directory. */
export const SIM_HIERARCHY_FILE = 'simulated-hierarchy.json';
/** A saved hierarchy is about 20 KB; a larger file is not one. */
const MAX_BYTES = 1024 * 1024;

/**
 * The hierarchy saved in `dir`, or a new one saved there first. Several pods starting at once agree on one:
 * each writes its own temporary file and links it into place, which succeeds for exactly one (link(2) fails
 * with EEXIST for the others), and the others load the winner's.
 */
export async function simulatedHierarchyIn(dir: string): Promise<{ material: SimulatedPodMaterial; created: boolean }> {
  const file = join(dir, SIM_HIERARCHY_FILE);
  const existing = await read(file);
  if (existing !== undefined) return { material: await parse(existing), created: false };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const material = await simulatedPodMaterial();
  const tmp = join(dir, `.${SIM_HIERARCHY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`);
  await writeFile(tmp, JSON.stringify(await saveSimulatedHierarchy(material)) + '\n', { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, file);
    return { material, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw stateError(`cannot write ${file}`, err);
    return { material: await parse((await read(file))!), created: false };
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function read(file: string): Promise<Uint8Array | undefined> {
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_BYTES) throw stateError(`${file} is larger than ${MAX_BYTES} bytes`);
    return bytes;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof ConfigError) throw err;
    throw stateError(`cannot read ${file}`, err);
  }
}

async function parse(bytes: Uint8Array): Promise<SimulatedPodMaterial> {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw stateError('the saved simulated hierarchy is not JSON', cause);
  }
  return loadSimulatedHierarchy(doc);
}

function stateError(message: string, cause?: unknown): ConfigError {
  return new ConfigError('ERR_SIMULATOR_STATE', message, cause === undefined ? {} : { cause });
}
