import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withTempStore } from '../../../tests/support/temp-store.js';
import { OperationRunner } from './operation-runner.js';

test('an operation runs to success: running, its progress, then succeeded with the final message; waiters wake at its end', () => withTempStore(async (t) => {
  const runner = new OperationRunner(t);
  const op = await t.repos.operations.create({ kind: 'vm.start', target_kind: 'vm', target_id: 'vm-1', user_id: null });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  runner.run(op, { tenantId: t.tenantId }, async (report) => {
    await report(0.5, 'half way');
    await gate;
    return 'running on host-a';
  });
  assert.ok(runner.isBusy('vm-1'));
  const early = Date.now();
  await runner.waitForEnd(op.id, 50);
  assert.ok(Date.now() - early >= 45, 'a wait ends at its timeout while the operation runs');
  assert.equal((await t.repos.operations.get(op.id)).state, 'running');
  const waiting = runner.waitForEnd(op.id, 10_000);
  release();
  await waiting;
  const done = await t.repos.operations.get(op.id);
  assert.deepEqual([done.state, done.progress, done.message, done.error], ['succeeded', 1, 'running on host-a', null]);
  assert.ok(done.finished_at !== null);
  assert.ok(!runner.isBusy('vm-1'));
  const progress = t.published.filter((e) => e.id === op.id).map((e) => `${e.type} ${e.data['state']} ${e.data['progress']}`);
  assert.deepEqual(progress, ['operation.progress running 0', 'operation.progress running 0.5', 'operation.finished succeeded 1']);
  assert.deepEqual(t.published[0]!.scope, { tenantId: t.tenantId }, 'events carry the target\'s scope');
}));

test('a failed operation keeps its error as problem details with the error\'s kind', () => withTempStore(async (t) => {
  const runner = new OperationRunner(t);
  const op = await t.repos.operations.create({ kind: 'vm.stop', target_kind: 'vm', target_id: 'vm-2', user_id: null });
  runner.run(op, {}, async () => { throw Object.assign(new Error('host host-a refused: invalid-state'), { kind: 'conflict' }); });
  await runner.waitForEnd(op.id, 5000);
  const failed = await t.repos.operations.get(op.id);
  assert.equal(failed.state, 'failed');
  assert.equal(failed.message, 'host host-a refused: invalid-state');
  assert.deepEqual(JSON.parse(failed.error!), { type: 'urn:vireo:problem:conflict', title: 'The operation failed', detail: 'host host-a refused: invalid-state', kind: 'conflict' });
}));

test('closing the runner aborts the work under way and records it failed', () => withTempStore(async (t) => {
  const runner = new OperationRunner(t);
  const op = await t.repos.operations.create({ kind: 'vm.start', target_kind: 'vm', target_id: 'vm-3', user_id: null });
  runner.run(op, {}, (_report, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))));
  await runner.close();
  const row = await t.repos.operations.get(op.id);
  assert.equal(row.state, 'failed');
  assert.match(row.message, /shutting down/u);
}));
