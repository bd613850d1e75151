import net from 'node:net';
import tls from 'node:tls';

/** What a connection's current request listens to; an idle connection has none. */
export interface ConnectionOwner {
  data(chunk: Buffer): void;
  /** The connection ended, broke or closed (`err` when it broke). */
  closed(err: Error | undefined): void;
}

/**
 * One keep-alive TCP connection to an endpoint. Its socket's listeners are set once and pass
 * events to the request that holds the connection; while idle, any event (bytes, the server's
 * close, an error) or the idle time limit destroys it, so only a connection that is known alive
 * serves the next request.
 */
export class Connection {
  owner: ConnectionOwner | undefined;
  /** Whether this connection served a request before the current one. */
  reused = false;
  private alive = true;

  constructor(
    readonly socket: net.Socket,
    private readonly pool: ConnectionPool,
    readonly key: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => (this.owner === undefined ? this.destroy() : this.owner.data(chunk)));
    socket.on('end', () => this.gone(undefined));
    socket.on('error', (err: Error) => this.gone(err));
    socket.on('close', () => {
      this.alive = false;
      this.pool.forget(this);
      this.owner?.closed(undefined);
    });
    // Set only while idle (ConnectionPool.release).
    socket.on('timeout', () => this.destroy());
  }

  get usable(): boolean {
    return this.alive && !this.socket.destroyed && this.socket.writable;
  }

  destroy(): void {
    this.alive = false;
    this.socket.destroy();
  }

  private gone(err: Error | undefined): void {
    this.alive = false;
    if (this.owner === undefined) this.destroy();
    else this.owner.closed(err);
  }
}

interface Waiter {
  key: string;
  endpoint: Endpoint;
  give(connection: Connection): void;
}

/** Where a connection goes: `secure` is TLS (an https endpoint; `host` is then also the server name checked against its certificate). */
export interface Endpoint {
  host: string;
  port: number;
  secure: boolean;
}

/**
 * Keep-alive connections per endpoint (scheme, host and port), at most `maxSockets` open per endpoint
 * (`DYNAMODB_MAX_SOCKETS`, as the agents bound them); a request beyond that waits for a free one,
 * in order. A connection serves one request at a time. Idle connections are unreferenced (they do
 * not keep the process alive, as node:http's agent leaves them) and closed after `idleMs`, or a
 * second before the server's `Keep-Alive: timeout=N` hint, as node:http's agent does. TLS
 * connections resume the endpoint's last TLS session when they can (node:https's agent does so
 * too), and offer only HTTP/1.1 by ALPN; `tlsOptions` (a test's own CA) apply to each.
 */
export class ConnectionPool {
  private readonly idle = new Map<string, Connection[]>();
  private readonly open = new Map<string, number>();
  private readonly waiters: Waiter[] = [];
  private closed = false;

  constructor(
    private readonly maxSockets: number,
    private readonly idleMs: number,
    private readonly tlsOptions: tls.ConnectionOptions = {},
  ) {}
  private readonly sessions = new Map<string, Buffer>();

  /** Gives `give` a connection now or when one frees up; returns a function that withdraws the wait. */
  acquire(endpoint: Endpoint, give: (connection: Connection) => void): () => void {
    const key = `${endpoint.secure ? 'https' : 'http'}://${endpoint.host}:${endpoint.port}`;
    const idle = this.idle.get(key);
    while (idle !== undefined && idle.length > 0) {
      const connection = idle.pop() as Connection;
      if (!connection.usable) {
        connection.destroy();
        continue;
      }
      connection.socket.setTimeout(0);
      connection.socket.ref();
      connection.reused = true;
      give(connection);
      return noop;
    }
    if ((this.open.get(key) ?? 0) < this.maxSockets) {
      give(this.connect(key, endpoint));
      return noop;
    }
    const waiter: Waiter = { key, endpoint, give };
    this.waiters.push(waiter);
    return () => {
      const at = this.waiters.indexOf(waiter);
      if (at >= 0) this.waiters.splice(at, 1);
    };
  }

  /** Returns a connection whose response was read whole; `hintSeconds` is the server's Keep-Alive timeout hint. */
  release(connection: Connection, hintSeconds: number | undefined): void {
    connection.owner = undefined;
    if (this.closed || !connection.usable) {
      connection.destroy();
      return;
    }
    const waiter = this.takeWaiter(connection.key);
    if (waiter !== undefined) {
      connection.reused = true;
      waiter.give(connection);
      return;
    }
    let idleMs = this.idleMs;
    if (hintSeconds !== undefined) {
      const byHint = hintSeconds * 1000 - 1000;
      if (byHint <= 0) {
        connection.destroy();
        return;
      }
      idleMs = Math.min(idleMs, byHint);
    }
    connection.socket.setTimeout(idleMs);
    connection.socket.unref();
    const idle = this.idle.get(connection.key);
    if (idle === undefined) this.idle.set(connection.key, [connection]);
    else idle.push(connection);
  }

  /** A connection closed: it leaves the pool, and a waiting request gets a new one. */
  forget(connection: Connection): void {
    this.open.set(connection.key, (this.open.get(connection.key) ?? 1) - 1);
    const idle = this.idle.get(connection.key);
    const at = idle?.indexOf(connection) ?? -1;
    if (at >= 0) idle?.splice(at, 1);
    if (this.closed) return;
    const waiter = this.takeWaiter(connection.key);
    if (waiter !== undefined) waiter.give(this.connect(waiter.key, waiter.endpoint));
  }

  /** Closes every idle connection and refuses to keep any more (the clients are being destroyed). */
  close(): void {
    this.closed = true;
    for (const idle of this.idle.values()) for (const connection of [...idle]) connection.destroy();
  }

  private connect(key: string, { host, port, secure }: Endpoint): Connection {
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    if (!secure) return new Connection(net.connect({ host, port }), this, key);
    const session = this.sessions.get(key);
    const socket = tls.connect({
      ...this.tlsOptions,
      host,
      port,
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
      ALPNProtocols: ['http/1.1'],
      ...(session === undefined ? {} : { session }),
    });
    socket.on('session', (ticket: Buffer) => this.sessions.set(key, ticket));
    return new Connection(socket, this, key);
  }

  private takeWaiter(key: string): Waiter | undefined {
    const at = this.waiters.findIndex((w) => w.key === key);
    return at < 0 ? undefined : this.waiters.splice(at, 1)[0];
  }
}

function noop(): void {}
