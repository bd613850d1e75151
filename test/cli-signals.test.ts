import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CLI, serveProcess } from './support/cli-process.js';

/**
 * What a supervisor (Docker, systemd, Kubernetes) sees: it signals the process it started and
 * expects a graceful shutdown within SHUTDOWN_TIMEOUT_MS, whatever became of stdout.
 */
const dir = mkdtempSync(join(tmpdir(), 'feature-store-signals-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const count = (text: string, re: RegExp): number => text.match(new RegExp(re.source, 'g'))?.length ?? 0;

describe('signals and shutdown', { timeout: 300_000 }, () => {
  test('SIGTERM to the npm start process reaches the service: clean shutdown, port closed, exit 0', async () => {
    const served = await serveProcess(['npm', 'start'], { SQLITE_PATH: join(dir, 'npm-start.db') });
    assert.equal(count(served.logs(), /listening/), 1, `one "listening" line:\n${served.logs()}`);
    served.child.kill('SIGTERM'); // the npm process itself, as a supervisor would
    assert.equal(await served.exited, 0, served.logs());
    assert.match(served.logs(), /"msg":"shutting down"/);
    assert.match(served.logs(), /"msg":"shut down cleanly"/);
    assert.equal(await accepts(served.port), false, 'nothing listens any more (no orphaned service)');
  });

  test('with stdout gone (serve | head) SIGTERM still shuts down cleanly', async () => {
    const served = await serveProcess([...CLI, 'serve'], { SQLITE_PATH: join(dir, 'no-stdout.db') });
    served.child.stdout?.destroy(); // the reader is gone: every later write to stdout fails with EPIPE
    await new Promise((resolve) => setTimeout(resolve, 200));
    served.child.kill('SIGTERM');
    assert.equal(await served.exited, 0, served.logs());
    assert.equal(await accepts(served.port), false);
  });

  test('a request that never completes does not hold shutdown beyond SHUTDOWN_TIMEOUT_MS', async () => {
    const served = await serveProcess([...CLI, 'serve'], { SQLITE_PATH: join(dir, 'timeout.db'), SHUTDOWN_TIMEOUT_MS: '1000' });
    const socket = connect({ host: '127.0.0.1', port: served.port });
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    // Headers and half a body, then silence: the request stays in flight.
    socket.write('POST /api/v1/items HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"meta":');
    await new Promise((resolve) => setTimeout(resolve, 200));
    served.child.kill('SIGTERM');
    assert.equal(await served.exited, 1, served.logs());
    assert.match(served.logs(), /"msg":"shutdown timed out, exiting"/);
    socket.destroy();
  });
});
