/**
 * The cost of record versions (docs/decisions/2-versions.md), measured:
 *
 *   npm run bench:versions
 *
 * SQLite: N records written 4 times each (so that 3 earlier versions exist), with
 * VERSIONS_KEPT=0 and =3, in separate files: bytes per record (pages in use × page size, and
 * per table through the `dbstat` virtual table) and the write time per write (through the store
 * port, 100 concurrent writes per group commit, `SQLITE_SYNCHRONOUS=normal` so that fsync does
 * not hide the difference).
 *
 * DynamoDB: the versions item of a record at steady state (VERSIONS_KEPT + 1 slots), sized with
 * item-size.ts (DynamoDB's rule), and the write capacity of one API write with and without
 * versions: 1 WCU per started KB of the larger of the old and new item, twice that for an action
 * of a TransactWriteItems (DynamoDB's documented pricing; no emulator here reports it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FeatureMap } from '../src/model.js';
import { itemSize } from '../src/store/dynamodb/item-size.js';
import { encodeData } from '../src/store/dynamodb/layout.js';
import { newRecordItem } from '../src/store/dynamodb/write-protocol.js';
import { versionsAction } from '../src/store/dynamodb/versions.js';
import { SqliteStore } from '../src/store/sqlite/records.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 2000);
const FEATURE_COUNTS = [10, 100];
const KEPT = [0, 3];
const ENTITY_TABLES = { bright_uid: 'user_feature_store' };

function features(n: number, round: number): FeatureMap {
  const out: FeatureMap = {};
  for (let i = 0; i < n; i++) out[`feature_${String(i).padStart(3, '0')}`] = 1000 + i * 0.125 + round;
  return out;
}

const now = (round: number, i: number): string => new Date(Date.UTC(2026, 11, 6, 10, round, 0, i % 1000)).toISOString();

async function sqlite(featureCount: number, kept: number): Promise<{ bytesPerRecord: number; tables: Record<string, number>; usPerWrite: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-versions-'));
  const path = join(dir, 'f.db');
  const store = await SqliteStore.open({ path, entityTables: ENTITY_TABLES, synchronous: 'normal' });
  let writes = 0;
  const start = process.hrtime.bigint();
  for (let round = 0; round < 4; round++) {
    for (let from = 0; from < RECORDS; from += 100) {
      const batch: Promise<unknown>[] = [];
      for (let i = from; i < Math.min(RECORDS, from + 100); i++) {
        batch.push(
          store.writeRecord({
            key: { entityType: 'bright_uid', entityValue: `user-${i}`, category: 'd0_unauth_features' },
            data: features(featureCount, round),
            computeId: `spark-job-${round}`,
            now: now(round, i),
            historySize: 10,
            versionsKept: kept,
          }),
        );
      }
      await Promise.all(batch);
      writes += batch.length;
    }
  }
  const usPerWrite = Number(process.hrtime.bigint() - start) / 1000 / writes;
  await store.close();
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = (db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number);
  const tables: Record<string, number> = {};
  for (const row of db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as { name: string; bytes: number }[]) {
    tables[row.name] = Math.round(row.bytes / RECORDS);
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { bytesPerRecord: Math.round((pages * pageSize) / RECORDS), tables, usPerWrite };
}

function dynamodb(featureCount: number, kept: number): { recordItem: number; versionsItem: number; wcuEventsOn: number; wcuEventsOff: number } {
  const key = { bright_uid: 'user-12345', category: 'd0_unauth_features' };
  const data = features(featureCount, 0);
  const input = { key: { entityType: 'bright_uid', entityValue: 'user-12345', category: 'd0_unauth_features' }, data, computeId: 'spark-job-2026-12-06-abc123', now: now(0, 0), historySize: 10 };
  const recordItem = itemSize(newRecordItem(key, input, encodeData(data))) + 10 * 80; // + 10 history entries
  const action = versionsAction('versions', input.key, kept, { data, computeId: input.computeId, now: input.now });
  const slot = action.ExpressionAttributeValues[':v'];
  const versionsItem = kept === 0 ? 0 : itemSize({ pk: 'bright_uid\u0000user-12345', sk: 'd0_unauth_features', ...Object.fromEntries(Array.from({ length: kept + 1 }, (_, i) => [`v${i}`, slot])) });
  const kb = (bytes: number): number => Math.ceil(bytes / 1024);
  const outboxAppend = 1; // an event entry: under 1 KB (docs/decisions/1-dynamodb-outbox.md)
  const versions = kept === 0 ? 0 : 2 * kb(versionsItem);
  return {
    recordItem,
    versionsItem,
    // Events on: record + outbox append in one transaction (each action twice), plus the versions update.
    wcuEventsOn: 2 * kb(recordItem) + 2 * outboxAppend + versions,
    // Events off: a plain UpdateItem, or, with versions, a transaction of record + versions.
    wcuEventsOff: kept === 0 ? kb(recordItem) : 2 * kb(recordItem) + versions,
  };
}

console.log(`SQLite, ${RECORDS} records × 4 writes each (history 10):`);
console.log('| features | VERSIONS_KEPT | bytes/record (file) | per table (bytes/record) | µs/write |');
console.log('|---|---|---|---|---|');
for (const n of FEATURE_COUNTS) {
  for (const kept of KEPT) {
    const r = await sqlite(n, kept);
    const tables = Object.entries(r.tables).filter(([, b]) => b > 0).map(([t, b]) => `${t} ${b}`).join(', ');
    console.log(`| ${n} | ${kept} | ${r.bytesPerRecord} | ${tables} | ${r.usPerWrite.toFixed(1)} |`);
  }
}
console.log('\nDynamoDB, per record and per API write:');
console.log('| features | VERSIONS_KEPT | record item (B) | versions item (B) | WCU/write, events on | WCU/write, events off |');
console.log('|---|---|---|---|---|---|');
for (const n of [10, 100, 400]) {
  for (const kept of KEPT) {
    const r = dynamodb(n, kept);
    console.log(`| ${n} | ${kept} | ${r.recordItem} | ${r.versionsItem} | ${r.wcuEventsOn} | ${r.wcuEventsOff} |`);
  }
}
