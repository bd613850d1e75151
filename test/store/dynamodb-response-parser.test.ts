import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResponseParser, ResponseParseError } from '../../src/store/dynamodb/response-parser.js';

/**
 * The lean client's response parser (response-parser.ts): every response read whole however
 * the socket splits it, chunked bodies, repeated and folded headers, keep-alive decisions, and
 * a close before the end of the response.
 */
const JSON_BODY = '{"Item":{"bright_uid":{"S":"u-1"},"data":{"S":"é"}}}';
const BY_LENGTH = `HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: R1\r\nContent-Length: ${Buffer.byteLength(JSON_BODY)}\r\n\r\n${JSON_BODY}`;
const CHUNKED = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-amz-json-1.0\r\n\r\n10;ext=1\r\n${JSON_BODY.slice(0, 16)}\r\n${(Buffer.byteLength(JSON_BODY) - 16).toString(16)}\r\n${JSON_BODY.slice(16)}\r\n0\r\nX-Trailer: t\r\n\r\n`;

/** Parses `text` fed in the given pieces; returns the parser. */
function parse(pieces: Buffer[]): ResponseParser {
  const parser = new ResponseParser();
  let complete = false;
  for (const piece of pieces) {
    assert.equal(complete, false, 'no bytes after the response was complete');
    complete = parser.push(piece);
  }
  assert.equal(complete, true);
  return parser;
}

/** Every split of `text` in two, and the whole of it one byte at a time. */
function splits(text: string): Buffer[][] {
  const bytes = Buffer.from(text, 'utf8');
  const out: Buffer[][] = [[bytes]];
  for (let at = 1; at < bytes.length; at++) out.push([bytes.subarray(0, at), bytes.subarray(at)]);
  out.push([...bytes].map((b) => Buffer.from([b])));
  return out;
}

describe('DynamoDB response parser', () => {
  for (const [name, text] of [
    ['Content-Length', BY_LENGTH],
    ['chunked', CHUNKED],
  ] as const) {
    test(`a ${name} response split at every byte boundary reads whole`, () => {
      for (const pieces of splits(text)) {
        const parser = parse(pieces);
        assert.equal(parser.statusCode, 200);
        assert.equal(parser.headers['content-type'], 'application/x-amz-json-1.0');
        assert.equal(parser.bodyBuffer().toString('utf8'), JSON_BODY);
        assert.equal(parser.keepAlive, true);
        assert.equal(parser.excess, false);
      }
    });
  }

  test('header names are lower-cased, repeated headers joined, folded lines unfolded', () => {
    const parser = parse([Buffer.from('HTTP/1.1 400 Bad Request\r\nX-Amzn-ErrorType: A\r\nx-amzn-errortype: B\r\nX-Folded: one\r\n  two\r\n\tthree\r\nContent-Length: 2\r\n\r\n{}')]);
    assert.equal(parser.statusCode, 400);
    assert.deepEqual(parser.headers, { 'x-amzn-errortype': 'A, B', 'x-folded': 'one two three', 'content-length': '2' });
  });

  test('Connection: close and HTTP/1.0 without keep-alive end the connection; the Keep-Alive header stays readable', () => {
    assert.equal(parse([Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')]).keepAlive, false);
    assert.equal(parse([Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')]).keepAlive, false);
    const kept = parse([Buffer.from('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n')]);
    assert.equal(kept.keepAlive, true);
    assert.equal(kept.headers['keep-alive'], 'timeout=5');
  });

  test('an interim 100 Continue is skipped; the final response is read', () => {
    const parser = parse([Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}')]);
    assert.equal(parser.statusCode, 200);
    assert.equal(parser.bodyBuffer().toString(), '{}');
  });

  test('bytes after the response are marked as excess (the connection must not be reused)', () => {
    const parser = new ResponseParser();
    assert.equal(parser.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1')), true);
    assert.equal(parser.excess, true);
  });

  test('a body without length or chunking is read up to the close', () => {
    const parser = new ResponseParser();
    assert.equal(parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\n{"a"')), false);
    assert.equal(parser.push(Buffer.from(':1}')), false);
    assert.equal(parser.end(), true);
    assert.equal(parser.keepAlive, false);
    assert.equal(parser.bodyBuffer().toString(), '{"a":1}');
  });

  test('a close before the end of the response leaves it incomplete, at every byte boundary', () => {
    for (const text of [BY_LENGTH, CHUNKED]) {
      const bytes = Buffer.from(text, 'utf8');
      for (let at = 0; at < bytes.length; at++) {
        const parser = new ResponseParser();
        assert.equal(parser.push(bytes.subarray(0, at)), false);
        assert.equal(parser.end(), false, `closed after ${at} bytes`);
      }
    }
  });

  test('malformed responses throw', () => {
    for (const text of [
      'HTTP/2 200 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nno colon\r\n\r\n',
      'HTTP/1.1 200 OK\r\n folded first\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX',
    ]) {
      assert.throws(() => new ResponseParser().push(Buffer.from(text)), ResponseParseError, text);
    }
    assert.throws(() => new ResponseParser().push(Buffer.alloc(17 * 1024, 'a')), ResponseParseError);
  });
});
