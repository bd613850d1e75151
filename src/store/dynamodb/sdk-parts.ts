import { createRequire } from 'node:module';

/**
 * The pieces of the AWS SDK that the record path's direct transport (direct-transport.ts) uses
 * besides the client's own configuration: the HTTP request class its signer and handler expect,
 * the endpoint resolution from a command's instructions, the operation schema wrapper its error
 * deserializer takes, and the retry middleware's error classification. They are loaded from the
 * copy of `@smithy/core` that the pinned `@aws-sdk/client-dynamodb` itself depends on (resolved
 * from its location, not this package's), so they are always the ones its client runs with;
 * `loadSdkParts` checks each export and fails start-up with a clear message when the SDK no
 * longer has one.
 */
export interface SdkHttpRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: unknown;
}

export interface SdkHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface SdkEndpoint {
  url: URL;
  headers?: Record<string, string[]>;
  properties?: { authSchemes?: { name?: string; signingName?: string; signingRegion?: string }[] };
}

export interface SdkParts {
  HttpRequest: new (options: Partial<SdkHttpRequest>) => SdkHttpRequest;
  HttpResponse: new (options: SdkHttpResponse) => SdkHttpResponse;
  getEndpointFromInstructions(
    input: object,
    instructions: { getEndpointParameterInstructions(): unknown },
    config: object,
  ): Promise<SdkEndpoint>;
  /** An operation schema as the protocol's `deserializeResponse` takes it, from a command's `schema` tuple. */
  operation(ns: unknown, name: unknown, traits: unknown, input: unknown, output: unknown): unknown;
  isThrottlingError(error: unknown): boolean;
  isTransientError(error: unknown): boolean;
  isServerError(error: unknown): boolean;
  getRetryAfterHint(response: unknown): Date | undefined;
}

function pick(from: Record<string, unknown>, module: string, names: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (typeof from[name] !== 'function') {
      throw new Error(`@aws-sdk/client-dynamodb: ${module} has no ${name} (an unsupported SDK version)`);
    }
    out[name] = from[name];
  }
  return out;
}

let parts: SdkParts | undefined;

export function loadSdkParts(): SdkParts {
  if (parts !== undefined) return parts;
  const sdkRequire = createRequire(createRequire(import.meta.url).resolve('@aws-sdk/client-dynamodb'));
  const load = (module: string, names: string[]) => pick(sdkRequire(module) as Record<string, unknown>, module, names);
  parts = {
    ...load('@smithy/core/protocols', ['HttpRequest', 'HttpResponse']),
    ...load('@smithy/core/endpoints', ['getEndpointFromInstructions']),
    ...load('@smithy/core/schema', ['operation']),
    ...load('@smithy/core/retry', ['isThrottlingError', 'isTransientError', 'isServerError', 'getRetryAfterHint']),
  } as unknown as SdkParts;
  return parts;
}
