/**
 * The packed packages type-check in a user's project under every module resolution a TypeScript user picks:
 * `bundler`, `node16` and `nodenext`, from ESM (`.mts`) and, for the node modes, from CommonJS (`.cts`, which
 * resolves the `require` condition: the `.d.cts` declarations). No
 * `skipLibCheck`: our declarations are checked too (TS1479 on an ESM-only import from a `.d.cts`; `client.on`
 * missing when eventemitter3's default import is the module object). Sources: the README's TypeScript snippets,
 * the import declarations of the Node examples (plain JavaScript: what they import must exist, with types, in
 * every mode; their bodies are run by test/examples), and a consumer file using the main API. One `tsc` run per mode, offline: the tarballs are
 * installed with test-support/packed.ts.
 *
 * Needs the built packages (`dist`, made by `npm run setup` and in CI); without them this suite is skipped, loudly.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, built, installPacked, packAll } from '../../../../test-support/packed.js';

const ready = built();
if (!ready) console.warn('SKIPPED consumer type tests: the packages are not built (run `pnpm run build`)');

/** The main API, as a user writes it; `MODULE` becomes the module kind it is compiled as. */
const CONSUMER = `
import { createSecureClient, parsePolicy, CcinferError, type ChatCompletion, type ChatCompletionChunk, type SecureClient, type Jwk } from '@ccinfer/node';
import { AttestedOpenAI, AttestationRefusedError, createAttestedOpenAI, type AttestedOpenAIOptions } from '@ccinfer/node/openai';
import { PINNED_ANCHORS, type NrasAppraisalOptions } from '@ccinfer/verifier';
import { verifyTrusteeEar } from '@ccinfer/verifier/trustee';
import { createSecureClient as createBrowserClient } from '@ccinfer/browser';

export async function use(): Promise<string> {
  const client: SecureClient = createSecureClient({ endpoint: 'https://pod.example', policy: parsePolicy({ version: 1 }), anchors: PINNED_ANCHORS });
  client.on('attested', ({ document }) => console.log(document.ok));
  client.on('rejected', ({ error, document }) => console.log(error.code, document?.errors));
  const reply: ChatCompletion = await client.infer({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  let text = String(reply.choices[0]?.message.content ?? '');
  const stream: AsyncIterable<ChatCompletionChunk> = await client.infer({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  for await (const chunk of stream) text += String(chunk.choices[0]?.delta.content ?? '');
  const options: AttestedOpenAIOptions = { endpoint: 'https://pod.example', timeout: 60_000, maxRetries: 1, logLevel: 'info', logger: console };
  const openai: AttestedOpenAI = createAttestedOpenAI(options);
  try {
    const c = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    text += c.choices[0]?.message.content ?? '';
  } catch (e) {
    if (e instanceof AttestationRefusedError) text += e.document.errors.map((x) => x.code).join();
    else if (e instanceof CcinferError) text += e.code;
  }
  const jwks: NrasAppraisalOptions['jwks'] = { keys: [{ kty: 'EC', crv: 'P-384', x: 'x', y: 'y' } satisfies Jwk] };
  const ear = await verifyTrusteeEar('token', { jwks, expectedNonce: 'n', now: new Date() });
  text += String(ear.payload?.iss);
  const browser = createBrowserClient({ endpoint: 'https://pod.example' });
  browser.on('attested', () => undefined);
  return text + openai.secureClient.exportEvidence()?.attestedAt;
}
`;

/** Every `import … from '@ccinfer/…'` of the Node examples, each name used once so that it must resolve. */
function exampleImports(): string {
  const lines: string[] = [];
  let n = 0;
  for (const ex of ['quickstart', 'openai', 'weight-gate']) {
    const src = readFileSync(join(REPO, 'examples', ex, 'index.mjs'), 'utf8');
    for (const m of src.matchAll(/^import \{([^}]+)\} from '(@ccinfer\/[^']+)';$/gm)) {
      const names = m[1]!.split(',').map((x) => x.trim()).filter(Boolean);
      lines.push(`import { ${names.map((x) => `${x} as x${n}_${x}`).join(', ')} } from '${m[2]}';`, `console.log(${names.map((x) => `x${n}_${x}`).join(', ')});`);
      n++;
    }
  }
  expect(n).toBeGreaterThanOrEqual(4);
  return `${lines.join('\n')}\nexport {};\n`;
}

/** The README's \`\`\`ts blocks, each a module, with declarations for what the prose leaves out. */
function readmeSnippets(): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  const prelude = `import type { ChatMessage, Policy } from '@ccinfer/node';\n` +
    `declare const messages: ChatMessage[];\ndeclare const endpoint: string;\ndeclare const policy: Policy;\ndeclare const file: Blob;\ndeclare function show(s: string): void;\n`;
  return blocks.map((b) => `${prelude}${b}\nexport {};\n`);
}

const MODES = [
  { mode: 'bundler', module: 'esnext', moduleResolution: 'bundler', cjs: false },
  { mode: 'node16', module: 'node16', moduleResolution: 'node16', cjs: true },
  { mode: 'nodenext', module: 'nodenext', moduleResolution: 'nodenext', cjs: true },
] as const;

describe.skipIf(!ready)('consumer type-check of the packed packages', () => {
  const project = ready
    ? installPacked(packAll(), { openai: 'packages/node/node_modules/openai', '@types/node': 'node_modules/@types/node', typescript: 'node_modules/typescript' })
    : '';
  if (ready) {
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    writeFileSync(join(project, 'consumer.mts'), CONSUMER);
    // The same code from CommonJS: the imports compile to require() and resolve the packages' `require` condition.
    writeFileSync(join(project, 'consumer.cts'), CONSUMER);
    readmeSnippets().forEach((s, i) => writeFileSync(join(project, `readme-${i}.mts`), s));
    writeFileSync(join(project, 'examples.mts'), exampleImports());
    writeFileSync(join(project, 'examples.cts'), exampleImports());
  }

  it.each(MODES)('$mode', ({ mode, module, moduleResolution, cjs }) => {
    const files = ['consumer.mts', 'examples.mts', ...readmeSnippets().map((_, i) => `readme-${i}.mts`)];
    if (cjs) files.push('consumer.cts', 'examples.cts');
    const tsconfig = {
      compilerOptions: {
        target: 'es2022', module, moduleResolution, lib: ['es2023', 'dom', 'dom.iterable'], types: ['node'],
        strict: true, noEmit: true, skipLibCheck: false, esModuleInterop: true,
      },
      files,
    };
    writeFileSync(join(project, `tsconfig.${mode}.json`), JSON.stringify(tsconfig, null, 2));
    let out = '';
    try {
      execFileSync(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', `tsconfig.${mode}.json`], { cwd: project, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out).toBe('');
  }, 300_000);
});
