/**
 * Per compute job statistics on DynamoDB (the `ComputeJobStatsStore` port), kept in the outbox
 * table (no table to configure or create besides it) as one item per job:
 *
 *   { entity_value: "<compute_id>", record: "#compute-job",
 *     written: 42, first_write_at: "…", last_write_at: "…", job_list: "jobs",
 *     "c:d0_unauth_features": 40, "c:ncr_unauth_features": 2, "t:bright_uid": 42 }
 *
 * Outbox items' `record` is always `<entity type>/<category>`, so `#compute-job` (no `/`) cannot
 * name one, and job items have no `shard`, so the `outbox_pending` index never sees them. The
 * index `compute_jobs_by_last_write` (`job_list`, `last_write_at`) lists jobs latest first: one
 * constant partition, written only when the relay moves a job's last write time (per relayed
 * batch, never per request).
 *
 * Counts grow by ADD, in the relay's transaction that removes the counted events from the
 * outbox (outbox.ts), so each event is counted exactly once. The first and last write times are
 * a minimum and a maximum, which an update expression cannot compute: they are set by
 * conditional updates (`first_write_at > :t`, `last_write_at < :t`) sent just before that
 * transaction. Those are idempotent, so repeating them after a crash changes nothing; an item
 * they create before its counts exist (`written` missing) is not a job yet.
 */
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { GlobalSecondaryIndex } from '@aws-sdk/client-dynamodb';
import type { ComputeJobStatsStore, JobListQuery, JobWrites } from '../ports.js';
import { indexError } from './by-compute-id.js';
import type { RecordTransport } from './direct-transport.js';
import { isConditionalCheckFailed, translateError } from './errors.js';
import { updateItem } from './fast-io.js';
import type { Item } from './layout.js';
import { OUTBOX_ATTR, type UpdateAction } from './outbox-item.js';

export const JOB_RECORD = '#compute-job';
export const JOB_INDEX = 'compute_jobs_by_last_write';
const JOB_LIST = 'jobs';
export const JOB_ATTR = Object.freeze({
  written: 'written',
  firstWriteAt: 'first_write_at',
  lastWriteAt: 'last_write_at',
  list: 'job_list',
});
const CATEGORY_PREFIX = 'c:';
const TYPE_PREFIX = 't:';

