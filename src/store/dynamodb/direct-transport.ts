import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { conditionFailure } from './condition-failure.js';
import { exchange, mayHaveBeenApplied, type HttpAgents } from './http-exchange.js';
import { loadSdkParts, type SdkEndpoint, type SdkHttpRequest, type SdkHttpResponse, type SdkParts } from './sdk-parts.js';

/**
 * The record path's requests without the SDK's per-request middleware stack: the backend writes
 * the request body (fast-io.ts), and this sends it with the SDK doing what only it should do —
 *
 * - **credentials**: the client's credential provider (`config.credentials`, the standard chain,
 *   memoized by the SDK until the credentials near expiry, then fetched again), read by
 * - **signing**: the client's SigV4 signer (`config.signer`, a `@smithy/signature-v4`
 *   `SignatureV4`), created once and reused — the SDK creates one per request, from a copy of
 *   the whole client config — with the SDK's clock-skew correction (`systemClockOffset`,
 *   updated from every response's Date header by the client's auth scheme signer);
 * - **retries**: the client's retry strategy (`config.retryStrategy`, standard mode,
 *   `DYNAMODB_MAX_ATTEMPTS`), fed the same error classification as the SDK's retry middleware
 *   (throttling, transient, server error; Retry-After hints);
 * - **transport**: a lean HTTP/1.1 keep-alive client on `net.Socket` (`tls.connect` for https)
 *   (http-exchange.ts, connection-pool.ts, response-parser.ts; its own pool of
 *   `DYNAMODB_MAX_SOCKETS` connections per endpoint), one timer at a time per request (`DYNAMODB_TIMEOUT_MS` until the
 *   response headers, as the SDK's handler times it, then again for the body; a timeout is a
 *   `TimeoutError`, as the SDK's handler names it) — the SDK's handler sets four timers and
 *   several listeners per request. A read is retried after a timeout; a write that may have
 *   reached DynamoDB is not (see `REPLAYABLE`);
 * - **errors**: a response with status ≥ 300 goes through the client's protocol deserializer,
 *   so it throws the same exception classes with the same `$metadata`, `$fault`, `$retryable`
 *   and members (a failed condition's `Item`, a cancelled transaction's reasons) as `send`.
 *
 * Merges and deletes of records (merge-protocol.ts, delete-record.ts) go the same way, so the
 * same rule keeps them from being replayed.
 *
 * What it leaves out per request: the middleware chain, endpoint resolution (resolved once per
 * operation, tables and account, with the SDK's own rules and the command's instructions, then
 * cached), the serde middleware's copies of the client config, the User-Agent, invocation-id
 * and attempt headers (informational), and schema-driven serialization. A successful response
 * body is parsed as plain JSON, attribute values left in their wire form for fast-io.ts.
 */
const COMMANDS = {
  GetItem: GetItemCommand,
  BatchGetItem: BatchGetItemCommand,
  UpdateItem: UpdateItemCommand,
  PutItem: PutItemCommand,
  TransactWriteItems: TransactWriteItemsCommand,
  DeleteItem: DeleteItemCommand,
} as const;

export type Operation = keyof typeof COMMANDS;

/**
 * The operations whose replay is harmless: the reads. A write that timed out or lost its
 * connection after the whole request was sent may have been applied (DynamoDB applies a request
 * and may answer after the time limit), and a replay is not harmless: a record update shifts the
 * compute history again and appends its change event again, a replayed put fails its own
 * condition and the write protocol then updates on top of it, and without event times a replay
 * can overwrite a later writer's record. Such a write fails (503, the store unavailable) instead
 * of being retried; the caller decides whether to write again. Requests that never reached
 * DynamoDB whole and error responses (throttling, server errors) are retried by the retry
 * strategy as before.
 */
const REPLAYABLE: ReadonlySet<Operation> = new Set(['GetItem', 'BatchGetItem']);

/** A command of `operation` (the union of the command classes has no common construct signature). */
function command(operation: Operation, input: object): { schema: unknown } {
  const Command = COMMANDS[operation] as unknown as new (input: object) => { schema: unknown };
  return new Command(input);
}

