import { bool, int, list, oneOf, optional, str, type Env } from './config-parse.js';
import { access, categoryTtl, corsOrigins, httpLimits, lineage, statsd, versions, type VersionsConfig } from './config-sections.js';

export { compileComputeIdPattern, MAX_COMPUTE_HISTORY_SIZE } from './config-sections.js';
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
    /** `DYNAMODB_VERSIONS_TABLE`: earlier versions of records and rollback states (store/dynamodb/versions.ts). */
    readonly versionsTable: string;
    /**
     * `DYNAMODB_WRITE_ORDER_CACHE_MB`: memory for the record keys this instance knows exist, which
     * with the recent share of new keys picks a write's first request (store/dynamodb/write-order.ts).
     * 0: every write tries the update first.
     */
    readonly writeOrderCacheMb: number;
  };
  /** Undefined when `KAFKA_BROKERS` is unset: no events are produced. */
  readonly kafka: KafkaConfig | undefined;
  readonly outbox: {
    readonly batchSize: number;
    readonly pollIntervalMs: number;
    readonly leaseMs: number;
    /**
     * Longest linger of the relay under sustained load, ms (`OUTBOX_MAX_LINGER_MS`): the wait
     * before a round doubles up to it while rounds keep finding many events, so that a round (one
     * claim, one produce request, one delete) carries more of them. See
     * `OutboxRelayOptions.maxLingerMs`.
     */
    readonly maxLingerMs: number;
  };
  readonly shutdownTimeoutMs: number;
  /**
   * Service processes sharing the port (`WORKERS`, node:cluster; default 1: no cluster). See
   * src/workers.ts for what they share and README "Several processes" for SQLite.
   */
  readonly workers: number;
  readonly access: AccessConfig;
  /** Undefined when `STATSD_HOST` is unset: no StatsD metrics are sent. */
  readonly statsd: StatsdConfig | undefined;
  /** Bounds on what one client or a burst can hold; reasons in README and docs/security.md. */
  readonly http: HttpLimits;
  /** Browser origins allowed cross-origin access (`CORS_ORIGINS`); empty: CORS off. */
  readonly corsOrigins: readonly string[];
  readonly lineage: LineageConfig;
  readonly versions: VersionsConfig;
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


const DEFAULT_ENTITY_TABLES: Readonly<Record<string, string>> = {
  bright_uid: 'user_feature_store',
  account_pid: 'account_feature_store',
};
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const RESERVED: readonly string[] = ['category', 'features'];
const TABLE = /^[A-Za-z0-9_.-]{3,255}$/;
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SASL: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

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
      versionsTable: str(env, 'DYNAMODB_VERSIONS_TABLE', 'feature_store_versions'),
      writeOrderCacheMb: int(env, 'DYNAMODB_WRITE_ORDER_CACHE_MB', 8, 0, 1024),
    }),
    kafka: kafka(env),
    outbox: Object.freeze({
      batchSize: int(env, 'OUTBOX_BATCH_SIZE', 500, 1, 10000),
      pollIntervalMs: int(env, 'OUTBOX_POLL_MS', 200, 10, 60000),
      leaseMs: int(env, 'OUTBOX_LEASE_MS', 30000, 1000, 3600000),
      maxLingerMs: int(env, 'OUTBOX_MAX_LINGER_MS', 100, 0, 10000),
    }),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 0, 600000),
    workers: int(env, 'WORKERS', 1, 1, 64),
    access: access(env, str(env, 'HOST', '127.0.0.1')),
    http: httpLimits(env),
    corsOrigins: Object.freeze(corsOrigins(env)),
    statsd: statsd(env),
    lineage: lineage(env),
    versions: versions(env, categories),
  };
  return Object.freeze(config);
}
