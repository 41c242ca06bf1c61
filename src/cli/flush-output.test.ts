import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { flushOutput } from './flush-output.js';

/** A stream whose reader takes one chunk every `everyMs`, or never (`everyMs` undefined). */
function reader(everyMs?: number) {
  const stream = new Writable({
    highWaterMark: 1,
    write(_chunk, _encoding, callback) {
      if (everyMs !== undefined) setTimeout(callback, everyMs);
    },
  });
  for (let i = 0; i < 10; i++) stream.write(Buffer.alloc(100));
  return stream;
}

test('waits for a slow reader that keeps reading, however long it takes in all', async () => {
  const stream = reader(20);
  assert.equal(await flushOutput(stream, { stallMs: 100, pollMs: 5 }), true);
  assert.equal(stream.writableLength, 0);
});

test('gives up on a reader that has stopped', async () => {
  const stream = reader();
  const started = performance.now();
  assert.equal(await flushOutput(stream, { stallMs: 100, pollMs: 5 }), false);
  assert.ok(performance.now() - started < 1000);
  assert.equal(stream.writableLength, 1000);
});
