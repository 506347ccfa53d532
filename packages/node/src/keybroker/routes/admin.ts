/**
 * Admin routes (Bearer JWT, ../admin.ts): `POST /kbs/v0/resource/<r>/<t>/<tag>` stores a resource,
 * `POST` / `GET /kbs/v0/resource-policy` replaces / reads the resource policies (`{ "policy": base64(JSON) }`),
 * `GET /kbs/v0/audit` reads the audit log. Every change is logged before it is made.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ParseError, fromBase64, fromUtf8, toBase64, utf8 } from '@ccinfer/core';
import { parsePolicyJson } from '@ccinfer/verifier';
import type { BrokerContext } from '../context.js';
import { parseResourcePolicies } from '../policy.js';
import { readKbsBody, readKbsJson, send } from '../reply.js';
import { resourceId, resourceName } from '../store.js';

/** A resource policy document is a few policies; 1 MiB is far beyond any real one. */
const MAX_POLICY_BYTES = 1024 * 1024;

export async function admin(ctx: BrokerContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const who = await ctx.adminAuth(req.headers.authorization, path, ctx.now());
  const m = /^\/kbs\/v0\/resource\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (req.method === 'POST' && m) {
    const id = resourceId(m[1]!, m[2]!, m[3]!);
    const data = await readKbsBody(req, ctx.maxBodyBytes);
    // Logged before the change: a write the log cannot record is not made. (A failing put is logged next.)
    await ctx.audit.record({ event: 'admin', resource: resourceName(id), ok: true, detail: `resource stored by ${who.role}${who.subject ? ` (${who.subject})` : ''}` }, ctx.now());
    await ctx.store.put(id, data);
    send(res, 200, '', 'text/plain');
  } else if (path === '/kbs/v0/resource-policy' && req.method === 'POST') {
    const next = parseResourcePolicies(decodePolicyUpload(await readKbsJson(req, MAX_POLICY_BYTES)));
    await ctx.audit.record({ event: 'admin', ok: true, detail: `resource policy replaced by ${who.role} (${next.entries.length} entries)` }, ctx.now());
    ctx.policies = next;
    send(res, 200, '', 'text/plain');
  } else if (path === '/kbs/v0/resource-policy' && req.method === 'GET') {
    const doc = { version: 1, resources: Object.fromEntries(ctx.policies.entries.map((e) => [e.pattern, { policy: e.source }])) };
    send(res, 200, { policy: toBase64(utf8(JSON.stringify(doc))) });
  } else if (path === '/kbs/v0/audit' && req.method === 'GET') {
    send(res, 200, ctx.audit.entries.map((e) => JSON.stringify(e)).join('\n') + '\n', 'application/jsonl');
  } else {
    throw new ParseError('ERR_KBS_PATH_INVALID', `${req.method} ${path} is not an admin endpoint`);
  }
}

/** `{ "policy": base64(JSON) }` (Trustee's resource-policy upload) → the JSON document. */
function decodePolicyUpload(body: unknown): unknown {
  const policy = (body as { policy?: unknown } | null)?.policy;
  if (typeof policy !== 'string') throw new ParseError('ERR_KBS_REQUEST_MALFORMED', 'expected { "policy": base64(JSON) }');
  // Strict JSON: a repeated key anywhere is refused (ERR_POLICY_DUPLICATE_KEY), as for a policy file.
  return parsePolicyJson(fromUtf8(fromBase64(policy, 'ERR_KBS_REQUEST_MALFORMED'), 'ERR_KBS_REQUEST_MALFORMED'));
}
