import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { awaitBroker } from './kafka-admin.js';
import { brokerLog4j, clusterId, listenerPort, serverProperties, TOOLS_LOG4J } from './kafka-config.js';
import { findJava, kafkaClasspath, run } from './kafka-java.js';
import { alive, brokerPids, freePortPair, isBrokerOf, portFree, withLock } from './kafka-process.js';

/**
 * A real single-node Apache Kafka 4.x broker (KRaft, combined broker + controller, no
 * ZooKeeper, no Docker) on 127.0.0.1, for tests and local use. Its jars come from Maven Central
 * (cached outside the repo); its data, logs, config and pid file live in the state dir. A
 * broker is identified by its state dir: these functions only ever signal the kafka.Kafka
 * process running that dir's server.properties.
 */

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_KAFKA_VERSION = '4.4.0';
export const DEFAULT_PORT = 19092;

export interface BrokerOptions {
  stateDir: string;
  /** Listener port; must be free unless this state dir's broker already runs on it. */
  port?: number;
  /** Tried when `port` is not given and the state dir has no running broker; if it (or the next port) is busy, a free pair is picked. */
  preferredPort?: number;
  /** KRaft controller port (default `port + 1`). */
  controllerPort?: number;
  /** Created if missing (also on a broker that is already running). */
  topics?: readonly string[];
  /** Partitions of created topics (default 3; replication is 1). */
  partitions?: number;
  startTimeoutMs?: number;
  version?: string;
  /** Classpath cache (default ~/.cache/feature-store/kafka-<version>). */
  cacheDir?: string;
  heapOpts?: string;
  jvmOpts?: string;
  java?: string;
  javaHome?: string;
  /** Progress lines (default: stderr, prefixed `[kafka]`). */
  log?: (line: string) => void;
}

export interface StopOptions {
  /** Seconds-long grace after SIGTERM before SIGKILL (default 30 s). */
  timeoutMs?: number;
  /** Also delete the state dir (topics, data, logs). */
  wipe?: boolean;
  log?: (line: string) => void;
}

export interface Broker {
  /** `127.0.0.1:<port>`, the value for KAFKA_BROKERS. */
  brokers: string;
  port: number;
  controllerPort: number;
  pid: number;
  stateDir: string;
  /** False when this state dir's broker was already running (this call only checked it and its topics). */
  started: boolean;
  stop(options?: StopOptions): Promise<void>;
}

const stderrLog = (line: string): void => void process.stderr.write(`[kafka] ${line}\n`);
const splitWords = (value: string): string[] => value.split(/\s+/).filter((w) => w !== '');

function paths(stateDir: string) {
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  const dir = realpathSync(stateDir);
  return { dir, pidFile: join(dir, 'kafka.pid'), props: join(dir, 'server.properties'), data: join(dir, 'data'), logs: join(dir, 'logs') };
}

function readPid(pidFile: string): number {
  try {
    return Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
  } catch {
    return Number.NaN;
  }
}

function logTail(logs: string): string {
  return ['server.log', 'kafka.out']
    .map((name) => join(logs, name))
    .filter((file) => existsSync(file))
    .map((file) => `----- end of ${file} -----\n${readFileSync(file, 'utf8').trimEnd().split('\n').slice(-60).join('\n')}`)
    .join('\n');
}

/**
 * Starts the broker of `options.stateDir`, or - if it is running already - checks that it
 * answers; either way creates the missing `topics`. Resolves once the broker answers kafkajs's
 * admin client. One start at a time per state dir.
 */
