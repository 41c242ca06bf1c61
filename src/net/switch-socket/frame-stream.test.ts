import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFrame, FrameStream, GREETING } from './frame-stream.js';

function collect() {
  const frames: number[][] = [];
  const skipped: number[] = [];
  const stream = new FrameStream({ frame: (f) => frames.push([...f]), skipped: (n) => skipped.push(n) });
  return { frames, skipped, stream };
}

const frame = (n: number, fill: number) => new Uint8Array(n).fill(fill);

test('frames come out whole whatever the chunking, after the greeting', () => {
  const { frames, stream } = collect();
  const wire = Buffer.concat([GREETING, encodeFrame(frame(14, 1)), encodeFrame(frame(1518, 2)), encodeFrame(frame(60, 3))]);
  for (let i = 0; i < wire.length; i += 7) assert.equal(stream.push(wire.subarray(i, i + 7)), true);
  assert.deepEqual(frames.map((f) => [f.length, f[0]]), [[14, 1], [1518, 2], [60, 3]]);
});

test('a frame too short or too long is skipped and the stream stays in step', () => {
  const { frames, skipped, stream } = collect();
  const long = Buffer.alloc(2 + 4000);
  long.writeUInt16BE(4000, 0);
  const short = Buffer.from([0, 3, 9, 9, 9]);
  assert.equal(stream.push(Buffer.concat([GREETING, long.subarray(0, 100)])), true);
  stream.push(long.subarray(100));
  stream.push(Buffer.concat([short, encodeFrame(frame(20, 5))]));
  assert.deepEqual(skipped, [4000, 3]);
  assert.deepEqual(frames.map((f) => f.length), [20]);
});

test('a peer that does not greet is refused at its first wrong byte', () => {
  assert.equal(collect().stream.push(Buffer.from('GET / HTTP/1.1\r\n')), false);
  const { stream } = collect();
  assert.equal(stream.push(Buffer.from('VS')), true);
  assert.equal(stream.push(Buffer.from('X1')), false);
});
