import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { Runtime } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import { eventually } from '../support/kafka-service.js';
import { client, startService } from '../support/service.js';

/** A real StatsD listener: every line of every UDP packet received. */
async function listener(): Promise<{ socket: Socket; port: number; lines: string[] }> {
  const socket = createSocket('udp4');
  const lines: string[] = [];
  socket.on('message', (msg) => lines.push(...msg.toString('utf8').split('\n')));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, port: socket.address().port, lines };
}

for (const backend of BACKENDS) describe(`legacy StatsD metrics (${backend.name})`, () => {
  const id = `statsd-${randomUUID().slice(0, 8)}`;
  let udp: Awaited<ReturnType<typeof listener>>;
  let instance: BackendInstance;
  let runtime: Runtime;

  before(async () => {
    udp = await listener();
    instance = await backend.setup();
    runtime = await startService(instance, { env: { STATSD_HOST: '127.0.0.1', STATSD_PORT: String(udp.port), STATSD_PREFIX: 'fs_test' } });
  });

  after(async () => {
    await runtime?.close();
    await instance?.teardown();
    udp?.socket.close();
  });

  test('the old names, tags and wire format; bounded tags only', async () => {
    const http = client(runtime.url);
    const write = (category: string) =>
      http.post('/api/v1/items', {
        meta: { source: 'prediction_service' },
        data: { entity_type: 'bright_uid', entity_value: id, category, features: { a: 1, b: 2 } },
      });
    assert.equal((await write('d0_unauth_features')).status, 200);
    assert.equal((await write('not_allowed_category')).status, 400);
    assert.equal((await http.get(`/api/v1/get/item/${id}/d0_unauth_features`)).status, 200);
    assert.equal((await http.get(`/api/v1/get/item/${id}?category=ncr_unauth_features`)).status, 404);
    const multi = await http.post('/api/v1/get/items', {
      meta: { source: 'x' },
      data: { entity_type: 'bright_uid', entity_value: `${id}-none`, feature_list: ['d0_unauth_features:*'] },
    });
    assert.equal(multi.status, 200);
    assert.equal((await http.post('/api/v1/items', { meta: {} })).status, 422);

    const expected = [
      'fs_test.http.request.count,method=POST,path=/api/v1/items,status_code=200,status_category=2xx:1|c',
      'fs_test.http.success.count,method=POST,path=/api/v1/items,status_code=200,status_category=2xx:1|c',
      'fs_test.http.endpoint.count,method=POST,path=/api/v1/items,status_code=200,status_category=2xx,endpoint=items:1|c',
      'fs_test.http.api_version.count,method=POST,path=/api/v1/items,status_code=200,status_category=2xx,api_version=v1:1|c',
      'fs_test.write.single_category.success,entity_type=bright_uid,category=d0_unauth_features:1|c',
      'fs_test.http.error.count,method=POST,path=/api/v1/items,status_code=400,status_category=4xx,error_type=bad_request:1|c',
      'fs_test.write.single_category.error,entity_type=bright_uid,category=other:1|c',
      'fs_test.http.endpoint.count,method=GET,path=/api/v1/get/item/{entity_value}/{category},status_code=200,status_category=2xx,endpoint=get_item:1|c',
      'fs_test.read.single_item.success,entity_type=bright_uid,category=d0_unauth_features:1|c',
      'fs_test.http.error.count,method=GET,path=/api/v1/get/item/{entity_value},status_code=404,status_category=4xx,error_type=not_found:1|c',
      'fs_test.read.single_item.not_found,entity_type=bright_uid,category=ncr_unauth_features:1|c',
      'fs_test.http.endpoint.count,method=POST,path=/api/v1/get/items,status_code=200,status_category=2xx,endpoint=get_items:1|c',
      'fs_test.read.multi_category.success,entity_type=bright_uid:1|c',
      'fs_test.read.multi_category.not_found,entity_type=bright_uid:1|c',
      'fs_test.http.error.count,method=POST,path=/api/v1/items,status_code=422,status_category=4xx,error_type=validation_error:1|c',
      ...(backend.type === 'dynamodb'
        ? [
            'fs_test.dynamodb.update_item.success,category=d0_unauth_features,table_type=bright_uid:1|c',
            'fs_test.dynamodb.update_item.feature_count,category=d0_unauth_features,table_type=bright_uid:2|g',
            'fs_test.dynamodb.get_item.found,category=d0_unauth_features,table_type=bright_uid:1|c',
            'fs_test.dynamodb.get_item.not_found,category=ncr_unauth_features,table_type=bright_uid:1|c',
          ]
        : []),
    ];
    await eventually(() => expected.every((l) => udp.lines.includes(l)), 10_000, 'the expected StatsD lines').catch(() => undefined);
    assert.deepEqual(expected.filter((l) => !udp.lines.includes(l)), [], `missing lines; received:\n${udp.lines.join('\n')}`);

    const timings = udp.lines.filter((l) => l.includes('.duration'));
    assert.ok(timings.length >= 6 && timings.every((l) => /:\d+(\.\d{1,3})?\|ms$/.test(l)), timings.join('\n'));
    assert.ok(udp.lines.some((l) => l.startsWith('fs_test.write.single_category.duration,entity_type=bright_uid,category=d0_unauth_features:')), `udp.lines.some((l) => l.startsWith('fs_test.write.single_category.duration,entity_type=bright_uid,category=d0_unauth_features:'))`);
    for (const line of udp.lines) {
      assert.match(line, /^fs_test\.[a-z_.]+(,[a-z_]+=[^,=:|\s]+)*:-?[\d.]+\|(c|ms|g)$/, 'the line format');
      assert.ok(!line.includes(id), `no entity value in a line: ${line}`);
      assert.ok(!line.includes('client_ip') && !line.includes('127.0.0.1'), `no client address: ${line}`);
    }
    if (backend.type !== 'dynamodb') assert.ok(!udp.lines.some((l) => l.includes('.dynamodb.')), 'store metrics only for DynamoDB');
  });
});
