import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SerialConsole } from './serial-console.js';

const noInput = () => new PassThrough() as unknown as NodeJS.ReadStream;

/** A stdout whose reader has stalled: it takes chunks and completes none until `release()`. */
function stalledStdout() {
  const callbacks: Array<() => void> = [];
  const chunks: Buffer[] = [];
  const stdout = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callbacks.push(() => callback());
    },
  });
  const release = () => {
    for (const callback of callbacks.splice(0)) callback();
  };
  return { stdout, chunks, release };
}

test('with a reader that never reads, pending output stays bounded and the console reports not ready', () => {
  const { stdout } = stalledStdout();
  const console = new SerialConsole({ stdin: noInput(), stdout }, { maxPendingBytes: 64 * 1024 });
  assert.equal(console.ready(), true);
  const total = 4 * 1024 * 1024;
  for (let i = 0; i < total; i++) console.write(0x41);
  assert.equal(console.ready(), false);
  assert.ok(console.pendingBytes <= 64 * 1024, `${console.pendingBytes} bytes held`);
  assert.ok(stdout.writableLength <= 64 * 1024, `${stdout.writableLength} bytes queued in stdout`);
  assert.equal(console.dropped, total - console.pendingBytes, 'what was not held was dropped and counted');
});

test('ready again once stdout drains: waiting devices are told, and output resumes in order', async () => {
  const { stdout, chunks, release } = stalledStdout();
  const console = new SerialConsole({ stdin: noInput(), stdout }, { maxPendingBytes: 1024 });
  let told = 0;
  console.onReady(() => told++);
  let n = 0;
  while (console.ready()) console.write(n++ & 0xff);
  await nextTurn();
  assert.equal(told, 0);
  release();
  await nextTurn();
  assert.equal(told, 1);
  assert.equal(console.ready(), true);
  console.write(n++ & 0xff);
  console.flush();
  release();
  const out = Buffer.concat(chunks);
  assert.equal(out.length, n);
  assert.ok(out.every((b, i) => b === (i & 0xff)), 'nothing lost or reordered');
});

test('a console nobody waits on is not woken, and a removed listener hears nothing', async () => {
  const { stdout, release } = stalledStdout();
  const console = new SerialConsole({ stdin: noInput(), stdout }, { maxPendingBytes: 1024 });
  let told = 0;
  const remove = console.onReady(() => told++);
  for (let i = 0; i < 100; i++) console.write(0x42);
  console.flush();
  release();
  await nextTurn();
  assert.equal(told, 0, 'never reported not ready, so no wake-up');
  while (console.ready()) console.write(0x43);
  remove();
  release();
  await nextTurn();
  assert.equal(told, 0);
});

test('output to a closed stdout is dropped without holding the guest back', () => {
  const { stdout } = stalledStdout();
  stdout.destroy();
  const console = new SerialConsole({ stdin: noInput(), stdout }, { maxPendingBytes: 16 });
  for (let i = 0; i < 100; i++) console.write(0x44);
  assert.equal(console.ready(), true);
  assert.equal(console.dropped, 100);
});

test('a reader that goes away (EPIPE) ends the output, not the process; a waiting guest is released', async () => {
  const { stdout } = stalledStdout();
  const console = new SerialConsole({ stdin: noInput(), stdout }, { maxPendingBytes: 1024 });
  let told = 0;
  console.onReady(() => told++);
  while (console.ready()) console.write(0x45);
  stdout.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  await nextTurn();
  assert.equal(told, 1);
  assert.equal(console.ready(), true);
  console.write(0x46);
  console.flush();
  assert.ok(console.dropped >= 1);
});

test('a trickle of tiny writes into a stalled stdout is bounded too, by the number of queued writes', async () => {
  const { stdout } = stalledStdout();
  const console = new SerialConsole({ stdin: noInput(), stdout });
  let turns = 0;
  for (; turns < 10_000 && console.ready(); turns++) {
    console.write(0x47);
    console.flush(); // one host turn: one byte reaches stdout
  }
  assert.equal(console.ready(), false, 'not ready long before 64 KiB of single bytes');
  assert.ok(turns <= 64, `${turns} single-byte writes queued`);
  assert.equal(stdout.writableLength, turns);
});
