import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AllocationError } from './allocation-error.js';
import { IoAllocator, MIN_BPS, MIN_IOPS } from './io-allocator.js';

test('a host budget is shared by VM weight, then evenly between a VM\'s disks', () => {
  const a = new IoAllocator({ iops: 3000, bps: 300 * 2 ** 20 });
  const got = a.allocate([
    { id: 'a', weight: 200, disks: [{ serial: 'a1', limits: {} }, { serial: 'a2', limits: {} }] },
    { id: 'b', disks: [{ serial: 'b1', limits: {} }] },
  ]);
  assert.deepEqual(got.map((d) => [d.vm, d.serial, d.limits.iops, d.limits.bps]), [
    ['a', 'a1', 1000, 100 * 2 ** 20],
    ['a', 'a2', 1000, 100 * 2 ** 20],
    ['b', 'b1', 1000, 100 * 2 ** 20],
  ]);
});

test('a disk\'s own limits hold and what it leaves goes to the others; other limits are kept', () => {
  const got = new IoAllocator({ iops: 1000 }).allocate([
    { id: 'a', disks: [{ serial: 'slow', limits: { iops: 100, bpsWrite: 4096 } }] },
    { id: 'b', disks: [{ serial: 'fast', limits: {} }] },
  ]);
  assert.deepEqual(got[0]!.limits, { iops: 100, bpsWrite: 4096 });
  assert.equal(got[1]!.limits.iops, 900);
  // No bps budget: bps is not touched.
  assert.equal(got[1]!.limits.bps, undefined);
});

test('an idle disk costs nothing under contention but keeps a floor; without contention the spare is shared', () => {
  const a = new IoAllocator({ iops: 1000, bps: 10 * 2 ** 20 });
  const busy = { serial: 'busy', limits: {} };
  const contended = a.allocate([
    { id: 'idle', disks: [{ serial: 'idle', limits: {}, demand: { iops: 0, bps: 0 } }] },
    { id: 'busy', disks: [busy] },
  ]);
  assert.deepEqual(contended.map((d) => [d.limits.iops, d.limits.bps]), [[MIN_IOPS, MIN_BPS], [1000, 10 * 2 ** 20]]);
  const quiet = a.allocate([
    { id: 'x', disks: [{ serial: 'x', limits: {}, demand: { iops: 100, bps: 2 ** 20 } }] },
    { id: 'y', disks: [{ serial: 'y', limits: {}, demand: { iops: 200, bps: 2 ** 20 } }] },
  ]);
  // 700 spare iops, 8 MiB/s spare: half each on top of what they use.
  assert.deepEqual(quiet.map((d) => [d.limits.iops, d.limits.bps]), [[450, 5 * 2 ** 20], [550, 5 * 2 ** 20]]);
});

test('bad budgets and claims are refused', () => {
  assert.throws(() => new IoAllocator({ iops: -1 }), (e: unknown) => e instanceof AllocationError && e.kind === 'bad-capacity');
  const a = new IoAllocator({ iops: 10 });
  assert.throws(() => a.allocate([{ id: 'v', weight: 0, disks: [] }]), (e: unknown) => e instanceof AllocationError && e.field === 'v.weight');
  assert.throws(() => a.allocate([{ id: 'v', disks: [{ serial: 's', limits: {}, demand: { iops: NaN, bps: 0 } }] }]), (e: unknown) => e instanceof AllocationError && e.field === 'v.s.iops');
});
