import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiAnswer, VmApiClient } from '../../vm/api/vm-api-client.js';
import { HostAgent } from '../host-agent.js';
import type { VmDefinition } from '../vm-definition.js';
import { withAgentServer } from '../../../tests/host/agent-api-server.js';
import { fakeSpawner } from '../../../tests/host/fake-vm-process.js';

const MiB = 1024 * 1024;
const spec = { ramMiB: 64, boot: { kernel: '/nonexistent/k.elf' } };

/** Asserts an error answer's status and kind. */
function fails(answer: ApiAnswer, status: number, kind: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal((answer.body as { error: { kind: string } }).error.kind, kind);
}

async function vmDisks(unix: VmApiClient, name: string): Promise<VmDefinition['spec']['disks']> {
  return (await unix.call<{ definition: VmDefinition }>('GET', `/vms/${name}`)).definition.spec.disks;
}

test('physical LUNs are listed, added, read and forgotten through the API, with the contract\'s errors', () => withAgentServer(async ({ unix, dir }) => {
  const first = await unix.call<{ luns: Array<{ name: string; path: string; usage: Record<string, number>; volumes: number }> }>('GET', '/luns');
  assert.deepEqual(first.luns.map((l) => [l.name, l.path, l.usage['capacityBytes'], l.volumes]), [['default', join(dir, 'luns'), 1024 ** 3, 0]]);
  assert.deepEqual(Object.keys(first.luns[0]!.usage).sort(), ['allocated', 'capacityBytes', 'free', 'overcommitRatio', 'provisionLimit', 'provisioned']);
  const lunDir = join(`${dir}-luns`, 'fast');
  try {
    const added = await unix.request('POST', '/luns', { name: 'fast', path: lunDir, capacityBytes: 64 * MiB, overcommitRatio: 1 });
    assert.equal(added.status, 201);
    assert.equal(added.headers['location'], '/luns/fast');
    assert.deepEqual(added.body, { name: 'fast', path: lunDir, usage: { capacityBytes: 64 * MiB, overcommitRatio: 1, provisionLimit: 64 * MiB, provisioned: 0, allocated: 0, free: 64 * MiB }, volumes: 0 });
    assert.deepEqual((await unix.call<{ luns: Array<{ name: string }> }>('GET', '/luns')).luns.map((l) => l.name), ['default', 'fast']);
    assert.deepEqual(await unix.call('GET', '/luns/fast'), added.body);
    fails(await unix.request('GET', '/luns/slow'), 404, 'not-found');
    fails(await unix.request('POST', '/luns', { name: 'fast', path: join(`${dir}-luns`, 'other') }), 409, 'exists');
    fails(await unix.request('POST', '/luns', { name: 'default', path: join(`${dir}-luns`, 'other') }), 409, 'exists');
    fails(await unix.request('POST', '/luns', { name: 'again', path: lunDir }), 409, 'exists');
    fails(await unix.request('POST', '/luns', { name: 'rel', path: 'luns/x' }), 400, 'invalid-request');
    fails(await unix.request('POST', '/luns', { name: 'inside', path: join(dir, 'vms', 'x') }), 400, 'invalid-request');
    mkdirSync(join(`${dir}-luns`, 'full'));
    writeFileSync(join(`${dir}-luns`, 'full', 'f'), '');
    fails(await unix.request('POST', '/luns', { name: 'full', path: join(`${dir}-luns`, 'full') }), 400, 'invalid-request');
    fails(await unix.request('POST', '/luns', { name: 'Bad', path: join(`${dir}-luns`, 'b') }), 400, 'invalid-body');
    fails(await unix.request('POST', '/luns', { name: 'big', path: join(`${dir}-luns`, 'b'), capacityBytes: 1.5 }), 400, 'invalid-body');
    await unix.call('POST', '/luns/fast/volumes', { name: 'v', sizeMiB: 1 });
    fails(await unix.request('DELETE', '/luns/fast'), 409, 'invalid-state');
    fails(await unix.request('DELETE', '/luns/default'), 409, 'invalid-state');
    fails(await unix.request('DELETE', '/luns/slow'), 404, 'not-found');
    assert.equal((await unix.request('DELETE', '/luns/fast/volumes/v')).status, 204);
    const forgotten = await unix.request('DELETE', '/luns/fast');
    assert.deepEqual([forgotten.status, forgotten.body], [204, undefined]);
    assert.ok(existsSync(join(lunDir, 'vireo-lun.json')), 'its directory stays, to be adopted again');
    fails(await unix.request('GET', '/luns/fast'), 404, 'not-found');
  } finally {
    // Outside the agent's directory: removed here.
    rmSync(`${dir}-luns`, { recursive: true, force: true });
  }
}));

