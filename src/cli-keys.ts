import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatKeyFile, KEY_ID, newSecret, parseKeyFile, SCOPES, type ApiKey, type KeyFile, type Scope } from './auth/api-keys.js';
import type { Config } from './config.js';

export const KEYS_HELP = `  feature-store keys create --id ID --scopes read,write [--categories a,b] [--sources s1,s2] [--file PATH]
                                 Add a key; its secret is printed once, as the last line
  feature-store keys list [--file PATH]
  feature-store keys revoke ID [--file PATH]
                                 The keys file is --file or API_KEYS_FILE; a running service
                                 picks up every change without a restart`;

/** A usage problem: printed with the help, exit status 2. */
export class UsageError extends Error {}

/**
 * `feature-store keys …`: manages the API keys file. Writes go to a temporary file renamed over
 * the old one (a running service never reads half a file), readable by the owner only. Only
 * hashes are stored; the secret exists on stdout once.
 */
export async function runKeys(args: string[], env: Readonly<Record<string, string | undefined>>, config: () => Config): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      id: { type: 'string' },
      scopes: { type: 'string' },
      categories: { type: 'string' },
      sources: { type: 'string' },
      file: { type: 'string' },
    },
  });
  const file = values.file ?? env.API_KEYS_FILE?.trim();
  if (file === undefined || file === '') throw new UsageError('no keys file: pass --file PATH or set API_KEYS_FILE');
  const [action, ...rest] = positionals;

  switch (action) {
    case 'create': {
      if (rest.length > 0) throw new UsageError(`unexpected '${rest.join(' ')}'`);
      const id = values.id ?? '';
      if (!KEY_ID.test(id)) throw new UsageError(`--id must match ${KEY_ID.source}`);
      const scopes = list(values.scopes, '--scopes');
      const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
      if (unknown.length > 0) throw new UsageError(`--scopes: unknown ${unknown.join(', ')} (use ${SCOPES.join(', ')})`);
      const cfg = config();
      const categories = values.categories === undefined ? undefined : list(values.categories, '--categories');
      const notAllowed = categories?.filter((c) => !cfg.categories.includes(c)) ?? [];
      if (notAllowed.length > 0) throw new UsageError(`--categories: ${notAllowed.join(', ')} not in CATEGORY_WHITELIST`);
      const sources = values.sources === undefined ? undefined : list(values.sources, '--sources');
      if (scopes.includes('write') && sources === undefined) throw new UsageError('a key with the write scope needs --sources');
      const strange = sources?.filter((s) => !cfg.writeSources.includes(s)) ?? [];
      if (strange.length > 0) throw new UsageError(`--sources: ${strange.join(', ')} not in WRITE_SOURCES`);

      const current = await load(file, true);
      if (current.keys.some((k) => k.id === id)) throw new UsageError(`a key '${id}' exists already (revoke it first to replace it)`);
      const { secret, hash } = newSecret(id);
      const key: ApiKey = {
        id,
        hash,
        scopes: scopes as Scope[],
        ...(categories === undefined ? {} : { categories }),
        ...(sources === undefined ? {} : { sources }),
        created_at: new Date().toISOString(),
      };
      await save(file, { version: 1, keys: [...current.keys, key] });
      process.stdout.write(`created key '${id}' (${scopes.join(', ')}) in ${file}; the secret below is shown only now:\n${secret}\n`);
      return;
    }
    case 'list': {
      if (rest.length > 0) throw new UsageError(`unexpected '${rest.join(' ')}'`);
      const current = await load(file, false);
      for (const k of current.keys) {
        const limits = [k.categories === undefined ? 'all categories' : `categories ${k.categories.join(',')}`, `sources ${k.sources?.join(',') ?? '-'}`];
        process.stdout.write(`${k.id}\t${k.scopes.join(',')}\t${limits.join('\t')}\tcreated ${k.created_at}\n`);
      }
      return;
    }
    case 'revoke': {
      const [id, ...more] = rest;
      if (id === undefined || more.length > 0) throw new UsageError('keys revoke takes one key id');
      const current = await load(file, false);
      if (!current.keys.some((k) => k.id === id)) throw new UsageError(`no key '${id}' in ${file}`);
      await save(file, { version: 1, keys: current.keys.filter((k) => k.id !== id) });
      process.stdout.write(`revoked key '${id}'\n`);
      return;
    }
    default:
      throw new UsageError(`unknown keys command '${action ?? ''}'`);
  }
}

function list(value: string | undefined, flag: string): string[] {
  const items = (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`${flag} needs a comma-separated list`);
  return [...new Set(items)];
}

async function load(file: string, missingIsEmpty: boolean): Promise<KeyFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (missingIsEmpty && (err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, keys: [] };
    throw new Error(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return parseKeyFile(text);
  } catch (err) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function save(file: string, content: KeyFile): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, formatKeyFile(content), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}
