import { parse, required } from '../args.js';
import { clientOptions, cliClient, endpointArg } from '../session.js';
import { EXIT, UsageError, type Command, type FlagTable } from '../types.js';

const usage = 'ccinfer infer URL --model M [--policy FILE] [--anchors FILE] [--timeout SECONDS] [--offline] [--cache-dir DIR | --no-cache] [--allow-unpinned] PROMPT';

const options = {
  ...clientOptions,
  model: { type: 'string', arg: 'M', help: 'the model name the pod serves (required)' },
} as const satisfies FlagTable;

export const inferCommand: Command = {
  name: 'infer',
  summary: 'attest a pod, then stream one chat completion end-to-end encrypted',
  usage,
  options,
  example: 'ccinfer infer http://127.0.0.1:8443 --anchors anchors.json --policy policy.json --model ccinfer-demo-1 "hello"',
  async run(args, io) {
    const { values, positionals } = parse(args, options, usage, 2);
    const endpoint = endpointArg(positionals[0], usage);
    const model = required(values.model, '--model', usage);
    const prompt = positionals[1];
    if (!prompt) throw new UsageError(`missing PROMPT\nusage: ${usage}`);
    const client = await cliClient(io, endpoint, values);
    client.on('rejected', (e) => {
      for (const c of e.document?.checks.filter((x) => x.status === 'failed') ?? []) io.stderr(`  FAIL  ${c.id} ${c.code}: ${c.detail ?? ''}\n`);
    });
    // Ctrl-C aborts the request (attest or stream): an AbortError, which the CLI reports as "interrupted" (130).
    const stream = (await client.infer({ model, stream: true, messages: [{ role: 'user', content: prompt }] }, { signal: io.signal })) as AsyncIterable<{
      choices?: { delta?: { content?: string } }[];
    }>;
    for await (const event of stream) io.stdout(event.choices?.[0]?.delta?.content ?? '');
    io.stdout('\n');
    return EXIT.ACCEPTED;
  },
};
