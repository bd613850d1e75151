import { ConfigError } from './errors.js';

/**
 * Configuration, parsed once at start-up from the environment, validated and frozen.
 * Nothing else in the code base reads `process.env`.
 */
export type StoreType = 'sqlite' | 'dynamodb';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly clientId: string;
  readonly ssl: boolean;
  readonly sasl: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string } | undefined;
  readonly allowAutoTopicCreation: boolean;
}

/** The optional StatsD sink of the old service's metrics (`STATSD_HOST` set). */
export interface StatsdConfig {
  readonly host: string;
  readonly port: number;
  /** First segment of every metric name (`STATSD_PREFIX`, default `feature_store`). */
  readonly prefix: string;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  readonly store: StoreType;
  readonly sqlitePath: string;
  /** `full`: every commit is fsynced (survives power loss); `normal`: survives process crashes. */
  readonly sqliteSynchronous: 'full' | 'normal';
  /** Entity type name → table (SQLite table or DynamoDB table). Insertion order is kept. */
  readonly entityTables: Readonly<Record<string, string>>;
  readonly categories: readonly string[];
  readonly writeSources: readonly string[];
  /**
   * Time to live per category in milliseconds (`CATEGORY_TTL`), counted from a record's latest
   * write; categories not listed never expire. See `ttl` for the physical removal.
   */
  readonly categoryTtlMs: Readonly<Record<string, number>>;
  readonly ttl: {
    /** How often the SQLite backend deletes expired records (DynamoDB uses its native TTL). */
    readonly sweepIntervalMs: number;
    /** Expired records deleted per sweep transaction (bounds the time the writer is held). */
    readonly sweepBatch: number;
  };
  /** Most entity values one batch read may ask for (`BATCH_MAX_ENTITIES`). */
  readonly batchMaxEntities: number;
  readonly dynamodb: {
    readonly region: string | undefined;
    readonly endpoint: string | undefined;
    /**
     * Strongly consistent reads (`DYNAMODB_CONSISTENT_READ`): a read always sees the latest
     * acknowledged write, at twice the read capacity cost. Off (default): reads are eventually
     * consistent and may miss a write made in the last ~second.
     */
    readonly consistentRead: boolean;
    /** Create missing tables and indexes at start (`DYNAMODB_CREATE_TABLES`); local use only. */
    readonly createTables: boolean;
    /** SDK attempts per request, retries of throttling and transient errors included. */
    readonly maxAttempts: number;
    /** Time limit of one attempt (connect + request + response), milliseconds. */
    readonly timeoutMs: number;
    /** Keep-alive sockets per DynamoDB endpoint. */
    readonly maxSockets: number;
    /** The outbox table (`DYNAMODB_OUTBOX_TABLE`): pending change events, one item per record key. */
    readonly outboxTable: string;
  };
  /** Undefined when `KAFKA_BROKERS` is unset: no events are produced. */
  readonly kafka: KafkaConfig | undefined;
  readonly outbox: {
    readonly batchSize: number;
    readonly pollIntervalMs: number;
    readonly leaseMs: number;
  };
  readonly shutdownTimeoutMs: number;
  readonly access: AccessConfig;
  /** Undefined when `STATSD_HOST` is unset: no StatsD metrics are sent. */
  readonly statsd: StatsdConfig | undefined;
  /** Bounds on what one client or a burst can hold; reasons in README and docs/security.md. */
  readonly http: HttpLimits;
  /** Browser origins allowed cross-origin access (`CORS_ORIGINS`); empty: CORS off. */
  readonly corsOrigins: readonly string[];
  readonly lineage: LineageConfig;
}

/** Rules and bookkeeping for `meta.compute_id` (see README "Lineage"). */
export interface LineageConfig {
  /**
   * `COMPUTE_ID_PATTERN`: a regular expression (JavaScript syntax, `u` flag) the *whole*
   * compute_id must match — it is anchored as `^(?:pattern)$`, so `spark-.*` does not accept
   * `my-spark-1`. Undefined: any string up to `LIMITS.computeIdLength` characters.
   */
  readonly computeIdPattern: string | undefined;
  /** `COMPUTE_ID_REQUIRED`: every write must carry a (non-null) compute_id. */
  readonly computeIdRequired: boolean;
  /**
   * `COMPUTE_HISTORY_SIZE`: compute ids each record keeps, newest first (0 turns the history
   * off: writes leave it as stored and the history endpoint answers `[]`).
   */
  readonly computeHistorySize: number;
}

