import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';

/**
 * The baseline: a bare `node:http` server, run as its own process by bench/run.ts. Every GET
 * and POST is answered with the same JSON document the service returns for a single-category
 * read (serialized per request, as a JSON API would); POST bodies are read and parsed first.
 *
 * Environment: BARE_PORT, BARE_BODY_FILE (JSON document to answer with).
 * It exits when its stdin closes, so it never outlives the harness.
 */
const port = Number(process.env.BARE_PORT);
const bodyFile = process.env.BARE_BODY_FILE;
if (!Number.isInteger(port) || port <= 0 || bodyFile === undefined) {
  process.stderr.write('bare-server: BARE_PORT and BARE_BODY_FILE are required\n');
  process.exit(2);
}
const document = JSON.parse(readFileSync(bodyFile, 'utf8')) as unknown;

function answer(res: ServerResponse, status = 200): void {
  const body = JSON.stringify(document);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    answer(res);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      answer(res);
    } catch {
      answer(res, 422);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`bare server listening on 127.0.0.1:${port}\n`));

process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
