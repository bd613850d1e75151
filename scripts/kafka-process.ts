import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Process and port helpers of the local broker scripts: which process is "our" broker (a
 * kafka.Kafka JVM running one state dir's server.properties - the only kind the scripts ever
 * signal), whether a loopback port is free, and a lock file per state dir.
 */

/** Whether `pid` exists (a process we may not signal still counts). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    const ps = spawnSync('ps', ['-p', String(pid), '-o', 'args='], { encoding: 'utf8' });
    return ps.status === 0 ? ps.stdout : '';
  }
}

const marker = (props: string): string => `kafka.Kafka ${props}`;

/** Whether `pid` is alive and is the broker of the state dir whose config is `props`. */
export function isBrokerOf(pid: number, props: string): boolean {
  return Number.isInteger(pid) && pid > 0 && alive(pid) && commandLine(pid).includes(marker(props));
}

/** Pids of every broker running `props` (also one whose pid file was lost). */
export function brokerPids(props: string): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (ps.status !== 0) return [];
  return ps.stdout
    .split('\n')
    .filter((line) => line.includes(marker(props)))
    .map((line) => Number.parseInt(line.trim(), 10))
    .filter((pid) => isBrokerOf(pid, props));
}

/** Whether nothing listens on 127.0.0.1:`port` (we can bind it). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port that is free on 127.0.0.1 right now (the OS picks it; released before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The first port the system hands out for outgoing connections (Linux; elsewhere at least 32768). */
function ephemeralLow(): number {
  try {
    const low = Number.parseInt(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'), 10);
    return Number.isInteger(low) && low > 20_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A listener port and the controller port after it, both free: `preferred` if it and the next
 * port are, else a random pair between 20000 and the system's ephemeral range. Not a port the
 * system hands out (listen on port 0): outgoing connections take those, so once a broker that
 * is stopped and restarted has let go of its ports, a client's socket could hold one of them.
 * (Another process may still take a port before the broker binds it; the start then fails
 * and says so.)
 */
export async function freePortPair(preferred?: number): Promise<number> {
  if (preferred !== undefined && (await portFree(preferred)) && (await portFree(preferred + 1))) return preferred;
  const low = 20_000;
  const span = ephemeralLow() - 1 - low;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * span);
    if ((await portFree(port)) && (await portFree(port + 1))) return port;
  }
  throw new Error(`no two consecutive free ports on 127.0.0.1 between ${low} and ${low + span + 1}`);
}

/**
 * Runs `fn` holding the lock file `path` (created exclusively, holding our pid). A lock whose
 * holder is gone is taken over; a live holder is waited for up to `timeoutMs`.
 */
export async function withLock<T>(path: string, timeoutMs: number, what: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = Number.NaN;
    try {
      holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
    } catch {
      continue; // released in between
    }
    if (!Number.isInteger(holder) || !alive(holder)) {
      try {
        unlinkSync(path);
      } catch {
        // someone else took it over first
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${what}: pid ${holder} holds ${path}`);
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}
