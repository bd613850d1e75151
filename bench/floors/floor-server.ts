import { createServer, type ServerResponse } from 'node:http';
import Database from 'better-sqlite3';
import { prepareTable, type TableStatements } from '../../src/store/sqlite/statements.js';
import { D0, ENTITY_TABLES } from '../seed.js';

/**
 * The floor of the single and batch reads on SQLite (decision records 6 and 7, round 8 / round
 * 4): `node:http` and a read-only better-sqlite3 connection with the store's page cache and the
 * store's own statements (`prepareTable`: `get` for one key, `getValuesText` for a batch), and
 * nothing else — no validation, no records, no metrics. Answers the bench's requests (bench/wrk.ts
 * scripts of bench/scenarios.ts) with responses of the service's shape and size:
 * - `GET /api/v1/get/item/<value>/<category>`: the row's columns spliced into JSON;
 * - `POST /api/v1/get/items/batch`: the body's `entity_values` array passed as it is to
 *   `getValuesText` for `d0_unauth_features`, each stored text spliced (the bench's `one`
 *   selection).
 * What the service spends above this is its own; what this spends is the machine's and SQLite's.
 *
 * Environment: FLOOR_PORT, FLOOR_DB (a seeded file; opened read-only), CACHE_KIB (32768, the
 * store's), MMAP_BYTES (0). Run from source: `node --import tsx bench/floors/floor-server.ts`.
 */
const TABLE = ENTITY_TABLES.bright_uid;
const ITEM = '/api/v1/get/item/';

interface Options {
  db: string;
  cacheKib: number;
  mmapBytes: number;
}

function open(o: Options): TableStatements {
  const db = new Database(o.db, { readonly: true });
  db.pragma(`cache_size = -${o.cacheKib}`);
  if (o.mmapBytes > 0) db.pragma(`mmap_size = ${o.mmapBytes}`);
  return prepareTable(db, TABLE);
}

/** The batch's answer: each stored text (metadata, U+0001, data) spliced, null where absent. */
function batchText(s: TableStatements, valuesJson: string): string {
  const texts = s.getValuesText.all(valuesJson, D0);
  let out = '{"data":[';
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i];
    if (i > 0) out += ',';
    if (typeof t !== 'string') {
      out += 'null';
      continue;
    }
    const k = t.indexOf('\x01');
    out += '{"features":' + t.slice(k + 1) + ',"meta":' + t.slice(0, k) + '}';
  }
  return out + ']}';
}

function send(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const env = process.env;
const s = open({ db: env.FLOOR_DB ?? '', cacheKib: Number(env.CACHE_KIB ?? 32768), mmapBytes: Number(env.MMAP_BYTES ?? 0) });
const server = createServer((req, res) => {
  const url = req.url ?? '';
  if (req.method === 'GET') {
    const k = url.indexOf('/', ITEM.length);
    const row = s.get.get(url.slice(ITEM.length, k), url.slice(k + 1));
    if (row === undefined) {
      res.writeHead(404).end();
      return;
    }
    const [data, createdAt, updatedAt, computeId] = row;
    send(res, `{"data":{"features":${data},"meta":{"created_at":"${createdAt}","updated_at":"${updatedAt}","compute_id":"${String(computeId)}"}}}`);
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    const i = body.indexOf('"entity_values":') + '"entity_values":'.length;
    const valuesJson = body.slice(i, body.indexOf(']', i) + 1);
    send(res, batchText(s, valuesJson));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(env.FLOOR_PORT), '127.0.0.1', () => process.stdout.write(`floor server on 127.0.0.1:${env.FLOOR_PORT}\n`));
process.on('SIGTERM', () => process.exit(0));
