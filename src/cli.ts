#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { KEYS_HELP, runKeys, UsageError } from './cli-keys.js';
import { EXPORT_HELP, runExportCommand } from './cli-export.js';
import { IMPORT_HELP, runImportCommand } from './cli-import.js';
import { loadConfig, type Config } from './config.js';
import { ConfigError } from './errors.js';
import { boundHeapGrowth } from './heap-growth.js';
import { closeOnSignals, startServer } from './server.js';
import { serveWorkers } from './workers.js';

const HELP = `feature-store — online feature store service

Usage:
  feature-store serve            Start the HTTP service (what \`npm start\` runs)
  feature-store tables create    Create the configured tables and indexes that are missing
                                 (STORE=dynamodb; idempotent; prints what it did per table)
${KEYS_HELP}
  feature-store lineage backfill [--segments 4] [--max-writes-per-second 50]
                                 [--state ./lineage-backfill.json]
                                 Index older DynamoDB items for the by-compute-id query
                                 (parallel scan, throttled, resumable from the state file)
${IMPORT_HELP}
${EXPORT_HELP}
  feature-store --help           Show this help

Configuration comes from environment variables (see .env.example and README.md), e.g.
  PORT=8015 HOST=127.0.0.1 STORE=sqlite SQLITE_PATH=./data/features.db feature-store serve
`;

function config(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * `tables create`: one line per table, `<table> (records|outbox): created | exists`, with
 * `; TTL on expires_at: enabled | exists` on record tables when `CATEGORY_TTL` is set.
 */
async function createTables(cfg: Config): Promise<void> {
  if (cfg.store !== 'dynamodb') {
    process.stdout.write(`STORE=${cfg.store}: tables are created when the service opens the store; nothing to do\n`);
    return;
  }
  try {
    // Loaded on demand: the AWS SDK costs start-up time that SQLite users need not pay.
    const { createDynamoDbTables } = await import('./store/dynamodb/index.js');
    for (const r of await createDynamoDbTables(cfg)) {
      process.stdout.write(`${r.table} (${r.kind}): ${r.action}${r.ttl === undefined ? '' : `; TTL on expires_at: ${r.ttl}`}\n`);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * An error with its causes, for the operator: typed store errors carry a generic message (it may
 * reach HTTP clients), the reason is in their cause, e.g.
 * `Cannot open SQLite database at /srv/x.db (Error: ENOTDIR: not a directory, mkdir '/srv')`.
 */
function describeError(err: unknown): string {
  let text = err instanceof Error ? err.message : String(err);
  for (let cause = err instanceof Error ? err.cause : undefined, depth = 0; cause instanceof Error && depth < 3; depth++) {
    text += ` (${cause.name}: ${cause.message})`;
    cause = cause.cause;
  }
  return text;
}

function positiveInt(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) {
    process.stderr.write(`--${name} must be an integer from 1 to ${max}, got '${value}'\n`);
    process.exit(2);
  }
  return n;
}

/** `lineage backfill`: progress on stderr (at most once a second), one summary line per table on stdout. */
async function backfill(cfg: Config, values: { segments?: string; 'max-writes-per-second'?: string; state?: string }): Promise<void> {
  if (cfg.store !== 'dynamodb') {
    process.stdout.write(`STORE=${cfg.store}: the compute_id index covers every record already; nothing to do\n`);
    return;
  }
  const { backfillLineageIndex } = await import('./store/dynamodb/index.js');
  let last = 0;
  const results = await backfillLineageIndex(cfg, {
    segments: positiveInt('segments', values.segments, 4, 1000),
    maxWritesPerSecond: positiveInt('max-writes-per-second', values['max-writes-per-second'], 50, 40000),
    statePath: values.state ?? './lineage-backfill.json',
    onProgress: (p) => {
      if (Date.now() - last < 1000 && p.segmentsDone < p.segments) return;
      last = Date.now();
      process.stderr.write(`${p.table}: ${p.segmentsDone}/${p.segments} segments done, ${p.scanned} scanned, ${p.updated} indexed, ${p.skipped} skipped\n`);
    },
  });
  for (const r of results) process.stdout.write(`${r.table}: ${r.scanned} scanned, ${r.updated} indexed, ${r.skipped} skipped\n`);
}

/** `import` and `export`: clients of a running service, configured by options, not by its environment. */
async function bulk(argv: string[]): Promise<void> {
  try {
    process.exitCode = argv[0] === 'import' ? await runImportCommand(argv.slice(1), process.env) : await runExportCommand(argv.slice(1), process.env);
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TypeError && 'code' in err)) throw err;
    process.stderr.write(`feature-store ${argv[0]}: ${err.message}\n\n${HELP}`);
    process.exit(2);
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'import' || argv[0] === 'export') return bulk(argv);
  if (argv[0] === 'keys') {
    try {
      await runKeys(argv.slice(1), process.env, config);
    } catch (err) {
      if (!(err instanceof UsageError) && !(err instanceof TypeError && 'code' in err)) throw err;
      // UsageError, or parseArgs' own (an unknown option).
      process.stderr.write(`feature-store keys: ${err.message}\n\n${HELP}`);
      process.exit(2);
    }
    return;
  }
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      segments: { type: 'string' },
      'max-writes-per-second': { type: 'string' },
      state: { type: 'string' },
    },
  });
  const [command] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  switch (command) {
    case 'serve': {
      const cfg = config();
      boundHeapGrowth();
      if (cfg.workers > 1) {
        await serveWorkers(cfg);
        return;
      }
      const starting = startServer(cfg);
      closeOnSignals(starting);
      await starting;
      return;
    }
    case 'tables': {
      if (positionals[1] !== 'create' || positionals.length > 2) {
        process.stderr.write(`Unknown command '${positionals.join(' ')}'.\n\n${HELP}`);
        process.exit(2);
      }
      await createTables(config());
      return;
    }
    case 'lineage': {
      if (positionals[1] !== 'backfill' || positionals.length > 2) {
        process.stderr.write(`Unknown command '${positionals.join(' ')}'.\n\n${HELP}`);
        process.exit(2);
      }
      await backfill(config(), values);
      return;
    }
    default:
      process.stderr.write(`Unknown command '${command}'.\n\n${HELP}`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`feature-store: ${describeError(err)}\n`);
  process.exit(1);
});