/** What fast-io.ts sends its requests through. */
export interface RecordTransport {
  send(operation: Operation, input: object, tables: string, body: string): Promise<unknown>;
}

interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}

interface RetryStrategy {
  acquireInitialRetryToken(scope: string): Promise<RetryToken>;
  refreshRetryTokenForRetry(token: RetryToken, info: object): Promise<RetryToken>;
  recordSuccess(token: RetryToken): void;
}

interface Signer {
  sign(request: SdkHttpRequest, options: { signingDate: Date; signingRegion: string; signingService: string }): Promise<SdkHttpRequest>;
}

interface AuthSchemeSigner {
  successHandler(response: SdkHttpResponse, properties: object): void;
  errorHandler(properties: object): (error: Error) => never;
}

/** The members of the client's resolved configuration this transport uses (typed here, checked at construction). */
interface ClientConfig {
  credentials(): Promise<{ accountId?: string }>;
  signer(authScheme?: object): Promise<Signer>;
  region(): Promise<string>;
  retryStrategy(): Promise<RetryStrategy>;
  disableClockSkewCorrection?: () => Promise<boolean>;
  systemClockOffset: number;
  httpAuthSchemes: { schemeId: string; signer: AuthSchemeSigner }[];
  protocol: { deserializeResponse(schema: unknown, context: object, response: SdkHttpResponse): Promise<unknown> };
}

interface Route {
  endpoint: SdkEndpoint;
  signer: Signer;
  signingRegion: string;
  signingService: string;
}

const TARGET_PREFIX = 'DynamoDB_20120810.';
const SIGNING_SERVICE = 'dynamodb';

export class DirectTransport implements RecordTransport {
  private readonly config: ClientConfig;
  private readonly sdk: SdkParts;
  private readonly authSigner: AuthSchemeSigner;
  /** Resolved routes by `operation|tables`, for the credentials they were resolved with (their account id). */
  private routes = new Map<string, Promise<Route>>();
  private routesFor: object | undefined;
  private skewCorrection: Promise<boolean> | undefined;

  private readonly agents: HttpAgents;

  constructor(client: DynamoDBClient, agents: HttpAgents) {
    this.agents = agents;
    this.config = client.config as unknown as ClientConfig;
    this.sdk = loadSdkParts();
    const scheme = this.config.httpAuthSchemes.find((s) => s.schemeId === 'aws.auth#sigv4');
    for (const [what, ok] of [
      ['config.signer', typeof this.config.signer === 'function'],
      ['config.retryStrategy', typeof this.config.retryStrategy === 'function'],
      ['config.protocol.deserializeResponse', typeof this.config.protocol.deserializeResponse === 'function'],
      ['a sigv4 auth scheme with success and error handlers', typeof scheme?.signer.successHandler === 'function' && typeof scheme.signer.errorHandler === 'function'],
    ] as const) {
      if (!ok) throw new Error(`@aws-sdk/client-dynamodb: the client has no ${what} (an unsupported SDK version)`);
    }
    this.authSigner = (scheme as { signer: AuthSchemeSigner }).signer;
  }

