import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuScheduler } from './cpu-scheduler.js';
import { CpuSliceController, estimateDemand, type SliceVm } from './cpu-slice-controller.js';

/** VMs whose use follows the cap in force, up to what their guest wants. */
function fakeHost(wants: Record<string, number>) {
  const caps = new Map<string, number | null>();
  const applied: Array<[string, number | null]> = [];
  return {
    caps,
    applied,
    measure: async (id: string) => Math.min(wants[id]!, caps.get(id) ?? 100),
    apply: async (id: string, cap: number | null) => {
      caps.set(id, cap);
      applied.push([id, cap]);
    },
  };
}

test('demand: a VM near its cap wants more; one below it wants its use and some room', () => {
  assert.equal(estimateDemand(29, 30, 1), Infinity);
  assert.equal(estimateDemand(95, null, 1), Infinity);
  assert.equal(estimateDemand(10, 50, 1), 15);
  assert.equal(estimateDemand(10, null, 2), 15);
});

test('two busy VMs converge on their weighted shares; a change of weight moves them', async () => {
  const host = fakeHost({ a: 100, b: 100 });
  const vms: SliceVm[] = [{ id: 'a', weight: 200, capPercent: null, vcpus: 1 }, { id: 'b', capPercent: null, vcpus: 1 }];
  const c = new CpuSliceController({ scheduler: new CpuScheduler(100), vms: () => vms, ...host });
  await c.tick();
  await c.tick();
  assert.deepEqual([host.caps.get('a'), host.caps.get('b')], [66.7, 33.3]);
  const pushes = host.applied.length;
  await c.tick();
  assert.equal(host.applied.length, pushes, 'an unchanged decision is not pushed again');
  vms[1]!.weight = 200;
  await c.tick();
  assert.deepEqual([host.caps.get('a'), host.caps.get('b')], [50, 50]);
});

test('a VM that goes idle gives its time to the other; once busy again it gets its share back', async () => {
  const wants: Record<string, number> = { a: 100, b: 100 };
  const host = fakeHost(wants);
  const vms: SliceVm[] = [{ id: 'a', capPercent: null, vcpus: 1 }, { id: 'b', capPercent: null, vcpus: 1 }];
  const c = new CpuSliceController({ scheduler: new CpuScheduler(100), vms: () => vms, ...host });
  await c.tick();
  assert.deepEqual([host.caps.get('a'), host.caps.get('b')], [50, 50]);
  wants['b'] = 2;
  await c.tick();
  assert.ok(host.caps.get('a')! >= 90, `a gets b's time: ${host.caps.get('a')}`);
  wants['b'] = 100;
  for (let i = 0; i < 3; i++) await c.tick();
  assert.deepEqual([host.caps.get('a'), host.caps.get('b')], [50, 50]);
});

test('a failing VM is reported, wants nothing, and is retried; a removed VM is forgotten', async () => {
  const host = fakeHost({ a: 100, b: 100 });
  const errors: string[] = [];
  let vms: SliceVm[] = [{ id: 'a', capPercent: null, vcpus: 1 }, { id: 'b', capPercent: 40, vcpus: 1 }];
  let down = true;
  const c = new CpuSliceController({
    scheduler: new CpuScheduler(100),
    vms: () => vms,
    measure: (id) => (id === 'a' && down ? Promise.reject(new Error('gone')) : host.measure(id)),
    apply: host.apply,
    onError: (id) => errors.push(id),
  });
  await c.tick();
  assert.deepEqual(errors, ['a']);
  assert.equal(host.caps.get('b'), 40, 'the user cap holds even with the host to itself');
  down = false;
  await c.tick();
  await c.tick();
  assert.equal(host.caps.get('a'), 60);
  vms = vms.slice(1);
  await c.tick();
  assert.deepEqual([...c.caps.keys()], ['b']);
});

test('start runs periods on a timer and stop waits for the one in progress', async () => {
  const host = fakeHost({ a: 100 });
  const c = new CpuSliceController({ scheduler: new CpuScheduler(50), periodMs: 10, vms: () => [{ id: 'a', capPercent: null, vcpus: 1 }], ...host });
  c.start();
  await new Promise((resolve) => setTimeout(resolve, 60));
  await c.stop();
  assert.equal(host.caps.get('a'), 50);
});
