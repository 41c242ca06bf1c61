import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AllocationError } from './allocation-error.js';
import { CpuScheduler, MIN_CAP_PERCENT, type CpuClaim } from './cpu-scheduler.js';

const busy = (id: string, more: Partial<CpuClaim> = {}): CpuClaim => ({ id, capPercent: null, vcpus: 1, demandPercent: Infinity, ...more });
const caps = (decisions: Array<{ capPercent: number | null }>) => decisions.map((d) => d.capPercent);

test('busy VMs on a full host divide its time by weight', () => {
  const s = new CpuScheduler(100);
  assert.deepEqual(caps(s.decide([busy('a', { weight: 200 }), busy('b')])), [66.7, 33.3]);
  assert.deepEqual(caps(s.decide([busy('a'), busy('b'), busy('c'), busy('d')])), [25, 25, 25, 25]);
});

test('a VM that wants less than its share leaves the rest to the others by weight', () => {
  const s = new CpuScheduler(200);
  const d = s.decide([busy('light', { demandPercent: 20 }), busy('a', { weight: 300 }), busy('b')]);
  assert.deepEqual(caps(d), [20, null, 80]);
  // Two vCPUs: the weighted VM may take all of 180 it is offered, up to its 200.
  const two = s.decide([busy('light', { demandPercent: 20 }), busy('a', { weight: 300, vcpus: 2 }), busy('b')]);
  assert.deepEqual(caps(two), [20, 135, 45]);
});

test('a user cap always holds and what it leaves goes to the others', () => {
  const s = new CpuScheduler(100);
  const d = s.decide([busy('capped', { capPercent: 30, weight: 1000 }), busy('b')]);
  assert.deepEqual(caps(d), [30, 70]);
  // An idle host: the capped VM keeps its cap, the uncapped one is free.
  assert.deepEqual(caps(new CpuScheduler(400).decide([busy('capped', { capPercent: 30 }), busy('b')])), [30, null]);
});

test('no VM gets more than its harts can use; the rest stays spare', () => {
  const d = new CpuScheduler(800).decide([busy('one'), busy('two', { vcpus: 2 })]);
  assert.deepEqual(caps(d), [null, null]);
  assert.deepEqual(d.map((x) => x.sharePercent), [100, 200]);
});

test('an idle VM costs nothing: the busy ones share the whole host', () => {
  const d = new CpuScheduler(100).decide([busy('idle', { demandPercent: 0, weight: 5000 }), busy('a'), busy('b')]);
  assert.deepEqual(d.map((x) => x.sharePercent), [0, 50, 50]);
  // Its cap is the floor, not zero, so its use can show that it wants more.
  assert.equal(d[0]!.capPercent, MIN_CAP_PERCENT);
});

test('idle VMs on a host whose every core they may use are not held back; users\' caps still hold', () => {
  const idle = (id: string, more: Partial<CpuClaim> = {}) => busy(id, { demandPercent: 4, ...more });
  const many = Array.from({ length: 32 }, (_, i) => idle(`vm${i}`));
  const s = new CpuScheduler(200, { hostPercent: 200 });
  assert.deepEqual(caps(s.decide(many)), many.map(() => null));
  assert.deepEqual(caps(s.decide([idle('capped', { capPercent: 20 }), idle('b')])), [20, null]);
  // Once they want more than the host has, everyone is held to a share again.
  const crowded = s.decide([...many, busy('hog')]);
  assert.ok(crowded.every((d) => d.capPercent !== null), 'all capped');
  // A capacity below the host's cores is a limit on the VMs together: it always holds.
  assert.ok(new CpuScheduler(100, { hostPercent: 200 }).decide(many).every((d) => d.capPercent !== null));
  assert.ok(new CpuScheduler(200).decide(many).every((d) => d.capPercent !== null), 'the host unknown: shares as before');
});

test('bad claims are refused naming the VM and field', () => {
  const s = new CpuScheduler(100);
  for (const [bad, field] of [[{ weight: 0 }, 'weight'], [{ weight: 1.5 }, 'weight'], [{ vcpus: 0 }, 'vcpus'], [{ capPercent: 4 }, 'capPercent'], [{ capPercent: 101 }, 'capPercent'], [{ demandPercent: -1 }, 'demandPercent'], [{ demandPercent: NaN }, 'demandPercent']] as const) {
    assert.throws(() => s.decide([busy('x', bad)]), (e: unknown) => e instanceof AllocationError && e.kind === 'bad-claim' && e.field === `x.${field}`, JSON.stringify(bad));
  }
  assert.throws(() => new CpuScheduler(0), (e: unknown) => e instanceof AllocationError && e.kind === 'bad-capacity');
  assert.throws(() => new CpuScheduler(Infinity), AllocationError);
});