  /**
   * Sends one request and returns its parsed response body. `input` is the request in the
   * command's input shape, as far as endpoint resolution reads it (the table names); `tables`
   * names those tables, the key of the cached route.
   */
  async send(operation: Operation, input: object, tables: string, body: string): Promise<unknown> {
    const strategy = await this.config.retryStrategy();
    let token = await strategy.acquireInitialRetryToken('');
    for (;;) {
      try {
        const output = await this.attempt(operation, input, tables, body);
        strategy.recordSuccess(token);
        return output;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        try {
          // A write that reached DynamoDB without an answer is never sent again (see REPLAYABLE).
          if (!REPLAYABLE.has(operation) && mayHaveBeenApplied(error)) throw error;
          // A failed condition is an answer the write protocol expects (every first write of a
          // record has one), a client error no retry strategy of the SDK retries: the standard
          // one refuses it without touching its quota (the adaptive one would only sample its send
          // rate); not asked.
          if (error instanceof ConditionalCheckFailedException) throw error;
          token = await strategy.refreshRetryTokenForRetry(token, this.retryInfo(error));
        } catch {
          const meta = ((error as { $metadata?: Record<string, unknown> }).$metadata ??= {});
          meta.attempts = token.getRetryCount() + 1;
          throw error;
        }
        const delay = token.getRetryDelay();
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** The retry middleware's error info: the error's type and the response's Retry-After hint. */
  private retryInfo(error: Error): object {
    const errorType = this.sdk.isThrottlingError(error)
      ? 'THROTTLING'
      : this.sdk.isTransientError(error)
        ? 'TRANSIENT'
        : this.sdk.isServerError(error)
          ? 'SERVER_ERROR'
          : 'CLIENT_ERROR';
    const hint = this.sdk.getRetryAfterHint((error as { $response?: unknown }).$response);
    return hint === undefined ? { error, errorType } : { error, errorType, retryAfterHint: hint };
  }

  private async attempt(operation: Operation, input: object, tables: string, body: string): Promise<unknown> {
    const route = await this.route(operation, input, tables);
    const url = route.endpoint.url;
    const request = new this.sdk.HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query: {},
      headers: {
        ...endpointHeaders(route.endpoint),
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': TARGET_PREFIX + operation,
        host: url.host,
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    const noSkewCorrection = await (this.skewCorrection ??= Promise.resolve(this.config.disableClockSkewCorrection?.() ?? false));
    const sentAt = Date.now();
    const properties = { config: this.config, _requestSentAt: sentAt, _preRequestSystemClockOffset: this.config.systemClockOffset, _disableClockSkewCorrection: noSkewCorrection };
    const signed = await route.signer.sign(request, {
      signingDate: new Date(noSkewCorrection ? sentAt : sentAt + this.config.systemClockOffset),
      signingRegion: route.signingRegion,
      signingService: route.signingService,
    });
    const response = await exchange(signed, this.agents, this.sdk);
    const bytes = response.body as Buffer;
    if (response.statusCode < 300) {
      this.authSigner.successHandler(response, properties);
      return bytes.byteLength === 0 ? {} : JSON.parse(bytes.toString('utf8'));
    }
    try {
      const failedCondition = conditionFailure(response);
      if (failedCondition !== undefined) throw failedCondition;
      const [, ns, name, traits, inSchema, outSchema] = command(operation, {}).schema as unknown[];
      await this.config.protocol.deserializeResponse(this.sdk.operation(ns, name, traits, inSchema, outSchema), { ...this.config }, response);
      throw new Error(`DynamoDB ${operation}: HTTP ${response.statusCode} without an error`);
    } catch (err) {
      if (typeof err === 'object' && err !== null) Object.defineProperty(err, '$response', { value: response, enumerable: false });
      // Updates the clock offset from the error's server time (a skewed clock), then rethrows.
      return this.authSigner.errorHandler(properties)(err as Error);
    }
  }

  private route(operation: Operation, input: object, tables: string): Promise<Route> {
    return this.config.credentials().then((identity) => {
      if (identity !== this.routesFor) {
        this.routesFor = identity;
        this.routes = new Map();
      }
      const key = `${operation}|${tables}`;
      let route = this.routes.get(key);
      if (route === undefined) {
        route = this.resolveRoute(operation, input);
        this.routes.set(key, route);
        route.catch(() => this.routes.delete(key));
      }
      return route;
    });
  }

  private async resolveRoute(operation: Operation, input: object): Promise<Route> {
    // As the endpoint middleware does it, on a copy of the config (resolution may set a configured endpoint on it).
    const endpoint = await this.sdk.getEndpointFromInstructions(input, COMMANDS[operation], { ...this.config });
    const authScheme = endpoint.properties?.authSchemes?.[0];
    return {
      endpoint,
      signer: await this.config.signer(authScheme),
      signingRegion: authScheme?.signingRegion ?? (await this.config.region()),
      signingService: authScheme?.signingName ?? SIGNING_SERVICE,
    };
  }
}

function endpointHeaders(endpoint: SdkEndpoint): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(endpoint.headers ?? {})) out[name] = values.join(',');
  return out;
}
