import { randomUUID } from 'node:crypto';
import { ComputeJobNotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FeatureRecord, OutboxEvent } from '../model.js';
import type { FeatureStore, RecordKey, RollbackState, WriteRecordInput } from '../store/ports.js';
import { formatTimestamp, type Clock } from '../timestamps.js';

/** What a restore write takes from the service's rules besides the version: expiry, lineage, versions, its event. */
export type RestoreSettings = (
  key: RecordKey,
  now: string,
  nowMs: number,
  lineage: { computeId: string | null; eventTime: string | undefined; names: string[] },
) => Pick<WriteRecordInput, 'expiresAt' | 'historySize' | 'versionsKept' | 'event'>;

export interface RollbackDeps {
  store: FeatureStore;
  /** Entity types in configuration order: a rollback walks them in this order. */
  entityTypes: readonly string[];
  /** Earlier versions read per record (the most any category keeps). */
  versionsLimit: number;
  /** Records per batch (`ROLLBACK_BATCH_SIZE`). */
  batch: number;
  clock: Clock;
  logger: Logger;
  restoreSettings: RestoreSettings;
  /** The `feature_deleted` event of a record deleted with `delete_unversioned`; undefined when events are off. */
  deletedEvent: ((key: RecordKey, now: string, deleted: FeatureRecord) => OutboxEvent) | undefined;
  /** How long a lease on a rollback lasts; renewed every batch (default 30 s). */
  leaseMs?: number;
  /** This instance's lease owner id (default a UUID). */
  owner?: string;
}

export type Rollbacks = ReturnType<typeof createRollbacks>;

/**
 * Rollback of a compute job (README "Versions and rollback"): for every record whose current
 * compute_id is the job, a write of the version before it — the newest kept version written by
 * another job — carrying that version's data, compute_id and event_time, `updated_at` now,
 * `created_at` kept, a change event through the outbox, versions and history kept as for any
 * write. Each restore is conditional on the record's compute_id still being the job's
 * (`onlyIfComputeId`): a later write wins and the record counts as skipped.
 *
 * It runs in the background in batches of the by-compute-id query, and the state (counts and
 * the position after the last record done) is saved after each batch, so a restarted instance
 * resumes where the last saved batch ended (`resume`, at start and then every lease period). A
 * batch interrupted by a crash is done again: its restores are idempotent (a restored record no
 * longer carries the job's compute_id, so the query does not find it again), and the counts miss
 * what that batch restored before the crash (at most `ROLLBACK_BATCH_SIZE` records). One
 * instance at a time works on a rollback: the one holding the lease on its state.
 */
