import type { ServerResponse } from 'node:http';

/**
 * Where a fast-path answer (fast-answer.ts) is written: a node:http `ServerResponse` for requests
 * node's parser read, or a lane connection's socket (lane.ts) for the ones the lane read. The
 * answer sets its headers in sending order, then ends with the status and body; the sink adds
 * what the connection decides (node:http's `Date`, `Connection` and `Keep-Alive`).
 */
export interface ResponseSink {
  /** Whether an answer can still be written: nothing written yet and the connection open. */
  open(): boolean;
  /** One header, lower-case name, in the order it is sent. */
  header(name: string, value: string): void;
  /** Writes the status line, the headers so far and `body` (`bodyBytes` long in UTF-8): the whole response. */
  end(status: number, body: string, bodyBytes: number): void;
}

/** The sink of a request node:http parsed: its `ServerResponse`. */
export class ServerResponseSink implements ResponseSink {
  readonly #headers: Record<string, string> = {};

  constructor(readonly res: ServerResponse) {}

  open(): boolean {
    return !this.res.headersSent && !this.res.destroyed;
  }

  header(name: string, value: string): void {
    this.#headers[name] = value;
  }

  end(status: number, body: string): void {
    this.res.writeHead(status, this.#headers);
    this.res.end(body);
  }
}
