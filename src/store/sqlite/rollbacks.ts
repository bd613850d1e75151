/**
 * Rollback states (ports.ts `RollbackStateStore`) in the SQLite file's `rollbacks` table: the
 * state as JSON, its status for the list of running ones, and a lease. One process writes a
 * SQLite file, but the lease is kept anyway so that the store meets the same contract as
 * DynamoDB's (several instances) and a restarted process takes over after the lease expires.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { RollbackState, RollbackStateStore } from '../ports.js';
import type { Guard } from './errors.js';

export class SqliteRollbacks implements RollbackStateStore {
  readonly #guard: Guard;
  readonly #insert: Statement<[string, string, string]>;
  readonly #get: Statement<[string], { state: string }>;
  readonly #running: Statement<[], { compute_id: string }>;
  readonly #lease: Statement<[string, number, string, number, string]>;
  readonly #save: Statement<[string, string, string, string]>;

  constructor(db: Db, guard: Guard) {
    this.#guard = guard;
    this.#insert = db.prepare('INSERT INTO rollbacks (compute_id, state, status) VALUES (?, ?, ?) ON CONFLICT (compute_id) DO NOTHING');
    this.#get = db.prepare('SELECT state FROM rollbacks WHERE compute_id = ?');
    this.#running = db.prepare("SELECT compute_id FROM rollbacks WHERE status = 'running' ORDER BY compute_id");
    this.#lease = db.prepare(
      'UPDATE rollbacks SET lease_owner = ?, lease_until = ? WHERE compute_id = ? AND (lease_until <= ? OR lease_owner = ?)',
    );
    this.#save = db.prepare('UPDATE rollbacks SET state = ?, status = ? WHERE compute_id = ? AND lease_owner = ?');
  }

  async create(state: RollbackState): Promise<RollbackState> {
    return this.#guard(() => {
      this.#insert.run(state.computeId, JSON.stringify(state), state.status);
      return JSON.parse((this.#get.get(state.computeId) as { state: string }).state) as RollbackState;
    });
  }

  async get(computeId: string): Promise<RollbackState | undefined> {
    const row = this.#guard(() => this.#get.get(computeId));
    return row === undefined ? undefined : (JSON.parse(row.state) as RollbackState);
  }

  async running(): Promise<string[]> {
    return this.#guard(() => this.#running.all().map((r) => r.compute_id));
  }

  async lease(computeId: string, owner: string, nowMs: number, untilMs: number): Promise<boolean> {
    return this.#guard(() => this.#lease.run(owner, untilMs, computeId, nowMs, owner).changes === 1);
  }

  async save(state: RollbackState, owner: string): Promise<boolean> {
    return this.#guard(() => this.#save.run(JSON.stringify(state), state.status, state.computeId, owner).changes === 1);
  }
}