/** The index as `CreateTable` / `UpdateTable` take it (both key attributes are strings). */
export function jobIndex(): GlobalSecondaryIndex {
  return {
    IndexName: JOB_INDEX,
    KeySchema: [
      { AttributeName: JOB_ATTR.list, KeyType: 'HASH' },
      { AttributeName: JOB_ATTR.lastWriteAt, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  };
}

export function jobKey(computeId: string): Item {
  return { [OUTBOX_ATTR.entityValue]: computeId, [OUTBOX_ATTR.record]: JOB_RECORD };
}

/** The update that adds `w`'s counts to its job item (alone, or as a transaction action). */
export function addCountsAction(table: string, w: JobWrites): Omit<UpdateAction, 'ConditionExpression'> {
  const names: Record<string, string> = { '#w': JOB_ATTR.written };
  const values: Record<string, unknown> = { ':w': w.writes };
  const adds = ['#w :w'];
  const counts: [string, Readonly<Record<string, number>>][] = [
    [CATEGORY_PREFIX, w.categories],
    [TYPE_PREFIX, w.entityTypes],
  ];
  let n = 0;
  for (const [prefix, map] of counts) {
    for (const [name, count] of Object.entries(map)) {
      names[`#n${n}`] = `${prefix}${name}`;
      values[`:n${n}`] = count;
      adds.push(`#n${n} :n${n}`);
      n++;
    }
  }
  return { TableName: table, Key: jobKey(w.computeId), UpdateExpression: `ADD ${adds.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

export class DynamoDbComputeJobs implements ComputeJobStatsStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #transport: RecordTransport;
  readonly #table: string;

  constructor(doc: DynamoDBDocumentClient, transport: RecordTransport, table: string) {
    this.#doc = doc;
    this.#transport = transport;
    this.#table = table;
  }

  /**
   * Non-transactional: the path for stores without events (the relay adds in its transaction).
   * The ADD of counts is not idempotent, so it goes through the record path's transport, which
   * does not send again a request that may have been applied without an answer (a 503 then:
   * the counts of that batch may be in, and are never in twice).
   */
  async add(writes: readonly JobWrites[]): Promise<void> {
    await this.setTimes(writes);
    await Promise.all(
      writes.map(async (w) => {
        try {
          await updateItem(this.#transport, addCountsAction(this.#table, w));
        } catch (err) {
          throw translateError(err, this.#table);
        }
      }),
    );
  }

  /** Moves each job's first and last write times to include `writes`' (idempotent). */
  async setTimes(writes: readonly JobWrites[]): Promise<void> {
    await Promise.all(
      writes.flatMap((w) => [
        this.#conditionalSet(w.computeId, `SET #t = :t, #l = :l`, '#t < :t', { '#t': JOB_ATTR.lastWriteAt, '#l': JOB_ATTR.list }, { ':t': w.lastWriteAt, ':l': JOB_LIST }),
        this.#conditionalSet(w.computeId, 'SET #t = :t', '#t > :t', { '#t': JOB_ATTR.firstWriteAt }, { ':t': w.firstWriteAt }),
      ]),
    );
  }

  async get(computeId: string): Promise<JobWrites | undefined> {
    try {
      const res = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: jobKey(computeId), ConsistentRead: true }));
      return res.Item === undefined ? undefined : toJob(res.Item);
    } catch (err) {
      throw translateError(err, this.#table);
    }
  }

  async list(query: JobListQuery): Promise<{ jobs: JobWrites[]; more: boolean }> {
    const names: Record<string, string> = { '#jl': JOB_ATTR.list, '#w': JOB_ATTR.written };
    let filter = 'attribute_exists(#w)';
    if (query.category !== undefined) {
      names['#c'] = `${CATEGORY_PREFIX}${query.category}`;
      filter += ' AND attribute_exists(#c)';
    }
    let start: Item | undefined =
      query.after === undefined
        ? undefined
        : { ...jobKey(query.after.computeId), [JOB_ATTR.list]: JOB_LIST, [JOB_ATTR.lastWriteAt]: query.after.lastWriteAt };
    const want = query.limit + 1;
    const jobs: JobWrites[] = [];
    do {
      let res;
      try {
        res = await this.#doc.send(
          new QueryCommand({
            TableName: this.#table,
            IndexName: JOB_INDEX,
            KeyConditionExpression: '#jl = :jl',
            FilterExpression: filter,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':jl': JOB_LIST },
            ScanIndexForward: false,
            Limit: want - jobs.length,
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
      } catch (err) {
        throw indexError(err, this.#table, JOB_INDEX);
      }
      for (const item of res.Items ?? []) {
        const job = toJob(item);
        if (job !== undefined) jobs.push(job);
      }
      start = res.LastEvaluatedKey;
    } while (start !== undefined && jobs.length < want);
    return { jobs: jobs.slice(0, query.limit), more: jobs.length > query.limit };
  }

  async #conditionalSet(computeId: string, update: string, condition: string, names: Record<string, string>, values: Record<string, unknown>): Promise<void> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: jobKey(computeId),
          UpdateExpression: update,
          ConditionExpression: `attribute_not_exists(#t) OR ${condition}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw translateError(err, this.#table); // else: already covered
    }
  }
}

function toJob(item: Item): JobWrites | undefined {
  const written: unknown = item[JOB_ATTR.written];
  const id: unknown = item[OUTBOX_ATTR.entityValue];
  const first: unknown = item[JOB_ATTR.firstWriteAt];
  const last: unknown = item[JOB_ATTR.lastWriteAt];
  if (typeof written !== 'number' || typeof id !== 'string' || typeof first !== 'string' || typeof last !== 'string') return undefined;
  const categories: Record<string, number> = {};
  const entityTypes: Record<string, number> = {};
  for (const name of Object.keys(item).sort()) {
    const value: unknown = item[name];
    if (typeof value !== 'number') continue;
    if (name.startsWith(CATEGORY_PREFIX)) categories[name.slice(CATEGORY_PREFIX.length)] = value;
    else if (name.startsWith(TYPE_PREFIX)) entityTypes[name.slice(TYPE_PREFIX.length)] = value;
  }
  return { computeId: id, writes: written, firstWriteAt: first, lastWriteAt: last, categories, entityTypes };
}
