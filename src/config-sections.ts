/**
 * The configuration sections for lineage, expiry, access, the HTTP bounds, CORS and StatsD:
 * each reads its own variables; config.ts assembles them into the frozen `Config`.
 */
import type { AccessConfig, EndpointAccess, HttpLimits, LineageConfig, StatsdConfig } from './config.js';
import { bool, int, list, oneOf, optional, str, type Env } from './config-parse.js';
import { ConfigError } from './errors.js';


/**
 * The largest `COMPUTE_HISTORY_SIZE`: a DynamoDB write shifts one attribute per entry in an
 * update expression limited to 4 KB, and every entry is reserved in the item's 400 KB.
 */
export const MAX_COMPUTE_HISTORY_SIZE = 100;

/** Compiles `COMPUTE_ID_PATTERN` anchored, so an invalid expression stops the start. */
export function compileComputeIdPattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'u');
}

export function lineage(env: Env): LineageConfig {
  const pattern = optional(env, 'COMPUTE_ID_PATTERN');
  if (pattern !== undefined) {
    try {
      compileComputeIdPattern(pattern);
    } catch (err) {
      throw new ConfigError(`COMPUTE_ID_PATTERN is not a valid regular expression: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return Object.freeze({
    computeIdPattern: pattern,
    computeIdRequired: bool(env, 'COMPUTE_ID_REQUIRED', false),
    computeHistorySize: int(env, 'COMPUTE_HISTORY_SIZE', 10, 0, MAX_COMPUTE_HISTORY_SIZE),
  });
}

const TTL_UNITS_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Ten years: far beyond any useful TTL, and far inside what timestamps can express. */
const MAX_TTL_MS = 3650 * 86_400_000;

/** `CATEGORY_TTL=d0_unauth_features=7d,ncr_unauth_features=12h` → category → milliseconds. */
export function categoryTtl(env: Env, categories: readonly string[]): Record<string, number> {
  const ttl: Record<string, number> = {};
  for (const entry of list(env, 'CATEGORY_TTL', [])) {
    const match = /^([^=\s]+)\s*=\s*(\d+)\s*([smhd])$/.exec(entry);
    if (match === null) throw new ConfigError(`CATEGORY_TTL: '${entry}' is not <category>=<number><s|m|h|d>`);
    const [, category = '', amount = '', unit = ''] = match;
    if (!categories.includes(category)) throw new ConfigError(`CATEGORY_TTL: '${category}' is not in CATEGORY_WHITELIST`);
    if (Object.hasOwn(ttl, category)) throw new ConfigError(`CATEGORY_TTL: '${category}' is given twice`);
    const ms = Number(amount) * (TTL_UNITS_MS[unit] ?? NaN);
    if (!(ms > 0 && ms <= MAX_TTL_MS)) throw new ConfigError(`CATEGORY_TTL: '${entry}' must be more than 0 and at most 3650d`);
    ttl[category] = ms;
  }
  return ttl;
}

/** The largest `VERSIONS_KEPT`: a DynamoDB write shifts one attribute per version in its update expression. */
export const MAX_VERSIONS_KEPT = 50;

/** Earlier versions of records and rollbacks of compute jobs (README "Versions and rollback"). */
export interface VersionsConfig {
  /** `VERSIONS_KEPT`: earlier versions kept per record (0: off), unless its category has its own. */
  readonly kept: number;
  /** `CATEGORY_VERSIONS_KEPT=cat=n,…`: category → earlier versions kept. */
  readonly perCategory: Readonly<Record<string, number>>;
  /** `ROLLBACK_BATCH_SIZE`: records a rollback restores per batch. */
  readonly rollbackBatch: number;
}

/** The number of earlier versions kept for records of `category`. */
export function versionsKept(config: VersionsConfig, category: string): number {
  return Object.hasOwn(config.perCategory, category) ? (config.perCategory[category] as number) : config.kept;
}

/** The most earlier versions any category keeps (what reads and rollbacks look at). */
export function maxVersionsKept(config: VersionsConfig): number {
  return Math.max(config.kept, ...Object.values(config.perCategory));
}

export function versions(env: Env, categories: readonly string[]): VersionsConfig {
  const perCategory: Record<string, number> = {};
  for (const entry of list(env, 'CATEGORY_VERSIONS_KEPT', [])) {
    const match = /^([^=\s]+)\s*=\s*(\d+)$/.exec(entry);
    if (match === null) throw new ConfigError(`CATEGORY_VERSIONS_KEPT: '${entry}' is not <category>=<number>`);
    const [, category = '', amount = ''] = match;
    if (!categories.includes(category)) throw new ConfigError(`CATEGORY_VERSIONS_KEPT: '${category}' is not in CATEGORY_WHITELIST`);
    if (Object.hasOwn(perCategory, category)) throw new ConfigError(`CATEGORY_VERSIONS_KEPT: '${category}' is given twice`);
    const n = Number(amount);
    if (n > MAX_VERSIONS_KEPT) throw new ConfigError(`CATEGORY_VERSIONS_KEPT: '${entry}' must be at most ${MAX_VERSIONS_KEPT}`);
    perCategory[category] = n;
  }
  return Object.freeze({
    kept: int(env, 'VERSIONS_KEPT', 3, 0, MAX_VERSIONS_KEPT),
    perCategory: Object.freeze(perCategory),
    rollbackBatch: int(env, 'ROLLBACK_BATCH_SIZE', 100, 1, 1000),
  });
}

/** Loopback addresses: only processes on this machine can connect. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

export function access(env: Env, host: string): AccessConfig {
  const keysFile = optional(env, 'API_KEYS_FILE');
  const openAccess = bool(env, 'OPEN_ACCESS', false);
  if (keysFile === undefined && !openAccess && !isLoopback(host)) {
    throw new ConfigError(
      `HOST=${host} accepts connections from other machines and API_KEYS_FILE is not set: set API_KEYS_FILE, or OPEN_ACCESS=true to serve without authentication`,
    );
  }
  const endpoint = (name: string): EndpointAccess => {
    const value = oneOf(env, name, ['open', 'admin', 'off'] as const, keysFile === undefined ? 'open' : 'admin');
    if (value === 'admin' && keysFile === undefined) throw new ConfigError(`${name}=admin needs API_KEYS_FILE`);
    return value;
  };
  return Object.freeze({ keysFile, openAccess, metrics: endpoint('METRICS_ACCESS'), docs: endpoint('DOCS_ACCESS') });
}

export function httpLimits(env: Env): HttpLimits {
  const headersTimeoutMs = int(env, 'HEADERS_TIMEOUT_MS', 10000, 100, 600000);
  const bodyTimeoutMs = int(env, 'BODY_TIMEOUT_MS', 20000, 100, 3600000);
  const requestTimeoutMs = int(env, 'REQUEST_TIMEOUT_MS', 30000, 100, 3600000);
  // Node counts the body time from the first byte, headers included; the request time starts
  // once headers are in, so a slow body meets its own bound (408) first.
  if (headersTimeoutMs > bodyTimeoutMs) throw new ConfigError('HEADERS_TIMEOUT_MS must not be larger than BODY_TIMEOUT_MS');
  if (bodyTimeoutMs > requestTimeoutMs) throw new ConfigError('BODY_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS');
  return Object.freeze({
    headersTimeoutMs,
    bodyTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: int(env, 'KEEP_ALIVE_TIMEOUT_MS', 72000, 100, 3600000),
    maxConnections: int(env, 'MAX_CONNECTIONS', 768, 1, 1000000),
    maxEventLoopDelayMs: int(env, 'MAX_EVENT_LOOP_DELAY_MS', 1000, 0, 60000),
    rateLimitPerSecond: int(env, 'RATE_LIMIT_PER_SECOND', 0, 0, 1000000),
  });
}

/** `scheme://host[:port]`, as a browser sends it in `Origin`. */
const ORIGIN = /^https?:\/\/[^\s/?#]+$/;

export function corsOrigins(env: Env): string[] {
  const origins = list(env, 'CORS_ORIGINS', []);
  for (const o of origins) {
    if (!ORIGIN.test(o)) throw new ConfigError(`CORS_ORIGINS: '${o}' is not an origin like https://app.example.com (no path, no '*')`);
  }
  return origins;
}

export function statsd(env: Env): StatsdConfig | undefined {
  const host = optional(env, 'STATSD_HOST');
  if (host === undefined) return undefined;
  const prefix = str(env, 'STATSD_PREFIX', 'feature_store');
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new ConfigError(`STATSD_PREFIX: '${prefix}' may hold only letters, digits, '_', '.' and '-'`);
  return Object.freeze({ host, port: int(env, 'STATSD_PORT', 8125, 1, 65535), prefix });
}
