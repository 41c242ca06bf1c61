import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Htif } from './htif.js';
import { RamDmaMemory } from './virtio/ram-dma-memory.js';
import type { ByteSink } from './mmio-device.js';

const BASE = 0x8000_0000;
const TOHOST = BASE + 0x100;
const FROMHOST = BASE + 0x108;
const ARGS = BASE + 0x200;
const TEXT = BASE + 0x300;

/** A program's RAM with its mailboxes, and a console that takes `room` bytes until given more. */
function setup(room: number) {
  const memory = new RamDmaMemory({ base: BASE, bytes: new Uint8Array(0x1000) });
  const view = new DataView(memory.bytes.buffer);
  const out: number[] = [];
  let limit = room;
  const console: ByteSink = { write: (b) => out.push(b), ready: () => out.length < limit };
  const htif = new Htif(memory, TOHOST, FROMHOST, console);
  const set64 = (paddr: number, value: bigint) => view.setBigUint64(paddr - BASE, value, true);
  const get64 = (paddr: number) => view.getBigUint64(paddr - BASE, true);
  return { htif, out, set64, get64, memory, grow: (more: number) => (limit += more) };
}

test('a console character waits in tohost while the console is backed up', () => {
  const { htif, out, set64, get64, grow } = setup(0);
  const putchar = (1n << 56n) | (1n << 48n) | 0x41n;
  set64(TOHOST, putchar);
  assert.equal(htif.poll(), null);
  assert.equal(get64(TOHOST), putchar, 'not taken');
  assert.deepEqual(out, []);
  grow(1);
  htif.poll();
  assert.equal(get64(TOHOST), 0n);
  assert.deepEqual(out, [0x41]);
  assert.equal(get64(FROMHOST), (1n << 56n) | (1n << 48n));
});

test('an exit request is taken even while the console is backed up', () => {
  const { htif, set64 } = setup(0);
  set64(TOHOST, (3n << 1n) | 1n);
  assert.deepEqual(htif.poll(), { kind: 'exit', code: 3 });
});

test('SYS_WRITE writes what the console takes and returns that count', () => {
  const { htif, out, set64, get64, memory } = setup(4);
  memory.write(TEXT, new TextEncoder().encode('hello'));
  set64(ARGS, 64n);
  set64(ARGS + 8, 1n);
  set64(ARGS + 16, BigInt(TEXT));
  set64(ARGS + 24, 5n);
  set64(TOHOST, BigInt(ARGS));
  htif.poll();
  assert.equal(String.fromCharCode(...out), 'hell');
  assert.equal(get64(ARGS), 4n);
});