test('volumes are created, listed, read and deleted through the API, with the contract\'s errors', () => withAgentServer(async ({ unix, dir }) => {
  const created = await unix.request('POST', '/luns/default/volumes', { name: 'data', sizeMiB: 8 });
  assert.equal(created.status, 201);
  assert.equal(created.headers['location'], '/luns/default/volumes/data');
  const volume = created.body as { name: string; lun: string; path: string; sizeBytes: number; allocatedBytes: number; usedBy: string | null };
  assert.deepEqual({ ...volume, allocatedBytes: 0 }, { name: 'data', lun: 'default', path: join(dir, 'luns', 'data.qcow2'), sizeBytes: 8 * MiB, allocatedBytes: 0, usedBy: null });
  assert.ok(volume.allocatedBytes > 0);
  await unix.call('POST', '/luns/default/volumes', { name: 'archive', sizeMiB: 1 });
  assert.deepEqual((await unix.call<{ volumes: Array<{ name: string }> }>('GET', '/luns/default/volumes')).volumes.map((v) => v.name), ['archive', 'data']);
  assert.deepEqual(await unix.call('GET', '/luns/default/volumes/data'), volume);
  assert.equal((await unix.call<{ volumes: number }>('GET', '/luns/default')).volumes, 2);
  fails(await unix.request('POST', '/luns/default/volumes', { name: 'data', sizeMiB: 1 }), 409, 'exists');
  fails(await unix.request('POST', '/luns/default/volumes', { name: 'huge', sizeMiB: 16 * 1024 * 1024 }), 409, 'over-budget');
  fails(await unix.request('POST', '/luns/default/volumes', { name: 'huge', sizeMiB: 16 * 1024 * 1024 + 1 }), 400, 'invalid-body');
  fails(await unix.request('POST', '/luns/default/volumes', { name: 'zero', sizeMiB: 0 }), 400, 'invalid-body');
  fails(await unix.request('POST', '/luns/nope/volumes', { name: 'x', sizeMiB: 1 }), 404, 'not-found');
  fails(await unix.request('GET', '/luns/nope/volumes'), 404, 'not-found');
  fails(await unix.request('GET', '/luns/default/volumes/nope'), 404, 'not-found');
  fails(await unix.request('DELETE', '/luns/default/volumes/nope'), 404, 'not-found');
  const deleted = await unix.request('DELETE', '/luns/default/volumes/data');
  assert.deepEqual([deleted.status, deleted.body], [204, undefined]);
  assert.equal(existsSync(volume.path), false);
  fails(await unix.request('GET', '/luns/default/volumes/data'), 404, 'not-found');
}));

