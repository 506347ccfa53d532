/** The app inside the simulated pod for the browser suites: `/v1/files` takes an upload and answers its size
 *  and SHA-256 (what arrived after decryption); everything else goes to the demo model server. */
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PodApp {
  url: string;
  uploads: { bytes: number; sha256: string; type: string }[];
  close(): void;
}

export async function startPodApp(modelUrl: string): Promise<PodApp> {
  const uploads: PodApp['uploads'] = [];
  const server = createServer((req, res) => {
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
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
