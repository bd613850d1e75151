import type { Readable } from 'node:stream';
import { FeatureStoreApiError, type FeatureStoreClient } from '../../packages/client/src/index.js';
import type { ProgressState } from './progress.js';
import { RecordError, type BulkRecord } from './records.js';
import { readRecords, type Format } from './sources.js';

/**
 * `feature-store import`: every record of the input written through the HTTP API (the typed
 * client), so access control, rules and change events apply as to any writer. Memory stays
 * bounded: the input is read as records are sent, with at most `concurrency` requests in flight.
 */
export interface ImportOptions {
  input: Readable;
  format: Format;
  client: FeatureStoreClient;
  /** `meta.source` of the writes (one of the service's `WRITE_SOURCES`). */
  source: string;
  concurrency: number;
  /** Records to pass over first (resuming an earlier run: its `resume with --skip N`). */
  skip: number;
  /** One line per failed record: `{"line", "reason", "input"}`. */
  reject: (line: string) => void;
  onProgress: (state: ProgressState) => void;
  totalBytes: number | undefined;
}

export interface ImportSummary extends ProgressState {
  skipped: number;
}

/**
 * The import stopped before the end for a reason no record is to blame for (the service cannot
 * be reached, the API key is refused): every record before `resumeAt` is done.
 */
export class ImportAborted extends Error {
  constructor(
    message: string,
    readonly resumeAt: number,
    readonly summary: ImportSummary,
  ) {
    super(message);
  }
}

/** Errors that would fail every record alike: stop instead of rejecting them all. */
function fatal(err: unknown): string | undefined {
  if (err instanceof FeatureStoreApiError) return err.status === 401 ? err.message : undefined;
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

export async function runImport(options: ImportOptions): Promise<ImportSummary> {
  const state: ImportSummary = { done: 0, imported: 0, failed: 0, skipped: 0, bytesRead: 0, totalBytes: options.totalBytes };
  const inFlight = new Set<Promise<void>>();
  // Resume point: every record numbered below `contiguous` has finished (records finish out of order).
  let contiguous = 1;
  const finished = new Set<number>();
  const finish = (n: number): void => {
    finished.add(n);
    while (finished.delete(contiguous)) contiguous++;
  };
  let stop: string | undefined;

  const rejectRecord = (line: number, reason: string, input: string | string[]): void => {
    state.failed++;
    options.reject(`${JSON.stringify({ line, reason, input })}\n`);
  };

  const send = async (n: number, line: number, record: BulkRecord, input: string | string[]): Promise<void> => {
    try {
      await options.client.write({
        entityType: record.entity_type,
        entityValue: record.entity_value,
        category: record.category,
        features: record.features,
        source: options.source,
        computeId: record.compute_id,
        eventTime: record.event_time,
      });
      state.imported++;
    } catch (err) {
      const reason = fatal(err);
      if (reason !== undefined) {
        stop ??= reason;
        return; // not finished: a resumed run sends it again
      }
      rejectRecord(line, (err as FeatureStoreApiError).message, input);
    }
    state.done++;
    finish(n);
    options.onProgress(state);
  };

  let n = 0;
  for await (const item of readRecords(options.input, options.format, (bytes) => (state.bytesRead += bytes))) {
    n++;
    if (n <= options.skip) {
      state.skipped++;
      finish(n);
      continue;
    }
    if (item.result instanceof RecordError) {
      rejectRecord(item.line, item.result.message, item.input);
      state.done++;
      finish(n);
      options.onProgress(state);
      continue;
    }
    const p = send(n, item.line, item.result, item.input).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    if (stop !== undefined) break;
  }
  await Promise.all(inFlight);
  if (stop !== undefined) throw new ImportAborted(stop, contiguous - 1, state);
  return state;
}
