// The official `openai` package talking to a confidential pod through ccinfer: pass `client.fetch`, and every
// request goes end-to-end encrypted to the key the pod's hardware evidence is bound to.
//
//   CCINFER_ENDPOINT=https://pod.example CCINFER_POLICY=policy.json node index.mjs
//                                                            a real pod (pinned vendor roots, your policy)
//   node index.mjs                                           starts a simulated pod on 127.0.0.1 first
import OpenAI from 'openai';
import { createSecureClient, parsePolicy } from '@ccinfer/node';
import { createGateway } from '@ccinfer/node/gateway';
import { createSimulatedProvider, startModelServer } from '@ccinfer/node/simulator';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export async function main({ endpoint = process.env.CCINFER_ENDPOINT, log = console.log } = {}) {
  let pod;
  let anchors;
  let policy = process.env.CCINFER_POLICY ? parsePolicy(JSON.parse(readFileSync(process.env.CCINFER_POLICY, 'utf8'))) : undefined;
  if (!endpoint) {
    const model = await startModelServer();
    const evidence = await createSimulatedProvider();
    const gateway = await createGateway({ upstream: model.url, evidence });
    endpoint = (await gateway.listen(0, '127.0.0.1')).url;
    anchors = evidence.anchors;
    policy = await evidence.referencePolicy(); // what this stand-in pod runs
    pod = { close: async () => (await gateway.close(), await model.close()) };
  }
  try {
    const secure = createSecureClient({ endpoint, anchors, policy });
    const openai = new OpenAI({ baseURL: `${endpoint}/v1`, apiKey: process.env.OPENAI_API_KEY ?? 'not-needed', fetch: secure.fetch });

    const models = await openai.models.list();
    log(`models: ${models.data.map((m) => m.id).join(', ')}`);

    const completion = await openai.chat.completions.create({ model: 'ccinfer-demo-1', messages: [{ role: 'user', content: 'Hello from the OpenAI SDK' }] });
    log(`reply: ${completion.choices[0].message.content}`);

    let streamed = '';
    const stream = await openai.chat.completions.create({ model: 'ccinfer-demo-1', stream: true, messages: [{ role: 'user', content: 'Stream, please' }] });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
    log(`streamed: ${streamed}`);
    return { models: models.data.map((m) => m.id), reply: completion.choices[0].message.content, streamed, verified: secure.exportEvidence()?.document.ok };
  } finally {
    await pod?.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
