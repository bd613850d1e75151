import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readLaneRequest } from '../../src/http/lane-request.js';

/**
 * The lane's reader picks the headers an answer depends on by name (a switch, whatever the
 * case), skips every other one, and refuses a repeated tracked header or any header that needs
 * node's parser. Names of the same length as a tracked one must be skipped, not taken.
 */

const read = (text: string) => readLaneRequest(Buffer.from(text, 'latin1'), 16_384);
const get = (headers: string): string => `GET /a HTTP/1.1\r\n${headers}\r\n`;

test('the lane takes each tracked header in any case, once, and skips the others', () => {
  const taken = read(
    get('HOST: h\r\nAuthorization: Bearer k\r\nX-REQUEST-ID: r-1\r\ncOnNeCtIoN: keep-alive\r\nDate: d\r\nFrom: f\r\nX-Request-Ix: no\r\nContent-Typo: no\r\nAuthorizatiox: no\r\nConnectioX: no\r\n'),
  );
  assert.deepEqual(taken?.headers, { host: 'h', authorization: 'Bearer k', 'x-request-id': 'r-1', connection: 'keep-alive' });
  assert.equal(taken?.close, false);
  const post = read('POST /a HTTP/1.1\r\nhost: h\r\nCONTENT-TYPE: application/json\r\ncontent-LENGTH: 2\r\n\r\n{}');
  assert.deepEqual(post?.headers, { host: 'h', 'content-type': 'application/json', 'content-length': '2' });
  assert.equal(post?.body, '{}');
});

test('a repeated tracked header or a header for node’s parser, in any case, hands the request over', () => {
  for (const headers of [
    'Host: h\r\nhost: h\r\n',
    'Host: h\r\nAuthorization: a\r\nAUTHORIZATION: a\r\n',
    'Host: h\r\nX-Request-Id: a\r\nx-request-id: b\r\n',
    'Host: h\r\nConnection: close\r\nconnection: close\r\n',
    'Host: h\r\nContent-Type: a/json\r\nContent-Type: a/json\r\n',
    'Host: h\r\nTRANSFER-ENCODING: chunked\r\n',
    'Host: h\r\nexpect: 100-continue\r\n',
    'Host: h\r\nUpGrAdE: websocket\r\n',
  ]) {
    assert.equal(read(get(headers)), undefined, JSON.stringify(headers));
  }
});
