import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Clint } from './clint.js';

function makeClint(harts = 2) {
  let ticks = 1000;
  const msip = Array.from({ length: harts }, () => [] as boolean[]);
  const mtip = Array.from({ length: harts }, () => [] as boolean[]);
  const clint = new Clint({
    harts,
    clock: { now: () => ticks },
    msip: msip.map((log) => ({ set: (l: boolean) => log.push(l) })),
    mtip: mtip.map((log) => ({ set: (l: boolean) => log.push(l) })),
  });
  const advance = (n: number) => {
    ticks += n;
  };
  const last = (log: boolean[]) => log.at(-1) ?? false;
  /** A 64-bit store as the hart performs it: two 32-bit stores, low word first. */
  const write64 = (offset: number, value: bigint) => {
    clint.write(offset, 4, Number(value & 0xffffffffn));
    clint.write(offset + 4, 4, Number(value >> 32n));
  };
  const read64 = (offset: number) => BigInt(clint.read(offset, 4)) | (BigInt(clint.read(offset + 4, 4)) << 32n);
  return { clint, msip, mtip, advance, last, write64, read64 };
}

test('mtime counts from zero at reset and follows the clock', () => {
  const { clint, advance, read64 } = makeClint();
  assert.equal(read64(0xbff8), 0n);
  advance(12345);
  assert.equal(read64(0xbff8), 12345n);
  assert.equal(clint.mtime(), 12345);
});

test('msip: bit 0 drives the hart line, other bits read as zero, harts are independent', () => {
  const { clint, msip, last } = makeClint();
  clint.write(4, 4, 0xffffffff);
  assert.equal(clint.read(4, 4), 1);
  assert.equal(last(msip[1]!), true);
  assert.equal(last(msip[0]!), false);
  clint.write(4, 4, 0);
  assert.equal(last(msip[1]!), false);
  assert.equal(clint.read(0, 4), 0);
});

test('mtimecmp resets to all ones: no timer pending and no deadline', () => {
  const { clint, mtip, last, read64 } = makeClint();
  assert.equal(read64(0x4000), 0xffffffffffffffffn);
  clint.update();
  assert.equal(last(mtip[0]!), false);
  assert.equal(clint.nextDeadline(), Infinity);
});

test('a 64-bit mtimecmp written as two halves arms the timer; update() raises MTIP when mtime reaches it', () => {
  const { clint, mtip, last, advance, write64, read64 } = makeClint();
  // Priv. spec 3.2.1 sequence: low word to all ones first, then high, then low.
  clint.write(0x4008, 4, 0xffffffff);
  clint.write(0x400c, 4, 0);
  clint.write(0x4008, 4, 500);
  assert.equal(read64(0x4008), 500n);
  assert.equal(clint.nextDeadline(), 500);
  advance(499);
  clint.update();
  assert.equal(last(mtip[1]!), false);
  advance(1);
  clint.update();
  assert.equal(last(mtip[1]!), true);
  assert.equal(last(mtip[0]!), false);
  assert.equal(clint.nextDeadline(), Infinity, 'a fired timer is no longer a future deadline');
  // Moving the compare value into the future clears MTIP at once, without waiting for update().
  write64(0x4008, 10_000n);
  assert.equal(last(mtip[1]!), false);
});

test('writing mtimecmp in the past raises MTIP immediately', () => {
  const { mtip, last, advance, write64 } = makeClint();
  advance(100);
  write64(0x4000, 50n);
  assert.equal(last(mtip[0]!), true);
});

test('nextDeadline is the earliest future compare value among harts', () => {
  const { clint, write64 } = makeClint(3);
  write64(0x4000, 900n);
  write64(0x4008, 300n);
  write64(0x4010, 600n);
  assert.equal(clint.nextDeadline(), 300);
});

test('mtime is writable, in halves, and keeps counting from the written value', () => {
  const { clint, advance, write64, read64, mtip, last } = makeClint();
  write64(0x4000, 1n << 33n);
  write64(0xbff8, (1n << 33n) - 5n);
  assert.equal(read64(0xbff8), (1n << 33n) - 5n);
  advance(5);
  assert.equal(read64(0xbff8), 1n << 33n);
  clint.update();
  assert.equal(last(mtip[0]!), true);
});

test('a guest that sets mtime beyond 2^53 still gets its next deadline (no oversleeping in WFI)', () => {
  const { clint, write64 } = makeClint();
  write64(0xbff8, 1n << 63n);
  write64(0x4000, (1n << 63n) + 10_000n);
  // Above 2^53 ticks are approximate (a double's step is 2048 ticks here), but the deadline is near.
  const ticks = clint.nextDeadline() - clint.mtime();
  assert.ok(ticks > 10_000 - 4096 && ticks < 10_000 + 4096, `deadline ${ticks} ticks away`);
});