export interface HttpLimits {
  /** Time to receive a request's headers (`HEADERS_TIMEOUT_MS`); then 408 and the connection closes. */
  readonly headersTimeoutMs: number;
  /** Time to receive the whole request, headers and body (`BODY_TIMEOUT_MS`); then 408 and close. */
  readonly bodyTimeoutMs: number;
  /** Time from routing to the response (`REQUEST_TIMEOUT_MS`); then 503 with `Retry-After`. */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (`KEEP_ALIVE_TIMEOUT_MS`). */
  readonly keepAliveTimeoutMs: number;
  /** Open connections at most (`MAX_CONNECTIONS`); more are dropped and idle ones reclaimed. */
  readonly maxConnections: number;
  /** Event-loop delay above which API requests are refused with 503 (`MAX_EVENT_LOOP_DELAY_MS`; 0: never). */
  readonly maxEventLoopDelayMs: number;
  /** Feature requests per second for each API key, else client address (`RATE_LIMIT_PER_SECOND`; 0: no limit). */
  readonly rateLimitPerSecond: number;
}

/** Who may call what; see src/http/access.ts and docs/security.md. */
export interface AccessConfig {
  /** `API_KEYS_FILE`: bearer keys with scopes. Unset: open mode (no authentication). */
  readonly keysFile: string | undefined;
  /** `OPEN_ACCESS=true`: open mode on a non-loopback HOST, chosen knowingly. */
  readonly openAccess: boolean;
  /** `/metrics`: open, only for keys with the admin scope, or not served at all. */
  readonly metrics: EndpointAccess;
  /** `/docs` and `/openapi.json`: likewise. */
  readonly docs: EndpointAccess;
}

export type EndpointAccess = 'open' | 'admin' | 'off';


type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_ENTITY_TABLES: Readonly<Record<string, string>> = {
  bright_uid: 'user_feature_store',
  account_pid: 'account_feature_store',
};
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const RESERVED: readonly string[] = ['category', 'features'];
const TABLE = /^[A-Za-z0-9_.-]{3,255}$/;
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SASL: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function list(env: Env, name: string, fallback: readonly string[]): string[] {
  const v = env[name];
  if (v === undefined || v.trim() === '') return [...fallback];
  const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new ConfigError(`${name} must be a comma-separated list with at least one entry`);
  return [...new Set(items)];
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return fallback;
  if (!/^\d+$/.test(v.trim())) throw new ConfigError(`${name} must be an integer, got '${v}'`);
  const n = Number(v.trim());
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = env[name]?.trim().toLowerCase();
  if (v === undefined || v === '') return fallback;
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false, got '${env[name] ?? ''}'`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = str(env, name, fallback).toLowerCase();
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got '${env[name] ?? ''}'`);
  }
  return v as T;
}

/**
 * The largest `COMPUTE_HISTORY_SIZE`: a DynamoDB write shifts one attribute per entry in an
 * update expression limited to 4 KB, and every entry is reserved in the item's 400 KB.
 */
export const MAX_COMPUTE_HISTORY_SIZE = 100;

/** Compiles `COMPUTE_ID_PATTERN` anchored, so an invalid expression stops the start. */
export function compileComputeIdPattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'u');
}

