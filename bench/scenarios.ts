import type { NextRequest } from './load.js';
import { batchReadBody, D0, entityValue, featurePool, multiReadBody, singleReadPath, writeBody, type BatchSelection, type DataSet } from './seed.js';
import { KEY, type LuaScenario, type RequestTemplate } from './wrk.js';

/**
 * The request mixes of the scenarios, for both load generators: `next` builds each request in
 * JavaScript (autocannon), `lua` is the same mix for wrk, rendered from the same builders with
 * the entity left as a placeholder. Entities are drawn uniformly at random over the seeded range
 * per request by either generator.
 */
export interface RequestSource {
  method: 'GET' | 'POST';
  next: () => NextRequest;
  lua: LuaScenario;
}

const rnd = (n: number): number => Math.floor(Math.random() * n);
/** `user-`: entity values are the prefix and a number. */
const PREFIX = entityValue(0).slice(0, -1);

function lua(templates: RequestTemplate[], keys: number, keysPerRequest = 1): LuaScenario {
  return { templates, keyPrefix: PREFIX, keys, keysPerRequest };
}

/**
 * `src` paced: each connection pauses `pauseMs` on average after each response, so the load is a steady
 * rate the target can keep up with instead of a closed loop at saturation (where latency is the
 * queue: connections ÷ req/s by Little's law, whatever the target does per request).
 */
export function paced(src: RequestSource, pauseMs: number): RequestSource {
  return { ...src, lua: { ...src.lua, pauseMs } };
}

export interface Sources {
  /** `GET` one d0 record of any entity. */
  single: RequestSource;
  /** Multi-category read of a two-category entity. */
  multi: RequestSource;
  /**
   * Batch read of `n` random entities: by default (`two`) two-category entities with the
   * multi-read's selection; `one`: any entity with the single read's (one d0 record each).
   */
  batch: (n: number, selection?: BatchSelection) => RequestSource;
  /** Half of the keys exist (updates), half are new (inserts); both categories. */
  write: RequestSource;
}

export function requestSources(set: DataSet, options: { poolSize?: number; poolSeed?: number; computeId?: (i: number) => string } = {}): Sources {
  const pool = featurePool(options.poolSize ?? 2_000, options.poolSeed ?? 3);
  const computeId = options.computeId ?? ((i: number) => `spark-bench-${i % 100}`);
  let w = 0;
  return {
    single: {
      method: 'GET',
      next: () => ({ path: singleReadPath(entityValue(rnd(set.entities))) }),
      lua: lua([{ method: 'GET', path: singleReadPath(KEY) }], set.entities),
    },
    multi: {
      method: 'POST',
      next: () => ({ path: '/api/v1/get/items', body: multiReadBody(entityValue(rnd(set.dual))) }),
      lua: lua([{ method: 'POST', path: '/api/v1/get/items', body: multiReadBody(KEY) }], set.dual),
    },
    batch: (n, selection = 'two') => {
      // The single read's selection reads any entity, as the single read does; the multi-read's two-category ones.
      const range = selection === 'one' ? set.entities : set.dual;
      return {
        method: 'POST',
        next: () => ({
          path: '/api/v1/get/items/batch',
          body: batchReadBody(Array.from({ length: n }, () => entityValue(rnd(range))), selection),
        }),
        lua: lua([{ method: 'POST', path: '/api/v1/get/items/batch', body: batchReadBody([KEY], selection) }], range, n),
      };
    },
    write: {
      method: 'POST',
      next: () => {
        const i = w++ % pool.length;
        const f = pool[i] ?? { category: D0, json: '{"x":1}' };
        return { path: '/api/v1/items', body: writeBody(entityValue(rnd(set.entities * 2)), f.category, f.json, computeId(i)) };
      },
      lua: lua(
        pool.map((f, i) => ({ method: 'POST', path: '/api/v1/items', body: writeBody(KEY, f.category, f.json, computeId(i)) })),
        set.entities * 2,
      ),
    },
  };
}
