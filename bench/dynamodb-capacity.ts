/**
 * Write capacity per API write of the three DynamoDB outbox designs of
 * docs/decisions/1-dynamodb-outbox.md, measured on dynalite:
 *
 *   npm run bench:capacity
 *
 * Each design's item writes are sent as the project builds them (write-protocol.ts,
 * outbox-item.ts) with `ReturnConsumedCapacity: TOTAL`, and dynalite's answer is recorded.
 * dynalite charges what DynamoDB charges for a standard write (1 WCU per started KB of the
 * larger of the old and the new item). Two things no emulator here reports, and which are
 * therefore added from DynamoDB's documented pricing rules, in their own columns:
 * - a transaction's actions cost twice a standard write (dynalite has no transactions, moto
 *   reports 0.5 for every action whatever its size);
 * - a write that changes a GSI's key or projected attributes costs 1 WCU per started KB of the
 *   index entry (the outbox index entries are under 1 KB).
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { FeatureMap, OutboxEvent } from '../src/model.js';
import type { WriteRecordInput } from '../src/store/ports.js';
import { encodeData } from '../src/store/dynamodb/layout.js';
import { appendAction, pendingEvent } from '../src/store/dynamodb/outbox-item.js';
import { newRecordItem, recordUpdate } from '../src/store/dynamodb/write-protocol.js';

type DynaliteFactory = (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

const RECORDS = 'bench_capacity_records';
const OUTBOX = 'bench_capacity_outbox';
const ENTITY_TYPE = 'bright_uid';
const CATEGORY = 'd0_unauth_features';
/** Record sizes to measure: number of numeric features of the category. */
const FEATURE_COUNTS = [10, 100, 400];
/** Events already pending for the record while the broker is down (design a only grows). */
const PENDING_WHILE_DOWN = 20;

function features(n: number): FeatureMap {
  const out: FeatureMap = {};
  for (let i = 0; i < n; i++) out[`feature_${String(i).padStart(3, '0')}`] = 1000 + i * 0.125;
  return out;
}

function event(id: number, names: string[]): OutboxEvent {
  const eventId = `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`;
  return {
    id: eventId,
    key: `${ENTITY_TYPE}:user-1`,
    event: {
      event_id: eventId,
      event_type: 'feature_available',
      timestamp: '2026-12-06T10:00:00.000Z',
      entity_type: ENTITY_TYPE,
      entity_id: 'user-1',
      resource_type: 'feature',
      resource_name: CATEGORY,
      compute_id: 'spark-job-2026-12-06',
      event_time: null,
      features: names,
    },
  };
}

