import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `feature-store` run from its TypeScript sources, as the tests run it. */
export const CLI = [process.execPath, '--import', 'tsx', 'src/cli.ts'] as const;

export interface ServedProcess {
  child: ChildProcess;
  port: number;
  /** Everything the process wrote to stdout and stderr so far. */
  logs: () => string;
  /** Resolves with the exit code (or the signal) once the process has exited. */
  exited: Promise<number | string | null>;
}

/**
 * Starts `command` (a `serve` of some kind: the CLI, `npm start`) in the project root with
 * `PORT=0` and resolves once it logs "feature store listening" with its port.
 */
export function serveProcess(command: readonly string[], env: Record<string, string>): Promise<ServedProcess> {
  const [file, ...args] = command;
  if (file === undefined) throw new Error('serveProcess: empty command');
  const child = spawn(file, args, {
    cwd: ROOT,
    env: { ...process.env, KAFKA_BROKERS: '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command.join(' ')} did not start in 120 s:\n${out}`));
    }, 120_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = /"msg":"feature store listening"/.test(out) ? /"port":(\d+)/.exec(out)?.[1] : undefined;
      if (port !== undefined) {
        clearTimeout(timer);
        resolve({ child, port: Number(port), logs: () => out, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${command.join(' ')} exited (${code}) before listening:\n${out}`));
    });
  });
}

/** Runs `feature-store <args>` to its end (events off unless `env` says otherwise); its exit code and output. */
export function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [file, ...cliArgs] = CLI;
  const child = spawn(file, [...cliArgs, ...args], {
    cwd: ROOT,
    env: { ...process.env, KAFKA_BROKERS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}
