import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualMachine } from '../virtual-machine.js';
import { VM_DESCRIPTION_VERSION, type VmDescription } from '../vm-description.js';
import { serveVmApi } from './vm-api-server.js';
import { VmApiClient } from './vm-api-client.js';
import type { CpuStatus, VmStats } from './vm-resources.js';

// addi t0, t0, 1; j .-4: a guest that never stops computing.
const SPIN = new Uint8Array(new Uint32Array([0x00128293, 0xffdff06f]).buffer);

async function withVm(body: (vm: VirtualMachine, client: VmApiClient) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-resources-'));
  const disk = join(dir, 'data.raw');
  writeFileSync(disk, new Uint8Array(1 << 20));
  const description: VmDescription = {
    version: VM_DESCRIPTION_VERSION, ramMiB: 2, boot: { kernel: { path: join(dir, 'spin.bin') } },
    disks: [{ path: disk, format: 'raw', readOnly: false, serial: 'data', limits: { iops: 100 } }],
    network: { mac: '52:54:00:00:00:07' }, shares: [], console: 'ttyS0', translation: 'off',
  };
  const vm = await VirtualMachine.create(description, { kernel: SPIN }, { serial: { write() {} } });
  const server = await serveVmApi(join(dir, 'vm.sock'), vm);
  try {
    await body(vm, new VmApiClient(server.path));
  } finally {
    await server.close();
    await vm.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('GET /vm/stats reports the process\'s use and each disk and NIC by its name', async () => {
  await withVm(async (vm, client) => {
    const stats = await client.call<VmStats>('GET', '/vm/stats');
    assert.ok(stats.cpu.userMicros > 0 && stats.memory.rssBytes > 0 && stats.memory.heapUsedBytes > 0);
    assert.equal(stats.memory.guestRamBytes, 2 * 1024 * 1024);
    assert.equal(stats.memory.zeroPagesGivenBackBytes, 0, 'no idle trim yet');
    assert.ok(Number.isSafeInteger(stats.memory.mergedBytes) && stats.memory.mergedBytes >= 0);
    assert.equal(stats.cpu.instructionsRetired, vm.machine.hart.instret);
    assert.deepEqual(stats.disks, [{ serial: 'data', readOps: 0, writeOps: 0, readBytes: 0, writeBytes: 0, flushOps: 0 }]);
    assert.deepEqual(stats.nics, [{ mac: '52:54:00:00:00:07', rxFrames: 0, txFrames: 0, rxBytes: 0, txBytes: 0, rxDropped: 0, txDropped: 0 }]);
  });
});

test('PUT /vm/cpu puts a cap in force on the board at once and records it; bad caps are 400', async () => {
  await withVm(async (vm, client) => {
    assert.deepEqual((await client.call<CpuStatus>('GET', '/vm/cpu')).capPercent, null);
    const set = await client.call<CpuStatus>('PUT', '/vm/cpu', { capPercent: 30 });
    assert.equal(set.capPercent, 30);
    assert.ok(set.usedPercent >= 0);
    assert.deepEqual(vm.description.cpu, { capPercent: 30 });
    // Over a couple of 100 ms periods the board is held part of the time.
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      seen.add(vm.machine.cpuThrottle);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(seen.has(0) && [...seen].some((t) => t >= 0.9), `throttles seen: ${[...seen]}`);
    for (const [body, field] of [[{ capPercent: 4 }, /capPercent/], [{ capPercent: 101 }, /5 to 100/], [{ capPercent: '30' }, /capPercent/], [{}, /capPercent: is required/], [{ capPercent: 30, weight: 2 }, /weight/]] as const) {
      const answer = await client.request('PUT', '/vm/cpu', body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.match((answer.body as { error: { message: string } }).error.message, field);
    }
    assert.equal((await client.call<CpuStatus>('GET', '/vm/cpu')).capPercent, 30, 'a refused cap changes nothing');
    await client.call('PUT', '/vm/cpu', { capPercent: null });
    assert.equal(vm.machine.cpuThrottle, 0);
    assert.equal(vm.description.cpu, undefined);
  });
});

test('PUT /vm/disks/{serial}/limits replaces the disk\'s limits while it runs; unknown disks are 404', async () => {
  await withVm(async (vm, client) => {
    const limits = await client.call('PUT', '/vm/disks/data/limits', { iops: 500, bpsWrite: 1048576 });
    assert.deepEqual(limits, { iops: 500, bpsWrite: 1048576 });
    assert.deepEqual(vm.description.disks[0]!.limits, { iops: 500, bpsWrite: 1048576 }, 'a snapshot or migration carries them');
    assert.equal((await client.request('PUT', '/vm/disks/nope/limits', { iops: 5 })).status, 404);
    for (const body of [{ iops: -1 }, { iops: 'many' }, { speed: 5 }]) assert.equal((await client.request('PUT', '/vm/disks/data/limits', body)).status, 400, JSON.stringify(body));
    assert.equal((await client.request('POST', '/vm/disks/data/limits', { iops: 5 })).status, 405);
    const doc = await client.call<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json');
    assert.ok(doc.paths['/vm/disks/{serial}/limits']?.['put'] && doc.paths['/vm/cpu']?.['put'] && doc.paths['/vm/stats']?.['get']);
  });
});

test('a cap steps aside while a migration drives the throttle and is back in force when it fails', async () => {
  await withVm(async (vm, client) => {
    await client.call('PUT', '/vm/cpu', { capPercent: 30 });
    // Nothing listens on port 1: the migration fails at once and the VM runs on here.
    await assert.rejects(vm.migrate({ host: '127.0.0.1', port: 1 }), /runs on here/);
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      seen.add(vm.machine.cpuThrottle);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(seen.has(0) && [...seen].some((t) => t >= 0.9), `throttles seen after the migration: ${[...seen]}`);
    assert.equal((await client.call<CpuStatus>('GET', '/vm/cpu')).capPercent, 30);
  });
});
