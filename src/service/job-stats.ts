import type { Config } from '../config.js';
import { CategoryNotAllowedError, ComputeJobNotFoundError } from '../errors.js';
import type { FeatureStore, JobWrites } from '../store/ports.js';

/** A compute job's statistics as the job endpoints report them. */
export interface ComputeJobOutput extends JobWrites {
  /** Records whose current compute_id is this job's, over every entity type (read now). */
  recordsCurrent: number;
}

/** Where a page of the job list ends (the HTTP layer hands it out as an opaque cursor). */
export interface JobListPosition {
  lastWriteAt: string;
  computeId: string;
}

export interface ComputeJobListInput {
  /** Page size, 1 to `LIMITS.computeJobPage`. */
  limit: number;
  /** Only jobs that wrote this category (it must be on the allow-list). */
  category?: string | undefined;
  from?: JobListPosition | undefined;
}

export interface ComputeJobListOutput {
  jobs: ComputeJobOutput[];
  next: JobListPosition | undefined;
}

/** Jobs whose `records_current` are counted at once (each is a count per entity type). */
const COUNT_CONCURRENCY = 8;

/**
 * Job analytics: "when did the job last run, how much did it write". `records_written`,
 * the write times and the per-category and per-entity-type counts come from the store's job
 * statistics, which follow the writes asynchronously (README "Lineage"); `records_current` is
 * counted at read time from the by-compute-id index.
 */
export function computeJobStats(deps: { store: FeatureStore; config: Pick<Config, 'entityTables' | 'categories'> }) {
  const { store, config } = deps;
  const entityTypes = Object.keys(config.entityTables);

  async function withCurrent(job: JobWrites): Promise<ComputeJobOutput> {
    const counts = await Promise.all(entityTypes.map((t) => store.countByComputeId(t, job.computeId)));
    return { ...job, recordsCurrent: counts.reduce((a, b) => a + b, 0) };
  }

  async function readComputeJob(computeId: string): Promise<ComputeJobOutput> {
    const job = await store.computeJobs.get(computeId);
    if (job === undefined) throw new ComputeJobNotFoundError(computeId);
    return withCurrent(job);
  }

  async function listComputeJobs(input: ComputeJobListInput): Promise<ComputeJobListOutput> {
    if (input.category !== undefined && !config.categories.includes(input.category)) {
      throw new CategoryNotAllowedError(input.category, 'read', config.categories);
    }
    const page = await store.computeJobs.list({ limit: input.limit, category: input.category, after: input.from });
    const jobs: ComputeJobOutput[] = new Array<ComputeJobOutput>(page.jobs.length);
    for (let i = 0; i < page.jobs.length; i += COUNT_CONCURRENCY) {
      const counted = await Promise.all(page.jobs.slice(i, i + COUNT_CONCURRENCY).map(withCurrent));
      counted.forEach((job, j) => (jobs[i + j] = job));
    }
    const last = page.jobs[page.jobs.length - 1];
    return { jobs, next: page.more && last !== undefined ? { lastWriteAt: last.lastWriteAt, computeId: last.computeId } : undefined };
  }

  return { readComputeJob, listComputeJobs };
}
