/** Runs examples/quickstart and examples/openai (each against its own simulated pod on 127.0.0.1). */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { demoReply } from '../../src/demo/model-server.js';

const root = join(import.meta.dirname, '../../../../examples');
type Main = (o: { log: (s: string) => void }) => Promise<Record<string, any>>;
const load = async (name: string): Promise<Main> => ((await import(pathToFileURL(join(root, name, 'index.mjs')).href)) as { main: Main }).main;

describe('examples', () => {
  it('quickstart: attests, then a JSON and a streamed reply', async () => {
    const lines: string[] = [];
    const r = await (await load('quickstart'))({ log: (s) => lines.push(s) });
    expect(r['document'].ok).toBe(true);
    expect(r['reply'].choices[0].message.content).toBe(demoReply('Say hello.'));
    expect(r['streamed']).toBe(demoReply('Stream it.'));
    expect(r['evidence'].bundle.length).toBeGreaterThan(1184);
    expect(lines.some((l) => l.startsWith('attested:'))).toBe(true);
  });

  it('openai: the official SDK with client.fetch, JSON and streaming', async () => {
    const r = await (await load('openai'))({ log: () => undefined });
    expect(r['models']).toEqual(['ccinfer-demo-1']);
    expect(r['reply']).toBe(demoReply('Hello from the OpenAI SDK'));
    expect(r['streamed']).toBe(demoReply('Stream, please'));
    expect(r['verified']).toBe(true);
  });
});
