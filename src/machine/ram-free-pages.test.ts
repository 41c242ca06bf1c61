import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../core/guest-memory.js';
import { ramFreePages } from './ram-free-pages.js';

const RAM_BASE = 0x8000_0000;
const MiB = 1 << 20;

/** Fills 4 MiB from 2 MiB - 4 KiB, calls `decode` (which decodes code from it), then discards 2 MiB at 2 MiB. */
function fillAndDiscard(memory: GuestMemory, decode: () => void): void {
  const sink = ramFreePages(memory, (line) => assert.fail(line));
  memory.writeRam(RAM_BASE + 2 * MiB - 4096, new Uint8Array(4 * MiB).fill(0x33));
  decode();
  memory.dirtyLog.start();
  assert.equal(sink.discard(RAM_BASE + 2 * MiB, 2 * MiB), 2 * MiB);
  assert.ok(memory.readRam(RAM_BASE + 2 * MiB, 2 * MiB).every((v) => v === 0));
  assert.ok(memory.readRam(RAM_BASE + 2 * MiB - 4096, 4096).every((v) => v === 0x33), 'the page before keeps its bytes');
  assert.ok(memory.readRam(RAM_BASE + 4 * MiB, 4096).every((v) => v === 0x33), 'the page after keeps its bytes');
  const dirty = memory.dirtyLog.take();
  assert.equal(dirty.length, 512, 'migration sends the discarded pages again');
  assert.equal(dirty[0], 512);
}

test('free pages of guest RAM read as zero, lose their decoded instructions and are logged dirty', () => {
  const memory = new GuestMemory({ ramBase: RAM_BASE, ramSize: 8 * MiB, harts: 1 });
  const code = memory.ramOffset + 2 * MiB + 8192;
  const other = memory.ramOffset + 4 * MiB + 4096;
  fillAndDiscard(memory, () => {
    memory.decodeCache.page(code);
    memory.decodeCache.page(other);
  });
  assert.equal(memory.decodeCache.holds(code), false, 'decoded instructions of a discarded page are gone');
  assert.equal(memory.decodeCache.holds(other), true, 'others stay');
});

test('with harts on threads, a hart that decoded a discarded page goes stale, as after a DMA write', () => {
  const memory = new GuestMemory({ ramBase: RAM_BASE, ramSize: 8 * MiB, harts: 2, shared: true });
  const hart = (id: number) => new GuestMemory({ ramBase: RAM_BASE, ramSize: 8 * MiB, harts: 2, existing: { memory: memory.memory, codeMap: memory.codeMap!.buffer, dirtyLog: memory.dirtyLog.buffer as SharedArrayBuffer }, translationArea: id });
  const [decoder, bystander] = [hart(0), hart(1)];
  fillAndDiscard(memory, () => {
    decoder.decodeCache.page(memory.ramOffset + 3 * MiB);
    bystander.decodeCache.page(memory.ramOffset + 5 * MiB);
  });
  assert.equal(decoder.decodeCache.stale, true);
  assert.equal(bystander.decodeCache.stale, false);
});

test('ranges outside RAM are refused with -1 and change nothing', () => {
  const memory = new GuestMemory({ ramBase: RAM_BASE, ramSize: 4 * MiB, harts: 1 });
  const sink = ramFreePages(memory, () => {});
  memory.writeRam(RAM_BASE, new Uint8Array(4 * MiB).fill(9));
  for (const [paddr, length] of [[RAM_BASE - 4096, 8192], [RAM_BASE + 4 * MiB - 4096, 8192], [0, 4096], [2 ** 64, 4096], [RAM_BASE, -4096]] as const) {
    assert.equal(sink.discard(paddr, length), -1, `0x${paddr.toString(16)}+${length}`);
  }
  assert.ok(memory.readRam(RAM_BASE, 4 * MiB).every((v) => v === 9));
});

test('a lazy restore fills a range before it is discarded', () => {
  const memory = new GuestMemory({ ramBase: RAM_BASE, ramSize: 4 * MiB, harts: 1 });
  const asked: Array<[number, number]> = [];
  memory.pager = { ensure: (offset, length) => asked.push([offset, length]) };
  ramFreePages(memory, () => {}).discard(RAM_BASE + MiB, MiB);
  assert.deepEqual(asked, [[memory.ramOffset + MiB, MiB]]);
});