export function createRollbacks(deps: RollbackDeps) {
  const { store, clock, logger } = deps;
  const leaseMs = deps.leaseMs ?? 30_000;
  const owner = deps.owner ?? randomUUID();
  const active = new Map<string, Promise<void>>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  /** Whether any record currently carries the job's compute_id. */
  async function hasRecords(computeId: string): Promise<boolean> {
    for (const entityType of deps.entityTypes) {
      if ((await store.findByComputeId({ entityType, computeId, limit: 1 })).records.length > 0) return true;
    }
    return false;
  }

  /** Starts the rollback, or returns the state of the one started before (idempotent). */
  async function start(computeId: string, deleteUnversioned: boolean): Promise<RollbackState> {
    const existing = await store.rollbacks.get(computeId);
    if (existing !== undefined) {
      if (existing.status === 'running') kick(computeId);
      return existing;
    }
    if (!(await hasRecords(computeId))) throw new ComputeJobNotFoundError(computeId);
    const first = deps.entityTypes[0];
    const state = await store.rollbacks.create({
      computeId,
      status: first === undefined ? 'done' : 'running',
      deleteUnversioned,
      restored: 0,
      skipped: 0,
      deleted: 0,
      startedAt: formatTimestamp(clock()),
      finishedAt: null,
      position: first === undefined ? null : { entityType: first },
    });
    if (state.status === 'running') kick(computeId);
    return state;
  }

  async function status(computeId: string): Promise<RollbackState> {
    const state = await store.rollbacks.get(computeId);
    if (state === undefined) throw new ComputeJobNotFoundError(computeId);
    return state;
  }

  function kick(computeId: string): void {
    if (closed || active.has(computeId)) return;
    const run = runRollback(computeId)
      .catch((err: unknown) => logger.warn({ err, compute_id: computeId }, 'rollback interrupted; it resumes at the next check'))
      .finally(() => active.delete(computeId));
    active.set(computeId, run);
  }

  async function runRollback(computeId: string): Promise<void> {
    for (;;) {
      if (closed) return;
      const nowMs = clock().getTime();
      if (!(await store.rollbacks.lease(computeId, owner, nowMs, nowMs + leaseMs))) return; // another instance works on it
      const state = await store.rollbacks.get(computeId);
      if (state === undefined || state.status === 'done' || state.position === null) return;
      const next = await runBatch(state);
      if (!(await store.rollbacks.save(next, owner))) return; // the lease was lost meanwhile
      if (next.status === 'done') {
        logger.info({ compute_id: computeId, restored: next.restored, skipped: next.skipped, deleted: next.deleted }, 'rollback done');
        return;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** One batch from the state's position; resolves with the state after it. */
  async function runBatch(state: RollbackState): Promise<RollbackState> {
    const position = state.position as NonNullable<RollbackState['position']>;
    const page = await store.findByComputeId({ entityType: position.entityType, computeId: state.computeId, limit: deps.batch, after: position.after });
    let { restored, skipped, deleted } = state;
    for (const r of page.records) {
      const outcome = await restore({ entityType: r.entityType, entityValue: r.entityValue, category: r.category }, state);
      if (outcome === 'restored') restored++;
      else if (outcome === 'deleted') deleted++;
      else skipped++;
    }
    const last = page.records[page.records.length - 1];
    let next: RollbackState['position'];
    if (page.more && last !== undefined) next = { entityType: position.entityType, after: { entityValue: last.entityValue, category: last.category } };
    else {
      const type = deps.entityTypes[deps.entityTypes.indexOf(position.entityType) + 1];
      next = type === undefined ? null : { entityType: type };
    }
    const done = next === null;
    return { ...state, restored, skipped, deleted, position: next, status: done ? 'done' : 'running', finishedAt: done ? formatTimestamp(clock()) : null };
  }

  async function restore(key: RecordKey, state: RollbackState): Promise<'restored' | 'skipped' | 'deleted'> {
    const computeId = state.computeId;
    const found = await store.getVersions(key, deps.versionsLimit);
    if (found === undefined || found.record.meta.compute_id !== computeId) return 'skipped';
    const previous = found.earlier.find((v) => v.computeId !== computeId);
    const nowMs = clock().getTime();
    const now = formatTimestamp(new Date(nowMs));
    if (previous === undefined) {
      if (!state.deleteUnversioned) return 'skipped';
      const deletedEvent = deps.deletedEvent;
      const gone = await store.deleteRecord({
        key,
        now,
        onlyIfComputeId: computeId,
        event: deletedEvent === undefined ? undefined : (record) => deletedEvent(key, now, record),
      });
      return gone === undefined ? 'skipped' : 'deleted';
    }
    const settings = deps.restoreSettings(key, now, nowMs, { computeId: previous.computeId, eventTime: previous.eventTime, names: Object.keys(previous.data) });
    const result = await store.writeRecord({
      key,
      data: previous.data,
      computeId: previous.computeId,
      eventTime: previous.eventTime,
      now,
      onlyIfComputeId: computeId,
      ...settings,
    });
    return result.outcome === 'applied' ? 'restored' : 'skipped';
  }

  /** Picks up every running rollback whose lease is free (at start, then every lease period). A batch in progress finishes. */
  async function resume(): Promise<void> {
    if (closed) return;
    for (const computeId of await store.rollbacks.running()) kick(computeId);
  }

  return {
    start,
    status,
    /**
     * Resumes running rollbacks now (resolves once they are listed) and checks again every lease
     * period, for rollbacks another instance left. Never rejects: a failure is logged and the next check tries again.
     */
    async startResuming(): Promise<void> {
      const check = (): Promise<void> => resume().catch((err: unknown) => logger.warn({ err }, 'could not list running rollbacks'));
      timer = setInterval(() => void check(), leaseMs);
      timer.unref();
      await check();
    },
    /** Stops starting batches and waits for the ones in progress. */
    async stop(): Promise<void> {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      await Promise.all(active.values());
    },
    /** Resolves once no rollback runs in this instance (tests). */
    async idle(): Promise<void> {
      while (active.size > 0) await Promise.all(active.values());
    },
  };
}
