/**
 * Starting a worker thread from a module of this project, in the build (`.js`) and from the
 * sources under tsx (`.ts`, the tests).
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * The module `name` beside `base` (an `import.meta.url`): `.js` in the build; `.ts` when the
 * service runs from its sources (tests, under tsx).
 */
export function moduleBeside(base: string, name: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/**
 * A worker running `entry`. A TypeScript entry (sources under tsx) is loaded through tsx's
 * loader, registered in the thread first: a thread does not inherit the main thread's loader.
 */
export function startWorker(entry: URL, workerData: unknown, resourceLimits: ResourceLimits): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData, resourceLimits });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits });
}
