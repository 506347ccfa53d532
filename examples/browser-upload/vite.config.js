/**
 * Dev server for the example. The page talks to the pod same-origin: `/.well-known/ccinfer/*` is proxied to
 * CCINFER_POD (the gateway; default http://127.0.0.1:8443). For a simulated pod, CCINFER_ANCHORS names the
 * anchors file `ccinfer gateway --evidence simulated --anchors-out FILE` wrote; the page then accepts that
 * pod's simulated evidence (and says so). Without it the pinned AMD / Intel / NVIDIA roots are used.
 */
import { readFileSync } from 'node:fs';
import { defineConfig, defaultClientConditions } from 'vite';

const pod = process.env.CCINFER_POD ?? 'http://127.0.0.1:8443';
const anchorsFile = process.env.CCINFER_ANCHORS;

export default defineConfig({
  // Inside the ccinfer monorepo, workspace packages resolve to their TypeScript sources (no build needed).
  resolve: { conditions: ['source', ...defaultClientConditions] },
  server: { proxy: { '/.well-known/ccinfer': { target: pod, changeOrigin: true } } },
  plugins: [
    {
      name: 'simulated-anchors',
      configureServer(server) {
        server.middlewares.use('/anchors.json', (_req, res) => {
          if (!anchorsFile) {
            res.statusCode = 404;
            res.end();
            return;
          }
          res.setHeader('content-type', 'application/json');
          res.end(readFileSync(anchorsFile));
        });
      },
    },
  ],
});