export async function startBroker(options: BrokerOptions): Promise<Broker> {
  const log = options.log ?? stderrLog;
  const version = options.version ?? DEFAULT_KAFKA_VERSION;
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const topics = options.topics ?? [];
  const partitions = options.partitions ?? 3;
  for (const topic of topics) if (!/^[A-Za-z0-9._-]+$/.test(topic)) throw new Error(`invalid topic name '${topic}'`);
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error('partitions must be a positive number');
  const p = paths(options.stateDir);
  const handle = (port: number, controllerPort: number, pid: number, started: boolean): Broker => ({
    brokers: `127.0.0.1:${port}`,
    port,
    controllerPort,
    pid,
    stateDir: p.dir,
    started,
    stop: (stop) => stopBroker(p.dir, { log, ...stop }),
  });

  return withLock(join(p.dir, '.start.lock'), timeoutMs + 120_000, `another start of the broker in ${p.dir}`, async () => {
    const running = readPid(p.pidFile);
    if (isBrokerOf(running, p.props)) {
      const port = listenerPort(readFileSync(p.props, 'utf8'));
      if (port === undefined) throw new Error(`broker pid ${running} runs, but ${p.props} names no listener`);
      if (options.port !== undefined && options.port !== port) {
        throw new Error(`the broker of ${p.dir} already runs (pid ${running}) on port ${port}, not ${options.port}; stop it first`);
      }
      log(`broker already running (pid ${running}), checking it answers on 127.0.0.1:${port} ...`);
      const ready = await awaitBroker(`127.0.0.1:${port}`, { timeoutMs, topics, partitions, gone: () => !alive(running) });
      for (const topic of ready.created) log(`created topic ${topic} (${partitions} partitions)`);
      const controller = /controller\.quorum\.voters=1@127\.0\.0\.1:(\d+)/.exec(readFileSync(p.props, 'utf8'))?.[1];
      return handle(port, Number(controller ?? port + 1), running, false);
    }
    rmSync(p.pidFile, { force: true });
    const orphans = brokerPids(p.props);
    if (orphans.length > 0) throw new Error(`a broker of ${p.dir} runs as pid ${orphans.join(', ')} without pid file; stop it first`);

    const port = options.port ?? (await freePortPair(options.preferredPort));
    const controllerPort = options.controllerPort ?? port + 1;
    if (port === controllerPort) throw new Error('the listener and controller ports must differ');
    if (!(await portFree(port))) throw new Error(`127.0.0.1:${port} is already in use by another process`);
    if (!(await portFree(controllerPort))) throw new Error(`127.0.0.1:${controllerPort} (controller) is already in use by another process`);

    const java = findJava(options.java, options.javaHome, version);
    const cacheDir = options.cacheDir ?? join(homedir(), '.cache', 'feature-store', `kafka-${version}`);
    const libs = await kafkaClasspath(cacheDir, version, join(PROJECT_ROOT, 'scripts', 'kafka', 'pom.xml'), log);
    const classpath = join(libs, '*');
    const toolsLog4j = join(p.dir, 'tools-log4j2.properties');
    const brokerLog4jFile = join(p.dir, 'log4j2.properties');
    writeFileSync(p.props, serverProperties(port, controllerPort, p.data));
    writeFileSync(toolsLog4j, TOOLS_LOG4J);
    writeFileSync(brokerLog4jFile, brokerLog4j(p.logs));

    if (!existsSync(join(p.data, 'meta.properties'))) {
      log(`formatting KRaft storage in ${p.data} ...`);
      const id = clusterId();
      const format = await run(java, [`-Dlog4j2.configurationFile=${toolsLog4j}`, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', id, '-c', p.props, '--ignore-formatted']);
      if (format.code !== 0) throw new Error(`kafka-storage format failed:\n${format.stderr}${format.stdout}`);
      writeFileSync(join(p.dir, 'cluster-id'), `${id}\n`);
    }

    log(`starting Kafka ${version} on 127.0.0.1:${port} (controller 127.0.0.1:${controllerPort}), state ${p.dir}`);
    const out = openSync(join(p.logs, 'kafka.out'), 'a');
    const child = spawn(
      java,
      [
        ...splitWords(options.heapOpts ?? '-Xms256m -Xmx512m'),
        ...['-server', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true'],
        `-Dlog4j2.configurationFile=${brokerLog4jFile}`,
        `-Dkafka.logs.dir=${p.logs}`,
        ...splitWords(options.jvmOpts ?? ''),
        ...['-cp', classpath, 'kafka.Kafka', p.props],
      ],
      // Its own session: the broker outlives this process (and a Ctrl-C in its terminal).
      { detached: true, stdio: ['ignore', out, out] },
    );
    closeSync(out);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${java}`);
    child.unref();
    writeFileSync(p.pidFile, `${pid}\n`);
    log(`broker pid ${pid}; waiting up to ${Math.round(timeoutMs / 1000)} s for it to answer ...`);

    const t0 = Date.now();
    try {
      const ready = await awaitBroker(`127.0.0.1:${port}`, { timeoutMs, topics, partitions, gone: () => !alive(pid) });
      log(`broker ready after ${((Date.now() - t0) / 1000).toFixed(1)} s (cluster ${ready.clusterId})`);
      for (const topic of ready.created) log(`created topic ${topic} (${partitions} partitions)`);
    } catch (err) {
      await stopBroker(p.dir, { log, timeoutMs: 10_000 }).catch(() => undefined);
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logTail(p.logs)}`);
    }
    return handle(port, controllerPort, pid, true);
  });
}

/**
 * Stops the broker of `stateDir`: SIGTERM (controlled shutdown), then SIGKILL after
 * `timeoutMs`; removes the pid file. Nothing running is not an error.
 */
export async function stopBroker(stateDir: string, options: StopOptions = {}): Promise<void> {
  const log = options.log ?? stderrLog;
  if (!existsSync(stateDir)) {
    log(`no state dir ${stateDir}: nothing running`);
    return;
  }
  const p = paths(stateDir);
  const pids = new Set(brokerPids(p.props));
  const fromFile = readPid(p.pidFile);
  if (isBrokerOf(fromFile, p.props)) pids.add(fromFile);
  if (pids.size === 0) log(`no broker running for ${p.dir}`);
  for (const pid of pids) {
    log(`stopping broker pid ${pid} (SIGTERM, up to ${Math.round((options.timeoutMs ?? 30_000) / 1000)} s) ...`);
    process.kill(pid, 'SIGTERM');
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (const pid of pids) {
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    if (alive(pid)) {
      log(`pid ${pid} still alive: SIGKILL`);
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
    }
    if (alive(pid)) throw new Error(`broker pid ${pid} did not exit`);
    log(`broker pid ${pid} stopped`);
  }
  rmSync(p.pidFile, { force: true });
  if (options.wipe === true) {
    if (['/', homedir(), PROJECT_ROOT, realpathSync(PROJECT_ROOT)].includes(p.dir)) throw new Error(`refusing to wipe ${p.dir}`);
    log(`wiping state dir ${p.dir}`);
    rmSync(p.dir, { recursive: true, force: true });
  }
}
