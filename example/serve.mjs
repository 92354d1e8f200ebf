// Serves the built example page on 127.0.0.1 (Web Serial and Web Bluetooth need https or localhost).
// `node example/serve.mjs [PORT]`; `serveExample(port)` from code (port 0: any free port).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLE_DIST } from './build.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
};

/** Resolves with the listening server and its URL; `root` is the folder served (the web app's build too). */
export function serveExample(port = 0, root = EXAMPLE_DIST) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    const found =
      file.startsWith(root + sep) &&
      (await stat(file).then(
        (s) => s.isFile(),
        () => false,
      ));
    if (!found) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`usage: node example/serve.mjs [PORT]  (bad port: ${process.argv[2]})`);
    process.exit(64);
  }
  const { url } = await serveExample(port).catch((err) => {
    console.error(`cannot listen on 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  });
  console.log(`example page on ${url} (Ctrl-C to stop)`);
}
