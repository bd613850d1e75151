import { createReadStream, createWriteStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createClient } from '../packages/client/src/index.js';
import { ImportAborted, runImport, type ImportSummary } from './bulk/import.js';
import { createProgress } from './bulk/progress.js';
import { RecordError } from './bulk/records.js';
import type { Format } from './bulk/sources.js';
import { intOption, SERVICE_HELP, SERVICE_OPTIONS, serviceOf } from './cli-bulk-options.js';
import { UsageError } from './cli-keys.js';

export const IMPORT_HELP = `  feature-store import FILE|- [--format jsonl|csv] [--concurrency 16] [--skip N]
                       [--rejects FILE] [--source prediction_service] [--url URL] [--api-key KEY]
                                 Write records from a JSONL or CSV file (- : stdin) through the
                                 HTTP API; failed records go to the rejects file (default
                                 FILE.rejects.jsonl, or import-rejects.jsonl for stdin)
${SERVICE_HELP}`;

/**
 * `feature-store import`: exit status 0 when every record was imported, 1 when some failed
 * (listed in the rejects file) or the import stopped early (the message says `--skip N` to
 * resume), 2 for a usage error.
 */
export async function runImportCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...SERVICE_OPTIONS,
      format: { type: 'string' },
      concurrency: { type: 'string' },
      skip: { type: 'string' },
      rejects: { type: 'string' },
      source: { type: 'string' },
    },
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError('import takes one FILE (or - for stdin)');
  const format = (values.format ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl')) as Format;
  if (format !== 'jsonl' && format !== 'csv') throw new UsageError(`--format must be jsonl or csv, got '${String(values.format)}'`);
  const concurrency = intOption('concurrency', values.concurrency, 16, 1, 256);
  const skip = intOption('skip', values.skip, 0, 0, Number.MAX_SAFE_INTEGER);
  const { baseUrl, apiKey } = serviceOf(values, env);
  const rejectsPath = values.rejects ?? (file === '-' ? 'import-rejects.jsonl' : `${file}.rejects.jsonl`);

  let input: Readable;
  let totalBytes: number | undefined;
  if (file === '-') {
    input = process.stdin;
  } else {
    try {
      totalBytes = statSync(file).size;
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
    }
    input = createReadStream(file, { highWaterMark: 64 * 1024 });
  }
  // A resumed run (--skip) adds to the rejects of the run it continues.
  const rejects = createWriteStream(rejectsPath, { flags: skip > 0 ? 'a' : 'w' });
  const client = createClient({ baseUrl, apiKey, retries: 8, timeoutMs: 30_000 });
  const progress = createProgress({ tty: process.stderr.isTTY, write: (text) => process.stderr.write(text) });

  let summary: ImportSummary;
  let code = 0;
  try {
    summary = await runImport({
      input,
      format,
      client,
      source: values.source ?? 'prediction_service',
      concurrency,
      skip,
      reject: (line) => rejects.write(line),
      onProgress: (state) => progress.update(state),
      totalBytes,
    });
  } catch (err) {
    if (err instanceof ImportAborted) {
      summary = err.summary;
      process.stderr.write(`\nfeature-store import: stopped: ${err.message}; resume with --skip ${err.resumeAt}\n`);
      code = 1;
    } else if (err instanceof RecordError) {
      process.stderr.write(`feature-store import: ${file}: ${err.message}\n`);
      await new Promise((resolve) => rejects.end(resolve));
      return 1;
    } else {
      throw err;
    }
  } finally {
    if (file !== '-') input.destroy();
  }
  await new Promise((resolve) => rejects.end(resolve));
  progress.finish(summary);
  const skipped = summary.skipped > 0 ? ` (${summary.skipped} skipped)` : '';
  process.stdout.write(`imported ${summary.imported} records, ${summary.failed} failed${skipped}\n`);
  if (summary.failed > 0) process.stderr.write(`rejected records and their reasons: ${rejectsPath}\n`);
  return summary.failed > 0 ? 1 : code;
}
