import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestMemory, RamFillError } from '../core/guest-memory.js';
import { LazyRam } from './lazy-ram.js';
import { openSnapshot, writeSnapshot } from './snapshot/snapshot-file.js';

const PAGE = 4096;
const RAM_BYTES = 8 << 20;

/** A snapshot of RAM where every 3rd page holds its own number; returns the RAM written. */
async function snapshotFile(dir: string): Promise<{ path: string; ram: Uint8Array }> {
  const ram = new Uint8Array(RAM_BYTES);
  const view = new DataView(ram.buffer);
  for (let page = 0; page < RAM_BYTES / PAGE; page += 3) view.setUint32(page * PAGE + 100, page + 1, true);
  const path = join(dir, 'ram.snap');
  await writeSnapshot(path, { description: {}, state: {}, ram });
  return { path, ram };
}

function memory(): GuestMemory {
  return new GuestMemory({ ramBase: 0x8000_0000, ramSize: RAM_BYTES, harts: 1 });
}

test('pages come in when touched, before the background has read them, and the background never overwrites them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-lazy-'));
  try {
    const { path, ram } = await snapshotFile(dir);
    const reader = await openSnapshot(path);
    const mem = memory();
    const lazy = new LazyRam(reader, mem);
    assert.equal(mem.pager, lazy);
    const guestRam = mem.u8.subarray(mem.ramOffset, mem.ramOffset + RAM_BYTES);
    // The guest touches page 1500 first (as a TLB fill would), then writes to it.
    const page = 1500;
    mem.pager!.ensure(mem.ramOffset + page * PAGE, 8);
    assert.equal(lazy.faults, 1);
    assert.deepEqual(guestRam.subarray(page * PAGE, (page + 1) * PAGE), ram.subarray(page * PAGE, (page + 1) * PAGE));
    guestRam[page * PAGE + 100] = 0xee;
    mem.pager!.ensure(mem.ramOffset + page * PAGE, 4096);
    assert.equal(lazy.faults, 1, 'a page already in was read again');

    lazy.start();
    await lazy.complete();
    assert.equal(mem.pager, null, 'the pager stays attached after every page is in');
    assert.equal(guestRam[page * PAGE + 100], 0xee, 'the background overwrote a page the guest had written');
    guestRam[page * PAGE + 100] = ram[page * PAGE + 100]!;
    assert.deepEqual(guestRam, ram);
    await reader.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged chunk found by a guest access is a RamFillError, and complete() rejects when the background finds one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-lazy-'));
  try {
    const { path } = await snapshotFile(dir);
    const bytes = readFileSync(path);
    const probe = await openSnapshot(path);
    const chunk = probe.chunks[2]!;
    await probe.close();
    bytes[chunk.offset + chunk.bytes - 10]! ^= 0xff;
    writeFileSync(path, bytes);

    const reader = await openSnapshot(path);
    const mem = memory();
    const lazy = new LazyRam(reader, mem);
    assert.throws(() => mem.pager!.ensure(mem.ramOffset + chunk.firstPage * PAGE, 4), (e: Error) => e instanceof RamFillError && /chunk 2/.test(e.message));
    lazy.start();
    await assert.rejects(lazy.complete(), /chunk 2/);
    assert.equal(mem.pager, null);
    await reader.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
