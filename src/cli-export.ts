import { parseArgs } from 'node:util';
import { createClient } from '../packages/client/src/index.js';
import { runExport } from './bulk/export.js';
import { SERVICE_HELP, SERVICE_OPTIONS, serviceOf } from './cli-bulk-options.js';
import { UsageError } from './cli-keys.js';

export const EXPORT_HELP = `  feature-store export --entity-type T --category C [--compute-id J] [--url URL] [--api-key KEY]
                                 Stream the category's records (or those job J wrote) as JSONL
                                 on stdout, in the import format
${SERVICE_HELP}`;

/** `feature-store export`: exit status 0 when every record was written, 1 on an error, 2 for a usage error. */
export async function runExportCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...SERVICE_OPTIONS, 'entity-type': { type: 'string' }, category: { type: 'string' }, 'compute-id': { type: 'string' } },
  });
  if (positionals.length > 0) throw new UsageError(`export takes no arguments, got '${positionals.join(' ')}'`);
  const entityType = values['entity-type'];
  const category = values.category;
  if (entityType === undefined || category === undefined) throw new UsageError('export needs --entity-type and --category');
  const { baseUrl, apiKey } = serviceOf(values, env);
  const client = createClient({ baseUrl, apiKey, retries: 8, timeoutMs: 30_000 });
  const count = await runExport({
    client,
    entityType,
    category,
    computeId: values['compute-id'],
    write: (line) =>
      new Promise((resolve, reject) => {
        if (process.stdout.write(line)) resolve();
        else process.stdout.once('drain', resolve).once('error', reject);
      }),
  });
  process.stderr.write(`exported ${count} records\n`);
  return 0;
}