async function main(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const raw = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1' });
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  try {
    await raw.send(
      new CreateTableCommand({
        TableName: RECORDS,
        KeySchema: [
          { AttributeName: ENTITY_TYPE, KeyType: 'HASH' },
          { AttributeName: 'category', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: ENTITY_TYPE, AttributeType: 'S' },
          { AttributeName: 'category', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await raw.send(
      new CreateTableCommand({
        TableName: OUTBOX,
        KeySchema: [
          { AttributeName: 'entity_value', KeyType: 'HASH' },
          { AttributeName: 'record', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'entity_value', AttributeType: 'S' },
          { AttributeName: 'record', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );

    const rows: string[] = [];
    let seq = 0;
    for (const n of FEATURE_COUNTS) {
      const data = features(n);
      const names = Object.keys(data);
      const entityValue = `user-${n}`;
      const key = { [ENTITY_TYPE]: entityValue, category: CATEGORY };
      const input = (now: string): WriteRecordInput => ({
        key: { entityType: ENTITY_TYPE, entityValue, category: CATEGORY },
        data,
        computeId: 'spark-job-2026-12-06',
        now,
      });
      // The record exists (every write but a record's first).
      await doc.send(new PutCommand({ TableName: RECORDS, Item: newRecordItem(key, input('2026-12-06T09:00:00.000Z'), encodeData(data)) }));

      // (c) Streams: the record update alone.
      const plain = await doc.send(
        new UpdateCommand({ ...recordUpdate(RECORDS, key, input('2026-12-06T10:00:00.000Z'), encodeData(data)), ReturnConsumedCapacity: 'TOTAL' }),
      );
      const recordUnits = plain.ConsumedCapacity?.CapacityUnits ?? NaN;

      // (b) the two actions of the transaction, each measured as a standard write: the record
      // update, then the append to an outbox item with no pending events (broker up), and
      // again with PENDING_WHILE_DOWN events already waiting (broker down).
      const appendUnits = async (pendingBefore: number): Promise<number> => {
        const ev = pendingEvent(event(++seq, names), '2026-12-06T10:00:00.000Z', ENTITY_TYPE, `${entityValue}-${pendingBefore}`, CATEGORY);
        for (let i = 0; i < pendingBefore; i++) {
          const earlier = pendingEvent(event(++seq, names), '2026-12-06T09:59:00.000Z', ENTITY_TYPE, `${entityValue}-${pendingBefore}`, CATEGORY);
          await doc.send(new UpdateCommand(appendAction(OUTBOX, earlier)));
        }
        const res = await doc.send(new UpdateCommand({ ...appendAction(OUTBOX, ev), ReturnConsumedCapacity: 'TOTAL' }));
        return res.ConsumedCapacity?.CapacityUnits ?? NaN;
      };
      const appendUp = await appendUnits(0);
      const appendDown = await appendUnits(PENDING_WHILE_DOWN);

      // (a) in-item: the record update that also appends the event to the item's own list,
      // measured on an item without pending events and on one with PENDING_WHILE_DOWN.
      const inItemUnits = async (pendingBefore: number): Promise<number> => {
        const itemKey = { [ENTITY_TYPE]: `${entityValue}-initem-${pendingBefore}`, category: CATEGORY };
        const base = recordUpdate(RECORDS, itemKey, input('2026-12-06T10:00:00.000Z'), encodeData(data));
        await doc.send(new PutCommand({ TableName: RECORDS, Item: newRecordItem(itemKey, input('2026-12-06T09:00:00.000Z'), encodeData(data)) }));
        const stored = (): unknown => pendingEvent(event(++seq, names), '2026-12-06T10:00:00.000Z', ENTITY_TYPE, entityValue, CATEGORY).stored;
        const withAppend = (u: typeof base) => ({
          ...u,
          UpdateExpression: u.UpdateExpression.replace(/^SET /, 'SET #ob = list_append(if_not_exists(#ob, :empty), :ev), '),
          ExpressionAttributeNames: { ...u.ExpressionAttributeNames, '#ob': 'outbox_events' },
          ExpressionAttributeValues: { ...u.ExpressionAttributeValues, ':empty': [], ':ev': [stored()] },
        });
        for (let i = 0; i < pendingBefore; i++) await doc.send(new UpdateCommand(withAppend(base)));
        const res = await doc.send(new UpdateCommand({ ...withAppend(base), ReturnConsumedCapacity: 'TOTAL' }));
        return res.ConsumedCapacity?.CapacityUnits ?? NaN;
      };
      const inItemUp = await inItemUnits(0);
      const inItemDown = await inItemUnits(PENDING_WHILE_DOWN);

      // Index writes from the documented rules: (a) 1 when the item enters or leaves the sparse
      // outbox_pending index (once per batch of pending events, not per write while some wait);
      // (b) 1 per append (the index projects `count`, which every append changes).
      const inItem = `${fmt(inItemUp)} + 1 index = **${fmt(inItemUp + 1)}** / ${fmt(inItemDown)}`;
      const txUp = 2 * (recordUnits + appendUp);
      const txDown = 2 * (recordUnits + appendDown);
      const tx = `2 × (${fmt(recordUnits)} + ${fmt(appendUp)}) + 1 index = **${fmt(txUp + 1)}** / ${fmt(txDown + 1)}`;
      rows.push(`| ${n} features (${approxKb(data)}) | ${inItem} | ${tx} | **${fmt(recordUnits)}** |`);
    }
    console.log(`Write capacity units per API write to an existing record (dynalite-measured item writes;`);
    console.log(`transaction doubling and index writes added by DynamoDB's rules). "up / down": broker up,`);
    console.log(`or down with ${PENDING_WHILE_DOWN} events of the record already pending.\n`);
    console.log('| record | (a) in-item, up / down | (b) outbox table + transaction, up / down | (c) Streams |');
    console.log('|---|---|---|---|');
    for (const row of rows) console.log(row);
  } finally {
    raw.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function approxKb(data: FeatureMap): string {
  return `~${(JSON.stringify(data).length / 1024).toFixed(1)} KB as JSON`;
}

await main();
