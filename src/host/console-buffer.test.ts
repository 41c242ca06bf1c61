import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleBuffer } from './console-buffer.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

test('the tail is everything while it fits, then the last capacity bytes across the wrap', () => {
  const buffer = new ConsoleBuffer(8);
  buffer.write(bytes('abc'));
  assert.equal(text(buffer.tail()), 'abc');
  buffer.write(bytes('defgh'));
  assert.equal(text(buffer.tail()), 'abcdefgh');
  buffer.write(bytes('ijk'));
  assert.equal(text(buffer.tail()), 'defghijk');
  buffer.write(bytes('0123456789'));
  assert.equal(text(buffer.tail()), '23456789');
  assert.equal(buffer.totalBytes, 21);
});

test('listeners get every write until they detach', () => {
  const buffer = new ConsoleBuffer(4);
  const seen: string[] = [];
  const detach = buffer.subscribe((b) => seen.push(text(b)));
  buffer.write(bytes('hello'));
  detach();
  buffer.write(bytes('gone'));
  assert.deepEqual(seen, ['hello']);
});
