/**
 * The messages between the publisher thread's proxy (publisher-thread.ts, on the service's main
 * thread) and the thread itself (publisher-worker.ts). Only strings and numbers cross: the key
 * and the stored JSON text of each event, never parsed objects (a structured clone of a string
 * is a copy of its bytes; of an object, a walk of its properties).
 */
import { parentPort } from 'node:worker_threads';
import { DestinationMissingError } from './event-publisher.js';

export type Request =
  | { readonly op: 'publish'; readonly id: number; readonly keys: readonly string[]; readonly values: readonly string[] }
  | { readonly op: 'probe'; readonly id: number }
  | { readonly op: 'close'; readonly id: number };

/** An error as it crosses: enough to rebuild its kind (a missing destination), message and code. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code: string | undefined;
  readonly destinationMissing: boolean;
}

export type Reply =
  | { readonly kind: 'done'; readonly id: number }
  | { readonly kind: 'failed'; readonly id: number; readonly error: WireError }
  | { readonly kind: 'log'; readonly level: 'debug' | 'warn'; readonly json: string; readonly msg: string };

/** What the thread runs: publish messages given as parallel arrays of keys and JSON texts. */
export interface ThreadSidePublisher {
  publish(keys: readonly string[], values: readonly string[]): Promise<void>;
  probe(): Promise<void>;
  close(): Promise<void>;
}

export function toWireError(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return {
    name: e.name,
    message: e.message,
    code: typeof code === 'string' ? code : undefined,
    destinationMissing: err instanceof DestinationMissingError,
  };
}

/** The error the proxy rejects with: a `DestinationMissingError` again when it was one. */
export function fromWireError(wire: WireError): Error {
  const err = wire.destinationMissing ? new DestinationMissingError(wire.message) : new PublisherThreadError(wire.message, wire.code);
  err.name = wire.name;
  return err;
}

/** A publish or probe failed in the publisher thread (or the thread itself failed). */
export class PublisherThreadError extends Error {
  readonly code: string;
  constructor(message: string, code: string | undefined, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PublisherThreadError';
    this.code = code ?? 'EVENT_PUBLISHER_FAILED';
  }
}

/**
 * The thread's side of the protocol: answers each request of the parent with `publisher`, one
 * reply per request id; after `close`, exits the thread (no timer or socket left to keep it).
 */
export function serveRequests(publisher: ThreadSidePublisher): void {
  const port = parentPort;
  if (port === null) throw new Error('serveRequests runs in a worker thread');
  const answer = (id: number, work: Promise<void>): Promise<void> =>
    work.then(
      () => port.postMessage({ kind: 'done', id } satisfies Reply),
      (err: unknown) => port.postMessage({ kind: 'failed', id, error: toWireError(err) } satisfies Reply),
    );
  port.on('message', (request: Request) => {
    switch (request.op) {
      case 'publish':
        void answer(request.id, publisher.publish(request.keys, request.values));
        break;
      case 'probe':
        void answer(request.id, publisher.probe());
        break;
      case 'close':
        void answer(request.id, publisher.close()).then(() => process.exit(0));
        break;
    }
  });
}

/**
 * A log sink that forwards to the parent's logger (which adds its fields and writes the line):
 * the thread's lines reach the service's log as the main thread's do. Fields cross as JSON
 * (kafkajs's may hold what a structured clone refuses); debug lines only when the parent logs debug.
 */
export function forwardingLog(debugEnabled: boolean): { debug(obj: object, msg: string): void; warn(obj: object, msg: string): void } {
  const send = (level: 'debug' | 'warn', obj: object, msg: string): void => {
    parentPort?.postMessage({ kind: 'log', level, json: JSON.stringify(obj, errorFields), msg } satisfies Reply);
  };
  return {
    debug: (obj, msg) => {
      if (debugEnabled) send('debug', obj, msg);
    },
    warn: (obj, msg) => send('warn', obj, msg),
  };
}

/** JSON.stringify drops an Error's own fields (non-enumerable): keep type, message and stack. */
function errorFields(_key: string, value: unknown): unknown {
  return value instanceof Error ? { type: value.name, message: value.message, stack: value.stack } : value;
}
