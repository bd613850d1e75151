import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Database as Db } from 'better-sqlite3';
import { D0, ENTITY_TABLES, entityValue, prng } from './seed.js';

/**
 * The store's point read without HTTP: the key lookup the single-category read does, on a
 * read-only connection with given pragmas, timed over random keys. Shows what the file size
 * costs by itself and which SQLite setting changes it (page cache `cache_size`, `mmap_size`),
 * apart from the service's per-request work.
 */
const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');

export interface PointReadConfig {
  name: string;
  pragmas: string[];
}

/** The store's settings (src/store/sqlite/schema.ts), then SQLite's default and a bigger page cache, then mmap. */
export const POINT_READ_CONFIGS: readonly PointReadConfig[] = [
  { name: 'store default: cache_size = -32768 (32 MiB), no mmap', pragmas: ['cache_size = -32768'] },
  { name: 'cache_size = -2000 (2 MiB, SQLite default)', pragmas: ['cache_size = -2000'] },
  { name: 'cache_size = -131072 (128 MiB)', pragmas: ['cache_size = -131072'] },
  // SQLite caps mmap_size at its compile-time SQLITE_MAX_MMAP_SIZE: 0x7fff0000 in better-sqlite3's build.
  { name: 'mmap_size = 8 GiB asked, 2 GiB granted, cache_size = -32768', pragmas: ['cache_size = -32768', 'mmap_size = 8589934592'] },
];

export interface PointReadResult {
  config: string;
  /**
   * CPU µs (user + system of this process) per lookup: the best of the measured passes (the
   * first pass only warms the connection's cache). CPU time rather than wall time, and the best
   * pass, because other tenants of a shared machine stretch wall time at random.
   */
  usPerRead: number;
  /** Wall-clock µs per lookup in that pass. */
  wallUsPerRead: number;
  /** The process's RSS growth over the passes, MiB (mmap'd pages count as RSS). */
  rssGrowthMiB: number;
  /**
   * Read system calls per lookup in that pass (`syscr` of /proc/self/io: SQLite's `pread`s of
   * pages its cache misses), or undefined where the kernel does not count them. Unlike CPU time
   * it does not scatter with the machine's load.
   */
  readsPerLookup?: number;
}

/** Read system calls of this process so far (Linux), or undefined. */
function readSyscalls(): number | undefined {
  try {
    const m = /^syscr: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

function rssMiB(): number {
  return process.memoryUsage.rss() / 1024 ** 2;
}

/** `reads` random d0 lookups over `entities`, `passes` times; the best pass after the first is reported. */
export function timePointReads(path: string, entities: number, config: PointReadConfig, reads = 200_000, passes = 4): PointReadResult {
  const db: Db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    for (const p of config.pragmas) db.pragma(p);
    const stmt = db.prepare(`SELECT data, updated_at, compute_id, event_time FROM "${ENTITY_TABLES.bright_uid}" WHERE entity_value = ? AND category = ?`);
    const rss0 = rssMiB();
    let best: { cpu: number; wall: number; syscalls?: number } = { cpu: Infinity, wall: NaN };
    for (let pass = 0; pass < passes; pass++) {
      const r = prng(1000 + pass);
      const keys = Array.from({ length: reads }, () => entityValue(Math.floor(r() * entities)));
      let found = 0;
      const s0 = readSyscalls();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (const k of keys) if (stmt.get(k, D0) !== undefined) found++;
      const wall = ((performance.now() - t0) * 1000) / reads;
      const c = process.cpuUsage(c0);
      const s1 = readSyscalls();
      const cpu = (c.user + c.system) / reads;
      if (found !== reads) throw new Error(`point reads on ${path}: ${reads - found} of ${reads} keys missing`);
      if (pass > 0 && cpu < best.cpu) best = { cpu, wall, ...(s0 === undefined || s1 === undefined ? {} : { syscalls: (s1 - s0) / reads }) };
    }
    return {
      config: config.name,
      usPerRead: best.cpu,
      wallUsPerRead: best.wall,
      rssGrowthMiB: rssMiB() - rss0,
      ...(best.syscalls === undefined ? {} : { readsPerLookup: best.syscalls }),
    };
  } finally {
    db.close();
  }
}
