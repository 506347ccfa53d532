/** The app inside the simulated pod for the browser suites: `/v1/files` takes an upload and answers its size
 *  and SHA-256 (what arrived after decryption); `/v1/uploads` is OpenAI's Uploads API (create, parts as
 *  multipart `data`, complete; the completed file's size and SHA-256 answer it); everything else goes to the
 *  demo model server. */
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PodApp {
  url: string;
  uploads: { bytes: number; sha256: string; type: string }[];
  /** Parts received through the Uploads API, by size. */
  parts: number[];
  close(): void;
}

export async function startPodApp(modelUrl: string): Promise<PodApp> {
  const uploads: PodApp['uploads'] = [];
  const parts: number[] = [];
  const pending = new Map<string, { meta: { bytes: number; mime_type: string }; parts: Map<string, Buffer> }>();
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const m = /^\/v1\/uploads(?:\/([\w-]+)\/(parts|complete|cancel))?$/.exec(req.url ?? '');
    if (m && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const [, id, step] = m;
        if (!id) {
          const meta = JSON.parse(body.toString()) as { bytes: number; mime_type: string };
          const uid = `upload_${pending.size + uploads.length + 1}`;
          pending.set(uid, { meta, parts: new Map() });
          return json(res, 200, { id: uid, object: 'upload', status: 'pending', ...meta });
        }
        const up = pending.get(id);
        if (!up) return json(res, 404, { error: { message: 'no such upload' } });
        if (step === 'parts') {
          const boundary = /boundary=([^;]+)/.exec(req.headers['content-type'] ?? '')?.[1];
          const start = body.indexOf('\r\n\r\n') + 4;
          const end = body.lastIndexOf(`\r\n--${boundary}--`);
          if (!boundary || start < 4 || end < start) return json(res, 400, { error: { message: 'not multipart' } });
          const pid = `part_${up.parts.size + 1}`;
          up.parts.set(pid, body.subarray(start, end));
          parts.push(end - start);
          return json(res, 200, { id: pid, object: 'upload.part', upload_id: id });
        }
        pending.delete(id);
        if (step === 'cancel') return json(res, 200, { id, object: 'upload', status: 'cancelled' });
        const ids = (JSON.parse(body.toString()) as { part_ids: string[] }).part_ids;
        const file = Buffer.concat(ids.map((p) => up.parts.get(p)!));
        const rec = { bytes: file.length, sha256: createHash('sha256').update(file).digest('hex'), type: up.meta.mime_type };
        uploads.push(rec);
        json(res, 200, { id, object: 'upload', status: file.length === up.meta.bytes ? 'completed' : 'incomplete', file: { object: 'file', ...rec } });
      });
      return;
    }
    if (req.url === '/v1/files') {
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        h.update(c);
        n += c.length;
      });
      req.on('end', () => {
        const rec = { bytes: n, sha256: h.digest('hex'), type: req.headers['content-type'] ?? '' };
        uploads.push(rec);
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify(rec));
      });
      return;
    }
    const up = httpRequest(new URL(req.url!, modelUrl), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    uploads,
    parts,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
