import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefinitionStore, NEW_RUNTIME } from './definition-store.js';
import { VM_DEFINITION_VERSION, type VmDefinition } from './vm-definition.js';
import { HostError } from './host-error.js';

function definition(name: string): VmDefinition {
  return {
    version: VM_DEFINITION_VERSION, name, uuid: `uuid-${name}`, generation: 1, autostart: true,
    spec: { ramMiB: 64, boot: { kernel: '/k.elf' }, disks: [{ path: '/d.qcow2', readOnly: false, limits: { iops: 100 } }], network: 'none', console: 'ttyS0', cpu: { weight: 100, capPercent: null }, jit: 'on' },
  };
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-store-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('definitions written are read back whole by a new store, with no temporary files left', () => withDir(async (dir) => {
  const store = new DefinitionStore(dir);
  await store.load();
  await store.create(definition('alpha'));
  await store.create(definition('beta'));
  await store.saveRuntime('beta', { ...NEW_RUNTIME, wantRunning: true, restarts: 2, lastExit: { at: 'now', code: 1, signal: null, reason: 'crashed: exit status 1' } });
  const again = await new DefinitionStore(dir).load();
  assert.deepEqual(again.problems, []);
  assert.deepEqual(again.vms.map((v) => v.definition), [definition('alpha'), definition('beta')]);
  assert.equal(again.vms[1]!.runtime.wantRunning, true);
  assert.equal(again.vms[1]!.runtime.restarts, 2);
  for (const name of ['alpha', 'beta']) assert.deepEqual(readdirSync(store.vmDir(name)).sort(), ['definition.json', 'runtime.json']);
}));

test('a second VM of the same name is refused with exists', () => withDir(async (dir) => {
  const store = new DefinitionStore(dir);
  await store.load();
  await store.create(definition('alpha'));
  await assert.rejects(store.create(definition('alpha')), (e: unknown) => e instanceof HostError && e.kind === 'exists');
}));

test('corrupt, invalid or misplaced definitions are reported and skipped; the others load', () => withDir(async (dir) => {
  const store = new DefinitionStore(dir);
  await store.load();
  await store.create(definition('good'));
  for (const name of ['notjson', 'badram', 'moved']) mkdirSync(store.vmDir(name));
  writeFileSync(join(store.vmDir('notjson'), 'definition.json'), '{"version": 1, "na');
  writeFileSync(join(store.vmDir('badram'), 'definition.json'), JSON.stringify({ ...definition('badram'), spec: { ...definition('badram').spec, ramMiB: -5 } }));
  writeFileSync(join(store.vmDir('moved'), 'definition.json'), JSON.stringify(definition('elsewhere')));
  const { vms, problems } = await new DefinitionStore(dir).load();
  assert.deepEqual(vms.map((v) => v.definition.name), ['good']);
  assert.equal(problems.length, 3);
  assert.match(problems.find((p) => p.path.includes('notjson'))!.message, /not valid JSON/);
  assert.match(problems.find((p) => p.path.includes('badram'))!.message, /definition\.spec\.ramMiB: must be at least 1/);
  assert.match(problems.find((p) => p.path.includes('moved'))!.message, /names the VM 'elsewhere'/);
}));

test('a damaged runtime record reads as a fresh one; the definition still loads', () => withDir(async (dir) => {
  const store = new DefinitionStore(dir);
  await store.load();
  await store.create(definition('alpha'));
  writeFileSync(join(store.vmDir('alpha'), 'runtime.json'), 'garbage');
  const { vms } = await new DefinitionStore(dir).load();
  assert.deepEqual(vms[0]!.runtime, NEW_RUNTIME);
}));

test('a save replaces the file whole, and remove leaves nothing', () => withDir(async (dir) => {
  const store = new DefinitionStore(dir);
  await store.load();
  await store.create(definition('alpha'));
  await store.save({ ...definition('alpha'), generation: 2 });
  assert.equal(JSON.parse(readFileSync(join(store.vmDir('alpha'), 'definition.json'), 'utf8')).generation, 2);
  await store.remove('alpha', { data: true });
  assert.deepEqual(readdirSync(store.vmsDir), []);
}));

test('a VM removed without its data leaves disks and snapshots, and its name can be defined again', () => withDir(async (dir) => {
  const store = new DefinitionStore(dir);
  await store.load();
  await store.create(definition('alpha'));
  mkdirSync(join(store.vmDir('alpha'), 'disks'));
  writeFileSync(join(store.vmDir('alpha'), 'disks', '0-root.qcow2'), 'copied');
  writeFileSync(join(store.vmDir('alpha'), 'vm.log'), 'log');
  await store.remove('alpha', { data: false });
  assert.deepEqual(readdirSync(store.vmDir('alpha')), ['disks']);
  assert.deepEqual((await store.load()).vms, []);
  await store.create(definition('alpha'));
  assert.equal((await store.load()).vms.length, 1);
}));
