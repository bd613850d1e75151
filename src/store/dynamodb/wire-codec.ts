import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The bare client's request and response bodies (client.ts `bare`): the backend writes each
 * request body itself (fast-io.ts builds it from native values with attribute-codec.ts and puts
 * it on the command input under `WIRE_BODY`), and a successful response body is parsed as plain
 * JSON, attribute values left in their wire form for fast-io.ts to read. Everything else stays
 * the SDK's: the endpoint, signing, retries and the HTTP handler, and error responses, which
 * its own deserializer turns into the same exceptions as on the other clients (errors.ts reads
 * those). The SDK's schema-driven serializer walks every input and output member against the
 * DynamoDB model; this backend's requests have few, known shapes.
 *
 * Hooks into the SDK's protocol object of this one client (its `serializer.write`/`flush` and
 * `deserializer.read`, which the pinned @aws-sdk/client-dynamodb's JSON-RPC protocol calls in
 * that order); `installWireCodec` checks that they exist and fails start-up otherwise.
 */
export const WIRE_BODY: unique symbol = Symbol('feature-store.dynamodb.wire-body');

interface ShapeSerializer {
  write(schema: unknown, value: unknown): void;
  flush(): unknown;
}

interface ShapeDeserializer {
  read(schema: unknown, data: Uint8Array | string, ...rest: unknown[]): unknown;
}

interface JsonProtocol {
  serializer?: ShapeSerializer;
  deserializer?: ShapeDeserializer;
}

function text(data: Uint8Array | string): string {
  return typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
}

export function installWireCodec(client: DynamoDBClient): void {
  const protocol = client.config.protocol as unknown as JsonProtocol;
  const serializer = protocol.serializer;
  const deserializer = protocol.deserializer;
  if (typeof serializer?.write !== 'function' || typeof serializer.flush !== 'function' || typeof deserializer?.read !== 'function') {
    throw new Error('@aws-sdk/client-dynamodb: its JSON protocol has no serializer.write/flush or deserializer.read (an unsupported SDK version)');
  }
  const write = serializer.write.bind(serializer);
  const flush = serializer.flush.bind(serializer);
  const read = deserializer.read.bind(deserializer);
  // write() and flush() run back to back, synchronously, in the protocol's serializeRequest.
  let body: string | undefined;
  serializer.write = (schema, value) => {
    const own = typeof value === 'object' && value !== null ? (value as { [WIRE_BODY]?: unknown })[WIRE_BODY] : undefined;
    if (typeof own === 'string') body = own;
    else {
      body = undefined;
      write(schema, value);
    }
  };
  serializer.flush = () => {
    if (body === undefined) return flush();
    const out = body;
    body = undefined;
    return out;
  };
  // A successful response is read with the operation's output schema (an object); an error
  // response with a numeric schema id, which stays the SDK's.
  deserializer.read = (schema, data, ...rest) => (typeof schema === 'object' && schema !== null ? JSON.parse(text(data)) : read(schema, data, ...rest));
}
