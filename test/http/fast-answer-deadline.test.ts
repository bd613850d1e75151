import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FastAnswer, type FastPathDeps } from '../../src/http/fast-answer.js';
import type { OwnAnswer } from '../../src/http/response-deadline.js';
import type { ResponseSink } from '../../src/http/response-sink.js';

/**
 * The response deadline watches a fast-path answer only while it waits (for its body or a
 * promise): one answered on the calling thread cannot be late, so it is never registered.
 */

function harness() {
  const calls: string[] = [];
  const sent: { status: number; body: string; bodyBytes: number; headers: [string, string][] }[] = [];
  let headers: [string, string][] = [];
  const sink: ResponseSink = {
    open: () => sent.length === 0,
    header: (name, value) => void headers.push([name, value]),
    end: (status, body, bodyBytes) => {
      sent.push({ status, body, bodyBytes, headers });
      headers = [];
    },
  };
  const deadline = { arrive: (_: OwnAnswer) => void calls.push('arrive'), leave: (_: OwnAnswer) => void calls.push('leave') };
  const deps = {
    deadline,
    httpMetrics: () => ({ observe: () => undefined }),
    logger: { error: () => undefined, warn: () => undefined },
  } as unknown as FastPathDeps;
  return { answer: new FastAnswer(sink, 'id-1', 'GET', '/r', deps), calls, sent };
}

test('an answer written on the calling thread never meets the deadline', () => {
  const { answer, calls, sent } = harness();
  answer.settle(() => '{"a":"é"}');
  assert.deepEqual(calls, []);
  assert.equal(sent[0]?.status, 200);
  assert.equal(sent[0]?.bodyBytes, 10, 'the body’s UTF-8 length');
  assert.deepEqual(sent[0]?.headers.at(-1), ['content-length', '10']);
});

test('an answer that waits for a promise is watched from then until it is sent', async () => {
  const { answer, calls, sent } = harness();
  let resolve: (value: string) => void = () => undefined;
  answer.settleLater(new Promise<string>((r) => (resolve = r)), (v) => v);
  assert.deepEqual(calls, ['arrive']);
  resolve('{}');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls, ['arrive', 'leave']);
  assert.equal(sent[0]?.status, 200);
});

test('an answer waiting for its body is watched once, and left when the request goes away', () => {
  const { answer, calls, sent } = harness();
  answer.waiting();
  answer.waiting();
  answer.dropped();
  assert.deepEqual(calls, ['arrive', 'leave']);
  assert.equal(sent.length, 0);
});
