import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SCHEMA_VERSION } from '../src/store/sqlite/schema.js';
import { dataSet, seedSqlite, type DataSet } from './seed.js';

/**
 * The large SQLite file of the scale run (`--scale=10m`), kept between runs under
 * `BENCH_SCALE_CACHE` (default bench/.cache, gitignored). The file name holds everything that
 * decides its content: the record count, the store's schema version and the version of the
 * bench's data generator (bump `DATA_VERSION` when seed.ts changes what it writes), so a file
 * is reused only while it is what a fresh seed would write. A sidecar JSON keeps how long the
 * seed took, so a run that reuses the file still reports it.
 */
export const DATA_VERSION = 1;

export function scaleCacheName(records: number, schemaVersion: number, dataVersion = DATA_VERSION): string {
  return `scale-${records}-schema${schemaVersion}-data${dataVersion}.db`;
}

export interface ScaleDatabase {
  path: string;
  set: DataSet;
  /** Whether this run found the file in the cache (else it seeded it). */
  cached: boolean;
  /** Seeding time of the file (this run's, or the recorded one of the run that seeded it). */
  seedSeconds: number;
  seededAt: string;
  /** Load average (1, 5, 15 min) when the seed ended: the machine is shared. */
  seedLoadAvg?: string;
  /** Size of the database file (no WAL: the seeding connection checkpointed it on close). */
  fileBytes: number;
}

interface Sidecar {
  records: number;
  seedSeconds: number;
  seededAt: string;
  loadAvg?: string;
}

/**
 * The cached file for `records`, seeded (through `SqliteStore`, in 5,000-write transactions,
 * `synchronous = NORMAL`) if it is not there. Seeding writes to a `.partial` name that is renamed
 * only once the store closed cleanly, so an interrupted seed is never taken for a finished one.
 */
export async function scaleDatabase(
  cacheDir: string,
  records: number,
  storeModule: string,
  log: (line: string) => void,
): Promise<ScaleDatabase> {
  const dir = resolve(cacheDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, scaleCacheName(records, SCHEMA_VERSION));
  const sidecarPath = `${path}.json`;
  const set = dataSet(records);
  if (existsSync(path) && existsSync(sidecarPath)) {
    const side = JSON.parse(readFileSync(sidecarPath, 'utf8')) as Sidecar;
    log(`scale: reusing ${path} (seeded ${side.seededAt} in ${side.seedSeconds.toFixed(0)} s)`);
    return { path, set, cached: true, seedSeconds: side.seedSeconds, seededAt: side.seededAt, ...(side.loadAvg === undefined ? {} : { seedLoadAvg: side.loadAvg }), fileBytes: statSync(path).size };
  }
  const partial = `${path}.partial`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(partial + suffix, { force: true });
  log(`scale: seeding ${records.toLocaleString('en-US')} records into ${partial} …`);
  const t0 = performance.now();
  let nextLog = 1_000_000;
  const seed = await seedSqlite(partial, set, storeModule, (n) => {
    if (n < nextLog) return;
    nextLog += 1_000_000;
    const s = (performance.now() - t0) / 1000;
    log(`  ${n.toLocaleString('en-US')} records, ${s.toFixed(0)} s, ${Math.round(n / s).toLocaleString('en-US')} records/s, ${(statSync(partial).size / 1024 ** 2).toFixed(0)} MiB`);
  });
  if (existsSync(`${partial}-wal`)) throw new Error(`seeding left a WAL next to ${partial}: the store did not close cleanly`);
  renameSync(partial, path);
  rmSync(`${partial}-shm`, { force: true });
  const loadAvg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const side: Sidecar = { records, seedSeconds: seed.ms / 1000, seededAt: new Date().toISOString(), loadAvg };
  writeFileSync(sidecarPath, `${JSON.stringify(side, null, 2)}\n`);
  return { path, set, cached: false, seedSeconds: side.seedSeconds, seededAt: side.seededAt, seedLoadAvg: loadAvg, fileBytes: statSync(path).size };
}