function lineage(env: Env): LineageConfig {
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

function entityTables(env: Env): Record<string, string> {
  const types = list(env, 'ENTITY_TYPES', Object.keys(DEFAULT_ENTITY_TABLES));
  const tables: Record<string, string> = {};
  for (const type of types) {
    if (!NAME.test(type)) throw new ConfigError(`ENTITY_TYPES: '${type}' is not a valid entity type name`);
    if (RESERVED.includes(type)) throw new ConfigError(`ENTITY_TYPES: '${type}' is reserved (it is a field of records)`);
    const variable = `TABLE_NAME_${type.toUpperCase()}`;
    const table = str(env, variable, DEFAULT_ENTITY_TABLES[type] ?? `${type}_feature_store`);
    if (!TABLE.test(table)) throw new ConfigError(`${variable}: '${table}' is not a valid table name`);
    tables[type] = table;
  }
  const names = Object.values(tables);
  if (new Set(names).size !== names.length) {
    throw new ConfigError('TABLE_NAME_*: two entity types map to the same table');
  }
  return tables;
}

const TTL_UNITS_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Ten years: far beyond any useful TTL, and far inside what timestamps can express. */
const MAX_TTL_MS = 3650 * 86_400_000;

/** `CATEGORY_TTL=d0_unauth_features=7d,ncr_unauth_features=12h` → category → milliseconds. */
function categoryTtl(env: Env, categories: readonly string[]): Record<string, number> {
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

function kafka(env: Env): KafkaConfig | undefined {
  const brokers = optional(env, 'KAFKA_BROKERS');
  if (brokers === undefined) return undefined;
  const list_ = list(env, 'KAFKA_BROKERS', []);
  for (const b of list_) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new ConfigError(`KAFKA_BROKERS: '${b}' is not host:port`);
  }
  const mechanism = optional(env, 'KAFKA_SASL_MECHANISM');
  let sasl: KafkaConfig['sasl'];
  if (mechanism !== undefined) {
    const m = oneOf(env, 'KAFKA_SASL_MECHANISM', SASL, 'plain');
    const username = optional(env, 'KAFKA_SASL_USERNAME');
    const password = optional(env, 'KAFKA_SASL_PASSWORD');
    if (username === undefined || password === undefined) {
      throw new ConfigError('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required when KAFKA_SASL_MECHANISM is set');
    }
    sasl = Object.freeze({ mechanism: m, username, password });
  }
  return Object.freeze({
    brokers: Object.freeze(list_),
    topic: str(env, 'TOPIC_NAME', 'FEATURE_AVAILABILITY_EVENTS'),
    clientId: str(env, 'KAFKA_CLIENT_ID', 'feature-store'),
    ssl: bool(env, 'KAFKA_SSL', false),
    sasl,
    allowAutoTopicCreation: bool(env, 'KAFKA_ALLOW_AUTO_TOPIC_CREATION', false),
  });
}

/** Loopback addresses: only processes on this machine can connect. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function access(env: Env, host: string): AccessConfig {
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

function httpLimits(env: Env): HttpLimits {
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

function corsOrigins(env: Env): string[] {
  const origins = list(env, 'CORS_ORIGINS', []);
  for (const o of origins) {
    if (!ORIGIN.test(o)) throw new ConfigError(`CORS_ORIGINS: '${o}' is not an origin like https://app.example.com (no path, no '*')`);
  }
  return origins;
}

function statsd(env: Env): StatsdConfig | undefined {
  const host = optional(env, 'STATSD_HOST');
  if (host === undefined) return undefined;
  const prefix = str(env, 'STATSD_PREFIX', 'feature_store');
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new ConfigError(`STATSD_PREFIX: '${prefix}' may hold only letters, digits, '_', '.' and '-'`);
  return Object.freeze({ host, port: int(env, 'STATSD_PORT', 8125, 1, 65535), prefix });
}

/** Parses and validates the environment. Throws `ConfigError` naming the offending variable. */
export function loadConfig(env: Env): Config {
  const endpoint = optional(env, 'DYNAMODB_ENDPOINT') ?? optional(env, 'AWS_ENDPOINT_URL_DYNAMODB');
  if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
    throw new ConfigError(`DYNAMODB_ENDPOINT must be an http(s) URL, got '${endpoint}'`);
  }
  const categories = list(env, 'CATEGORY_WHITELIST', ['d0_unauth_features', 'ncr_unauth_features']);
  for (const c of categories) {
    if (c.includes(':')) throw new ConfigError(`CATEGORY_WHITELIST: '${c}' must not contain ':'`);
  }
  const config: Config = {
    port: int(env, 'PORT', 8015, 0, 65535),
    host: str(env, 'HOST', '127.0.0.1'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    store: oneOf(env, 'STORE', ['sqlite', 'dynamodb'] as const, 'sqlite'),
    sqlitePath: str(env, 'SQLITE_PATH', './data/features.db'),
    sqliteSynchronous: oneOf(env, 'SQLITE_SYNCHRONOUS', ['full', 'normal'] as const, 'full'),
    entityTables: Object.freeze(entityTables(env)),
    categories: Object.freeze(categories),
    writeSources: Object.freeze(list(env, 'WRITE_SOURCES', ['prediction_service'])),
    categoryTtlMs: Object.freeze(categoryTtl(env, categories)),
    ttl: Object.freeze({
      sweepIntervalMs: int(env, 'TTL_SWEEP_INTERVAL_MS', 60_000, 100, 86_400_000),
      sweepBatch: int(env, 'TTL_SWEEP_BATCH', 500, 1, 10_000),
    }),
    batchMaxEntities: int(env, 'BATCH_MAX_ENTITIES', 1000, 1, 10000),
    dynamodb: Object.freeze({
      region: optional(env, 'AWS_REGION') ?? optional(env, 'AWS_DEFAULT_REGION'),
      endpoint,
      consistentRead: bool(env, 'DYNAMODB_CONSISTENT_READ', false),
      createTables: bool(env, 'DYNAMODB_CREATE_TABLES', false),
      maxAttempts: int(env, 'DYNAMODB_MAX_ATTEMPTS', 3, 1, 10),
      timeoutMs: int(env, 'DYNAMODB_TIMEOUT_MS', 3000, 100, 60000),
      maxSockets: int(env, 'DYNAMODB_MAX_SOCKETS', 128, 1, 4096),
      outboxTable: str(env, 'DYNAMODB_OUTBOX_TABLE', 'feature_store_outbox'),
    }),
    kafka: kafka(env),
    outbox: Object.freeze({
      batchSize: int(env, 'OUTBOX_BATCH_SIZE', 500, 1, 10000),
      pollIntervalMs: int(env, 'OUTBOX_POLL_MS', 200, 10, 60000),
      leaseMs: int(env, 'OUTBOX_LEASE_MS', 30000, 1000, 3600000),
    }),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 0, 600000),
    access: access(env, str(env, 'HOST', '127.0.0.1')),
    http: httpLimits(env),
    corsOrigins: Object.freeze(corsOrigins(env)),
    statsd: statsd(env),
    lineage: lineage(env),
  };
  return Object.freeze(config);
}
