import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys: what the keys file (`API_KEYS_FILE`, JSON) holds and how a presented secret is
 * checked. The file holds hashes only, never secrets:
 *
 *   { "version": 1, "keys": [ { "id": "spark-writer", "hash": "sha256:<base64url>",
 *       "scopes": ["read", "write"], "categories": ["d0_unauth_features"],
 *       "sources": ["prediction_service"], "created_at": "2026-12-06T10:00:00.000Z" } ] }
 *
 * A secret is `fsk.<id>.<43 base64url characters>` (256 random bits): the id lets the service
 * find the key without comparing against every hash, and the random part makes a plain SHA-256
 * as strong as a slow password hash would be (nothing to guess), at a microsecond per request.
 * Hashes are compared in constant time, and an unknown id costs the same as a wrong secret.
 */
export type Scope = 'read' | 'write' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'write', 'admin'];

export interface ApiKey {
  readonly id: string;
  /** `sha256:` + base64url digest of the whole secret. */
  readonly hash: string;
  readonly scopes: readonly Scope[];
  /** Categories the key may read or write; undefined: every category on the allow-list. */
  readonly categories?: readonly string[];
  /** `meta.source` values the key may claim on writes and deletes (required with `write`). */
  readonly sources?: readonly string[];
  readonly created_at: string;
}

export interface KeyFile {
  readonly version: 1;
  readonly keys: readonly ApiKey[];
}

export const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SECRET = /^fsk\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/;
const HASH = /^sha256:([A-Za-z0-9_-]{43})$/;
const NAME = /^[^\s,]{1,256}$/;
/** Compared against when the id is unknown, so that the answer takes as long as for a known one. */
const DUMMY_DIGEST = createHash('sha256').update('feature-store: no such key').digest();

export function hashSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('base64url')}`;
}

/** A new secret for key `id`, and the hash to store. The secret is shown once and kept nowhere. */
export function newSecret(id: string): { secret: string; hash: string } {
  const secret = `fsk.${id}.${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashSecret(secret) };
}

/** The key a bearer secret belongs to, or undefined. Constant time in the secret's content. */
export function verifySecret(keys: ReadonlyMap<string, ApiKey>, secret: string): ApiKey | undefined {
  const match = SECRET.exec(secret);
  const key = match === null ? undefined : keys.get(match[1] as string);
  const stored = key === undefined ? undefined : HASH.exec(key.hash);
  const expected = stored?.[1] === undefined ? DUMMY_DIGEST : Buffer.from(stored[1], 'base64url');
  const given = createHash('sha256').update(secret).digest();
  const equal = expected.length === given.length && timingSafeEqual(expected, given);
  return equal && key !== undefined ? key : undefined;
}

function stringList(value: unknown, where: string, check: (s: string) => boolean): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && check(v))) {
    throw new Error(`${where} must be a non-empty list of names`);
  }
  return [...new Set(value as string[])];
}

/** Parses and checks a keys file's text; throws an Error naming the first problem. */
export function parseKeyFile(text: string): KeyFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof raw !== 'object' || raw === null || (raw as { version?: unknown }).version !== 1 || !Array.isArray((raw as { keys?: unknown }).keys)) {
    throw new Error('expected {"version": 1, "keys": [...]}');
  }
  const keys: ApiKey[] = [];
  const ids = new Set<string>();
  for (const [i, entry] of ((raw as { keys: unknown[] }).keys).entries()) {
    const where = `keys[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${where} must be an object`);
    const e = entry as Record<string, unknown>;
    if (typeof e.id !== 'string' || !KEY_ID.test(e.id)) throw new Error(`${where}.id must match ${KEY_ID.source}`);
    if (ids.has(e.id)) throw new Error(`${where}.id '${e.id}' is used twice`);
    ids.add(e.id);
    if (typeof e.hash !== 'string' || !HASH.test(e.hash)) throw new Error(`${where}.hash must be sha256:<base64url digest> (never the secret)`);
    const scopes = stringList(e.scopes, `${where}.scopes`, (s) => (SCOPES as readonly string[]).includes(s)) as Scope[];
    const key: { -readonly [K in keyof ApiKey]: ApiKey[K] } = {
      id: e.id,
      hash: e.hash,
      scopes,
      created_at: typeof e.created_at === 'string' ? e.created_at : '',
    };
    if (e.categories !== undefined) key.categories = stringList(e.categories, `${where}.categories`, (s) => NAME.test(s));
    if (e.sources !== undefined) key.sources = stringList(e.sources, `${where}.sources`, (s) => NAME.test(s));
    if (scopes.includes('write') && key.sources === undefined) throw new Error(`${where}: a key with the write scope needs "sources"`);
    keys.push(key);
  }
  return { version: 1, keys };
}

export function formatKeyFile(file: KeyFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}
