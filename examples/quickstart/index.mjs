// ccinfer quickstart: verify a confidential inference pod, then chat with it end-to-end encrypted.
//
//   CCINFER_ENDPOINT=https://pod.example CCINFER_POLICY=policy.json node index.mjs
//                                                            a real pod, appraised against the pinned vendor roots and
//                                                            your policy (`ccinfer policy init` pins what a pod shows)
//   node index.mjs                                           starts a simulated pod on 127.0.0.1 first
//
// Nothing but a fresh nonce is sent to the pod until its hardware evidence has been appraised.
import { createSecureClient, parsePolicy } from '@ccinfer/node';
import { createGateway } from '@ccinfer/node/gateway';
import { createSimulatedProvider, startModelServer } from '@ccinfer/node/simulator';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export async function main({ endpoint = process.env.CCINFER_ENDPOINT, log = console.log } = {}) {
  let pod;
  let anchors; // undefined = the pinned AMD / Intel / NVIDIA roots
  // The policy pins the software the pod must run (launch measurement and initdata digest); without both the
  // client refuses (ERR_POLICY_UNPINNED).
  let policy = process.env.CCINFER_POLICY ? parsePolicy(JSON.parse(readFileSync(process.env.CCINFER_POLICY, 'utf8'))) : undefined;
  if (!endpoint) {
    // A stand-in pod: an OpenAI-compatible model behind the ccinfer gateway, with simulated SEV-SNP evidence
    // that only the simulator's own anchors accept.
    const model = await startModelServer();
    const evidence = await createSimulatedProvider();
    const gateway = await createGateway({ upstream: model.url, evidence });
    endpoint = (await gateway.listen(0, '127.0.0.1')).url;
    anchors = evidence.anchors;
    policy = await evidence.referencePolicy(); // what this stand-in pod runs
    pod = { close: async () => (await gateway.close(), await model.close()) };
  }
  try {
    const client = createSecureClient({ endpoint, anchors, policy });
    client.on('attested', ({ document }) => log(`attested: ${document.checks.filter((c) => c.ok).length} checks passed`));

    const document = await client.attest();
    log(`pod verified at ${document.verifiedAt} (${document.warnings.length} warning(s))`);

    const reply = await client.infer({ model: 'ccinfer-demo-1', messages: [{ role: 'user', content: 'Say hello.' }] });
    log(`reply: ${reply.choices[0].message.content}`);

    let streamed = '';
    for await (const event of await client.infer({ model: 'ccinfer-demo-1', stream: true, messages: [{ role: 'user', content: 'Stream it.' }] })) {
      streamed += event.choices[0]?.delta?.content ?? '';
    }
    log(`streamed: ${streamed}`);
    return { document, reply, streamed, evidence: client.exportEvidence() };
  } finally {
    await pod?.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
