/**
 * The SQLite store's writer thread. It owns the only connection that writes, so commits — and
 * with `synchronous = FULL` their fsync — never block the HTTP event loop; readers on the main
 * thread are never blocked by it either (WAL). Requests are handled one at a time, each in one
 * transaction: a `write` batch commits every record of the batch (and its outbox events)
 * together or not at all.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { migrate, openDatabase, quote } from './sqlite-schema.js';
import type { ClaimedRow, RowWrite, WriterInit, WriterRequest, WriterResponse, WriterResult } from './sqlite-writer-protocol.js';

const port = parentPort;
if (port === null) throw new Error('sqlite-writer must run as a worker thread');
const init = workerData as WriterInit;

function describe(err: unknown): { message: string; code: string | undefined; sqlite: boolean } {
  const sqlite = err instanceof Database.SqliteError;
  return { message: err instanceof Error ? err.message : String(err), code: sqlite ? err.code : undefined, sqlite };
}

function start(): (request: WriterRequest) => WriterResult {
  const db = openDatabase(init.path, init.synchronous);
  migrate(db, init.tables);
  const upserts = new Map<string, Statement<[string, string, string, string, string, string | null], { created_at: string }>>();
  for (const table of init.tables) {
    upserts.set(
      table,
      db.prepare(
        `INSERT INTO ${quote(table)} (entity_value, category, data, created_at, updated_at, compute_id)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (entity_value, category) DO UPDATE SET
           data = excluded.data, updated_at = excluded.updated_at, compute_id = excluded.compute_id
         RETURNING created_at`,
      ),
    );
  }
  const insertEvent = db.prepare<[string, string, string, string]>(
    'INSERT INTO outbox (event_id, msg_key, payload, created_at) VALUES (?, ?, ?, ?)',
  );
  const claim = db.prepare<[string, number, number, number], ClaimedRow>(
    `UPDATE outbox SET lease_owner = ?, lease_until = ?
     WHERE seq IN (SELECT seq FROM outbox WHERE lease_until <= ? ORDER BY seq LIMIT ?)
     RETURNING seq, event_id, msg_key, payload`,
  );
  // Ids travel as one JSON array parameter: one statement per batch, whatever its size.
  const complete = db.prepare<[string]>('DELETE FROM outbox WHERE event_id IN (SELECT value FROM json_each(?))');
  const release = db.prepare<[string]>(
    'UPDATE outbox SET lease_owner = NULL, lease_until = 0 WHERE event_id IN (SELECT value FROM json_each(?))',
  );

  const writeOne = (w: RowWrite): string => {
    const upsert = upserts.get(w.table);
    if (upsert === undefined) throw new Error(`unknown table ${w.table}`);
    const row = upsert.get(w.entityValue, w.category, w.data, w.now, w.now, w.computeId) as { created_at: string };
    if (w.event !== undefined) insertEvent.run(w.event.id, w.event.key, w.event.payload, w.event.createdAt);
    return row.created_at;
  };
  const writeBatch = db.transaction((writes: RowWrite[]) => writes.map(writeOne));

  /**
   * Lease bookkeeping commits without waiting for fsync even under `synchronous = FULL`: losing
   * one of these commits to a power cut can only make an event be published again (consumers
   * dedupe by `event_id`), never lose one; the WAL is sequential, so the next durable commit
   * makes the earlier ones durable too.
   */
  const relaxed = <T>(fn: () => T): T => {
    if (init.synchronous === 'normal') return fn();
    db.pragma('synchronous = NORMAL');
    try {
      return fn();
    } finally {
      db.pragma('synchronous = FULL');
    }
  };

  return (request) => {
    switch (request.op) {
      case 'write':
        return writeBatch(request.writes);
      case 'claim':
        return relaxed(() => claim.all(request.owner, request.leaseUntil, request.now, request.limit));
      case 'complete':
        relaxed(() => complete.run(request.ids));
        return null;
      case 'release':
        relaxed(() => release.run(request.ids));
        return null;
      case 'close':
        db.close();
        return null;
    }
  };
}

let handle: (request: WriterRequest) => WriterResult;
try {
  handle = start();
  port.postMessage({ id: -1, ok: true, result: 'ready' } satisfies WriterResponse);
} catch (err) {
  port.postMessage({ id: -1, ok: false, error: describe(err) } satisfies WriterResponse);
  process.exit(1);
}

port.on('message', (request: WriterRequest) => {
  let response: WriterResponse;
  try {
    response = { id: request.id, ok: true, result: handle(request) };
  } catch (err) {
    response = { id: request.id, ok: false, error: describe(err) };
  }
  port.postMessage(response);
  if (request.op === 'close') port.close();
});
