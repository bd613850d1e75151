import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { SdkHttpResponse } from './sdk-parts.js';

/**
 * The most frequent error answer of the record path, a failed condition (every first write of a
 * record: its update finds no item, then the put creates it), as the SDK's own
 * `ConditionalCheckFailedException` without the SDK's protocol deserializer. That deserializer
 * copies the whole client configuration and walks the operation's error schemas per error; for
 * this one error the answer is `{"__type": "…#ConditionalCheckFailedException", "message": …,
 * "Item": {…}}` and nothing else is needed. What it builds is what `send` throws: the same class,
 * `name`, `message`, `$fault` (client), `$metadata` (status and request ids from the headers) and
 * `Item` (raw attribute values, binaries as `Uint8Array` as the SDK decodes them). Any other
 * error answer returns undefined and goes through the SDK's deserializer.
 */
export function conditionFailure(response: SdkHttpResponse): Error | undefined {
  if (response.statusCode !== 400) return undefined;
  let body: unknown;
  try {
    body = JSON.parse((response.body as Buffer).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const fields = body as { __type?: unknown; message?: unknown; Message?: unknown; Item?: unknown };
  const type = response.headers['x-amzn-errortype'] ?? fields.__type;
  if (typeof type !== 'string' || errorCode(type) !== 'ConditionalCheckFailedException') return undefined;
  const message = typeof fields.message === 'string' ? fields.message : typeof fields.Message === 'string' ? fields.Message : 'UnknownError';
  const h = response.headers;
  // No stack trace: the exception is made in a socket callback, where the stack says nothing,
  // and capturing one was the largest part of its cost.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new ConditionalCheckFailedException({
      message,
      $metadata: {
        httpStatusCode: response.statusCode,
        requestId: h['x-amzn-requestid'] ?? h['x-amzn-request-id'] ?? h['x-amz-request-id'],
        extendedRequestId: h['x-amz-id-2'],
        cfId: h['x-amz-cf-id'],
      },
      ...(fields.Item === undefined ? {} : { Item: sdkValues(fields.Item) as ConditionalCheckFailedException['Item'] }),
    });
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** The SDK's `sanitizeErrorCode`: the type without a `namespace#` prefix or a `:suffix`. */
function errorCode(type: string): string {
  const bare = type.split(':')[0] ?? type;
  return bare.slice(bare.lastIndexOf('#') + 1);
}

/** Wire attribute values as the SDK deserializes them: the same objects, binaries decoded from base64. */
function sdkValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sdkValues);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [name, inner] of Object.entries(value as Record<string, unknown>)) {
    if (name === 'B' && typeof inner === 'string') out[name] = base64(inner);
    else if (name === 'BS' && Array.isArray(inner)) out[name] = (inner as unknown[]).map((b) => (typeof b === 'string' ? base64(b) : b));
    else out[name] = sdkValues(inner);
  }
  return out;
}

function base64(text: string): Uint8Array {
  const buffer = Buffer.from(text, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