test('mtime wraps to zero after 2^64 - 1, and MTIP follows (Priv. spec 3.2.1)', () => {
  const { clint, advance, write64, read64, mtip, last } = makeClint();
  write64(0x4000, 1_000_000n);
  write64(0xbff8, (1n << 64n) - 16384n);
  clint.update();
  assert.equal(last(mtip[0]!), true);
  advance(32768);
  assert.ok(read64(0xbff8) < 1_000_000n, `mtime ${read64(0xbff8)} did not wrap`);
  clint.update();
  assert.equal(last(mtip[0]!), false);
  assert.equal(clint.nextDeadline(), 1_000_000);
});

test('a compare value just below 2^64 that mtime passes while wrapping still raises MTIP once', () => {
  const { clint, advance, write64, mtip, last } = makeClint();
  write64(0xbff8, (1n << 64n) - 65536n);
  write64(0x4000, (1n << 64n) - 16384n);
  clint.update();
  assert.equal(last(mtip[0]!), false);
  advance(131072); // past the compare value and past the wrap before the board looks again
  clint.update();
  assert.equal(last(mtip[0]!), true, 'the comparator fired on the way to the wrap');
  clint.update();
  assert.equal(last(mtip[0]!), false, 'after the wrap mtime is below the compare value again');
});

test('writing mtime backwards is not a wrap: no MTIP for a compare value it left behind', () => {
  const { clint, write64, mtip, last } = makeClint();
  write64(0x4000, 1n << 40n);
  write64(0xbff8, (1n << 40n) - 10n);
  clint.update();
  write64(0xbff8, 5n);
  clint.update();
  assert.equal(last(mtip[0]!), false);
});

test('byte and halfword accesses see the right lanes', () => {
  const { clint, write64, read64 } = makeClint();
  write64(0x4000, 0x1122334455667788n);
  assert.equal(clint.read(0x4000, 1), 0x88);
  assert.equal(clint.read(0x4006, 2), 0x1122);
  clint.write(0x4001, 1, 0xaa);
  assert.equal(read64(0x4000), 0x112233445566aa88n);
});

test('holes, registers of absent harts and straddling accesses read zero and ignore writes', () => {
  const { clint, msip } = makeClint(1);
  clint.write(4, 4, 1);
  assert.equal(clint.read(4, 4), 0);
  assert.deepEqual(msip[0], [false]);
  assert.equal(clint.read(0x8000, 4), 0);
  assert.equal(clint.read(0x4002, 4), 0);
  assert.equal(clint.read(0xbffa, 4), 0);
});

test('save/restore keeps compare values exactly and mtime continuing', () => {
  const a = makeClint();
  a.write64(0x4008, 0xfedcba9876543210n);
  a.clint.write(0, 4, 1);
  a.advance(777);
  const state = JSON.parse(JSON.stringify(a.clint.save()));
  const b = makeClint();
  b.advance(5_000);
  b.clint.restore(state);
  assert.equal(b.read64(0x4008), 0xfedcba9876543210n);
  assert.equal(b.read64(0xbff8), 777n);
  assert.equal(b.last(b.msip[0]!), true);
  assert.throws(() => b.clint.restore({ ...state, msip: [0] }), /1 harts into a CLINT with 2/);
});

test('rejects a hart count that does not match its lines', () => {
  assert.throws(
    () => new Clint({ harts: 2, clock: { now: () => 0 }, msip: [{ set() {} }], mtip: [{ set() {} }] }),
    /one msip and one mtip line per hart/,
  );
});

test('an 8-byte read of mtime is one reading: a carry between the halves cannot tear it', () => {
  let ticks = 0;
  // The clock moves on every time it is read, as it would between two separate accesses.
  const clint = new Clint({ harts: 1, clock: { now: () => (ticks += 2) }, msip: [{ set() {} }], mtip: [{ set() {} }] });
  clint.write64(0xbff8, 0xffffffff, 6);
  const [lo, hi] = clint.read64(0xbff8);
  const value = BigInt(hi) * 2n ** 32n + BigInt(lo);
  assert.ok(value >= 7n * 2n ** 32n && value < 7n * 2n ** 32n + 16n, `mtime read ${value.toString(16)}, expected just past 0x700000000`);
  // Split, the low half is read before the carry and the high half after it.
  const split = BigInt(clint.read(0xbff8 + 4, 4)) * 2n ** 32n + BigInt(clint.read(0xbff8, 4));
  assert.ok(split >= value, 'mtime went backwards');
});

test('an 8-byte write of mtimecmp takes effect whole: no half-written value raises MTIP', () => {
  const { clint, mtip, advance } = makeClint(1);
  advance(0x1_0000_0100);
  clint.write64(0x4000, 0x200, 1); // 0x1_0000_0200: due soon
  // Written in halves, the low word first would compare 0x1_0000_0000 (past) and raise MTIP.
  clint.write64(0x4000, 0, 2);
  assert.deepEqual(mtip[0], [false]);
  clint.write64(0x4000, 5, 0);
  assert.deepEqual(mtip[0], [false, true]);
});
