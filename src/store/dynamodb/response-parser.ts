/**
 * An HTTP/1.1 response read incrementally from a socket's chunks (http-client.ts): the status
 * line, the headers (names lower-cased; a repeated header's values joined with ", ", as node:http
 * joins them; obsolete line folding unfolded), and the body by Content-Length, by chunked
 * transfer-encoding (trailers read and dropped), or, with neither, up to the server's close.
 * Informational (1xx) responses are skipped. A malformed response throws `ResponseParseError`;
 * the connection it came on must then be destroyed.
 */
export class ResponseParseError extends Error {
  readonly code = 'HPE_INVALID_RESPONSE';
}

/** Bounds a head (status line and headers), as node:http does (16 KiB by default). */
const MAX_HEAD_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

type Phase = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'done';

export class ResponseParser {
  statusCode = 0;
  headers: Record<string, string> = {};
  /** Whether the connection may serve another request after this response (HTTP/1.1 without `Connection: close`). */
  keepAlive = true;
  /** Bytes received after the end of the response: the server sent something unrequested. */
  excess = false;
  private phase: Phase = 'head';
  private pending: Buffer | undefined;
  private remaining = 0;
  private readonly body: Buffer[] = [];

  /** Whether the status line and headers of the (final) response have arrived. */
  get headComplete(): boolean {
    return this.phase !== 'head';
  }

  get complete(): boolean {
    return this.phase === 'done';
  }

  /** The whole body, once `complete`. */
  bodyBuffer(): Buffer {
    return this.body.length === 1 ? (this.body[0] as Buffer) : Buffer.concat(this.body);
  }

  /** Reads `chunk`; returns `complete`. */
  push(chunk: Buffer): boolean {
    let data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    while (data.length > 0) {
      if (this.phase === 'done') {
        this.excess = true;
        return true;
      }
      const used = this.step(data);
      if (used < 0) {
        this.pending = data;
        break;
      }
      data = data.subarray(used);
    }
    return this.phase === 'done';
  }

  /** The server closed the connection: completes a body read up to the close; returns `complete`. */
  end(): boolean {
    if (this.phase === 'until-close') this.phase = 'done';
    return this.phase === 'done';
  }

  /** Consumes from `data`; returns the bytes used, or -1 when it needs more bytes than `data` has. */
  private step(data: Buffer): number {
    switch (this.phase) {
      case 'head': {
        const end = data.indexOf(HEAD_END);
        if (end < 0) {
          if (data.length > MAX_HEAD_BYTES) throw new ResponseParseError('DynamoDB sent response headers longer than 16 KiB');
          return -1;
        }
        this.head(data.toString('latin1', 0, end));
        return end + 4;
      }
      case 'length':
      case 'chunk-data': {
        const n = Math.min(this.remaining, data.length);
        this.body.push(n === data.length ? data : data.subarray(0, n));
        this.remaining -= n;
        if (this.remaining === 0) this.phase = this.phase === 'length' ? 'done' : 'chunk-end';
        return n;
      }
      case 'until-close':
        this.body.push(data);
        return data.length;
      case 'chunk-size': {
        const line = this.line(data);
        if (line === undefined) return -1;
        const hex = (line.text.split(';', 1)[0] as string).trim();
        if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw new ResponseParseError(`DynamoDB sent an invalid chunk size: ${JSON.stringify(hex)}`);
        this.remaining = parseInt(hex, 16);
        this.phase = this.remaining === 0 ? 'trailers' : 'chunk-data';
        return line.used;
      }
      case 'chunk-end': {
        if (data.length < 2) return -1;
        if (data[0] !== 13 || data[1] !== 10) throw new ResponseParseError('DynamoDB sent a chunk without its closing CRLF');
        this.phase = 'chunk-size';
        return 2;
      }
      case 'trailers': {
        const line = this.line(data);
        if (line === undefined) return -1;
        if (line.text === '') this.phase = 'done';
        return line.used;
      }
      case 'done':
        return 0;
    }
  }

  private line(data: Buffer): { text: string; used: number } | undefined {
    const end = data.indexOf(CRLF);
    if (end < 0) {
      if (data.length > MAX_HEAD_BYTES) throw new ResponseParseError('DynamoDB sent a line longer than 16 KiB');
      return undefined;
    }
    return { text: data.toString('latin1', 0, end), used: end + 2 };
  }

  private head(text: string): void {
    const lines = text.split('\r\n');
    const status = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0] as string);
    if (status === null) throw new ResponseParseError(`DynamoDB sent an invalid status line: ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string> = {};
    let last: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.startsWith(' ') || line.startsWith('\t')) {
        // Obsolete line folding (RFC 9112 §5.2): a continuation of the previous header's value.
        if (last === undefined) throw new ResponseParseError('DynamoDB sent a folded line before any header');
        headers[last] = `${headers[last] as string} ${line.trim()}`.trim();
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) throw new ResponseParseError(`DynamoDB sent an invalid header line: ${JSON.stringify(line)}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      last = name;
    }
    const statusCode = Number(status[2]);
    if (statusCode >= 100 && statusCode < 200) return; // an interim answer; the final one follows (phase stays 'head')
    this.statusCode = statusCode;
    this.headers = headers;
    const connection = (headers.connection ?? '').toLowerCase();
    this.keepAlive = status[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const coding = headers['transfer-encoding'];
    if (statusCode === 204 || statusCode === 304) {
      this.phase = 'done';
    } else if (coding !== undefined) {
      if (!/(?:^|,)\s*chunked\s*$/i.test(coding)) throw new ResponseParseError(`DynamoDB sent an unsupported transfer-encoding: ${coding}`);
      this.phase = 'chunk-size';
    } else if (headers['content-length'] !== undefined) {
      const length = headers['content-length'];
      if (!/^\d{1,15}$/.test(length)) throw new ResponseParseError(`DynamoDB sent an invalid content-length: ${length}`);
      this.remaining = Number(length);
      this.phase = this.remaining === 0 ? 'done' : 'length';
    } else {
      this.phase = 'until-close';
      this.keepAlive = false;
    }
  }
}
