import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { baseEnv, freePort, runCommand, spawnChild, stopChild, tail, waitForHttp, type Child } from './procs.js';

/**
 * Starting the feature store as a separate process, exactly as production does
 * (`node dist/src/cli.js serve`), or from source through tsx when the build failed.
 */
export interface ServiceCommand {
  /** Arguments to `node` before the CLI command, e.g. `['dist/src/cli.js']`. */
  args: string[];
  origin: string;
  /** URL of the SQLite store module the seeding uses: the built one with the built service. */
  sqliteStoreModule: string;
}

export interface RunningService {
  child: Child;
  url: string;
  port: number;
  name: string;
}

/**
 * Builds once with `npm run build`. If the build fails (colleagues' work in progress), the
 * service runs from source via tsx instead and the report says so.
 */
export async function buildService(root: string): Promise<{ command: ServiceCommand; buildMs: number; buildError?: string }> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = await runCommand(npm, ['run', 'build', '--silent'], {
    cwd: root,
    env: baseEnv({}),
    timeoutMs: 300_000,
  });
  const built = join(root, 'dist', 'src', 'cli.js');
  if (result.code === 0 && existsSync(built)) {
    return {
      command: {
        args: [built],
        origin: 'node dist/src/cli.js serve (built by npm run build)',
        sqliteStoreModule: pathToFileURL(join(root, 'dist', 'src', 'store', 'sqlite', 'index.js')).href,
      },
      buildMs: result.ms,
    };
  }
  const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(0, 15).join('\n');
  return {
    command: {
      args: ['--import', 'tsx', join(root, 'src', 'cli.ts')],
      origin: 'node --import tsx src/cli.ts serve (npm run build FAILED, ran from source)',
      sqliteStoreModule: pathToFileURL(join(root, 'src', 'store', 'sqlite', 'index.ts')).href,
    },
    buildMs: result.ms,
    buildError: `npm run build exited ${result.code}:\n${output}`,
  };
}

/**
 * Starts `feature-store serve` on a free port with `env` (plus PORT/HOST/LOG_LEVEL) and waits
 * for /api/v1/health to answer 200. On failure the process is stopped and the reason returned.
 */
export async function startService(
  name: string,
  command: ServiceCommand,
  env: Record<string, string>,
  options: { root: string; logDir: string; nodeArgs?: string[]; readyTimeoutMs?: number },
): Promise<{ service: RunningService } | { reason: string }> {
  // The port is free when chosen but not reserved: on a shared machine another process may
  // take it first. The service then exits (EADDRINUSE) while the other one answers the health
  // check, so a start counts only if the child still runs a moment after it; else, a new port.
  for (let attempt = 1; ; attempt++) {
    const r = await startOnce(name, command, env, options);
    if ('reason' in r) return r;
    await sleep(500);
    if (r.service.child.exitStatus() === undefined) return r;
    if (attempt >= 3) return { reason: `${name} exited right after its port answered (${String(r.service.child.exitStatus())}), ${attempt} times:\n${tail(r.service.child.logPath, 5)}` };
  }
}

async function startOnce(
  name: string,
  command: ServiceCommand,
  env: Record<string, string>,
  options: { root: string; logDir: string; nodeArgs?: string[]; readyTimeoutMs?: number },
): Promise<{ service: RunningService } | { reason: string }> {
  const port = await freePort();
  const logPath = join(options.logDir, `${name}.log`);
  const child = spawnChild(name, process.execPath, [...(options.nodeArgs ?? []), ...command.args, 'serve'], {
    cwd: options.root,
    env: baseEnv({ HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env, PORT: String(port) }),
    logPath,
  });
  const url = `http://127.0.0.1:${port}`;
  const problem = await waitForHttp(`${url}/api/v1/health`, child, options.readyTimeoutMs ?? 30_000);
  if (problem !== undefined) {
    await stopChild(child);
    return { reason: `${problem}\n--- last lines of ${name}.log ---\n${tail(logPath, 15)}` };
  }
  return { service: { child, url, port, name } };
}