test('a VM attaches a volume as a disk; the volume is its alone, outlives it, and its link survives a snapshot and a restart', () => withAgentServer(async ({ agent, unix, dir, spawned }) => {
  const volume = await unix.call<{ path: string }>('POST', '/luns/default/volumes', { name: 'home', sizeMiB: 4 });
  const defined = await unix.request('POST', '/vms', { name: 'web', spec: { ...spec, disks: [{ sizeMiB: 1 }, { volume: { lun: 'default', name: 'home' }, limits: { iops: 9 } }] } });
  assert.equal(defined.status, 201, JSON.stringify(defined.body));
  const [own, attached] = await vmDisks(unix, 'web');
  assert.deepEqual(attached, { readOnly: false, limits: { iops: 9 }, path: volume.path, format: 'qcow2', volume: { lun: 'default', name: 'home' } });
  assert.equal(own!.lun, 'web-disk0');
  assert.equal((await unix.call<{ usedBy: string }>('GET', '/luns/default/volumes/home')).usedBy, 'web');
  fails(await unix.request('DELETE', '/luns/default/volumes/home'), 409, 'invalid-state');
  const taken = await unix.request('POST', '/vms', { name: 'db', spec: { ...spec, disks: [{ volume: { lun: 'default', name: 'home' } }] } });
  fails(taken, 409, 'invalid-state');
  assert.match((taken.body as { error: { message: string } }).error.message, /attached to VM web/);
  fails(await unix.request('POST', '/vms', { name: 'db', spec: { ...spec, disks: [{ volume: { lun: 'default', name: 'gone' } }] } }), 404, 'not-found');
  fails(await unix.request('POST', '/vms', { name: 'db', spec: { ...spec, disks: [{ volume: { lun: 'nope', name: 'home' } }] } }), 404, 'not-found');
  fails(await unix.request('POST', '/vms', { name: 'db', spec: { ...spec, disks: [{ volume: { lun: 'default', name: 'home' }, sizeMiB: 1 }] } }), 400, 'invalid-definition');
  assert.deepEqual((await unix.call<{ vms: unknown[] }>('GET', '/vms')).vms.length, 1, 'refused defines leave nothing');

  // The VM runs on in an overlay after a snapshot: the definition follows, the volume link stays.
  await unix.call('POST', '/vms/web/start');
  assert.ok(spawned[0]!.request.runArgs.includes(`${volume.path},format=qcow2,iops=9`), spawned[0]!.request.runArgs.join(' '));
  const overlay = `${volume.path}.after-s.vmsnap`;
  await agent.followDisks(agent.get('web'), { config: { disks: [{ path: own!.path, format: 'qcow2' }, { path: overlay, format: 'qcow2' }] } } as never);
  await unix.call('POST', '/vms/web/stop', { force: true });
  assert.deepEqual((await vmDisks(unix, 'web'))[1], { ...attached, path: overlay });

  // The definition reads back whole through the store's schema, volume and all.
  const again = await HostAgent.open({ dataDir: dir, spawn: fakeSpawner().spawn, log: () => {} });
  try {
    assert.deepEqual(again.get('web').definition.spec.disks[1], { ...attached, path: overlay });
    assert.equal(again.storage.getVolume('default', 'home').usedBy, 'web');
  } finally {
    await again.shutdown(1000);
  }

  assert.equal((await unix.request('DELETE', '/vms/web?disks=true')).status, 200);
  const volumes = (await unix.call<{ volumes: Array<{ name: string; usedBy: string | null }> }>('GET', '/luns/default/volumes')).volumes;
  assert.deepEqual(volumes, [{ ...volumes[0]!, name: 'home', usedBy: null }], 'the disk made for the VM went with it; the volume stays, free');
  assert.ok(existsSync(volume.path));
  assert.equal((await unix.request('POST', '/vms', { name: 'db', spec: { ...spec, disks: [{ volume: { lun: 'default', name: 'home' } }] } })).status, 201, 'free to attach again');
}));

test('network "user" runs the VM with user-mode networking', () => withAgentServer(async ({ unix, spawned }) => {
  const defined = await unix.call<{ definition: VmDefinition }>('POST', '/vms', { name: 'nat', spec: { ...spec, network: 'user' } });
  assert.equal(defined.definition.spec.network, 'user');
  await unix.call('POST', '/vms/nat/start');
  const args = spawned[0]!.request.runArgs;
  assert.deepEqual(args.slice(args.indexOf('--net'), args.indexOf('--net') + 2), ['--net', 'user']);
  fails(await unix.request('POST', '/vms', { name: 'bad', spec: { ...spec, network: 'nat' } }), 400, 'invalid-body');
}));

test('the OpenAPI document declares the LUN routes with their schemas', () => withAgentServer(async ({ unix }) => {
  const document = await unix.call<{ paths: Record<string, Record<string, { responses: Record<string, { content?: unknown }>; requestBody?: unknown }>> }>('GET', '/openapi.json');
  assert.deepEqual(Object.keys(document.paths['/luns']!).sort(), ['get', 'post']);
  assert.deepEqual(Object.keys(document.paths['/luns/{lun}']!).sort(), ['delete', 'get']);
  assert.deepEqual(Object.keys(document.paths['/luns/{lun}/volumes']!).sort(), ['get', 'post']);
  assert.deepEqual(Object.keys(document.paths['/luns/{lun}/volumes/{volume}']!).sort(), ['delete', 'get']);
  assert.ok(document.paths['/luns']!['post']!.requestBody);
  assert.ok(document.paths['/luns/{lun}/volumes']!['post']!.responses['201']!.content);
  assert.deepEqual(Object.keys(document.paths['/luns/{lun}/volumes/{volume}']!['delete']!.responses).filter((s) => s.startsWith('2')), ['204']);
}));
