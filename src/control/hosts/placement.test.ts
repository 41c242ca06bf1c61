import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeVm, type PlacedVm, type Placement, type PlacementHost, type PlacementRequest } from './placement.js';

const GiB = 2 ** 30;

// The agent charges a VM of 512 MiB RAM 928 MiB (RAM, heap of 256 + RAM/8, 96 MiB), of 256 MiB 640.
const host = (name: string, over: Partial<PlacementHost> = {}): PlacementHost => ({
  id: `id-${name}`, name, dataCenterId: 'dc1', state: 'up', cores: 2,
  memoryBudgetMiB: 8192, memoryChargedMiB: 0, storageFreeBytes: 100 * GiB, vms: [], ...over,
});
const placed = (tenantId: string, over: Partial<PlacedVm> = {}): PlacedVm => ({ tenantId, cpus: 1, memoryMiB: 256, diskBytes: 0, pending: false, ...over });
const ask = (over: Partial<PlacementRequest> = {}): PlacementRequest => ({ dataCenterId: 'dc1', tenantId: 't1', cpus: 1, memoryMiB: 512, diskBytes: GiB, ...over });
const on = (name: string): Placement => ({ ok: true, hostId: `id-${name}`, hostName: name });

const CASES: { name: string; request: PlacementRequest; hosts: PlacementHost[]; cpuOvercommit?: number; want: Placement | RegExp }[] = [
  { name: 'the host with most free memory', request: ask(), hosts: [host('a', { memoryChargedMiB: 2000 }), host('b', { memoryChargedMiB: 1000 })], want: on('b') },
  { name: 'equal memory: fewest vCPUs committed', request: ask(), hosts: [host('a', { vms: [placed('x', { cpus: 2 })] }), host('b', { vms: [placed('x', { cpus: 1 })] })], want: on('b') },
  {
    name: 'equal memory and vCPUs: spread the tenant', request: ask({ tenantId: 't1' }),
    hosts: [host('a', { vms: [placed('t1')] }), host('b', { vms: [placed('t2')] })], want: on('b'),
  },
  { name: 'all equal: by name', request: ask(), hosts: [host('c'), host('a'), host('b')], want: on('a') },
  { name: 'only the VM\'s data center', request: ask(), hosts: [host('a', { dataCenterId: 'dc2', memoryChargedMiB: 0 }), host('b', { memoryChargedMiB: 4000 })], want: on('b') },
  { name: 'down and maintenance hosts are passed over', request: ask(), hosts: [host('a', { state: 'down' }), host('b', { state: 'maintenance' }), host('c', { memoryChargedMiB: 7000 })], want: on('c') },
  {
    name: 'pending placements count against memory', request: ask(),
    hosts: [host('a', { vms: [placed('x', { pending: true, memoryMiB: 2048 })] }), host('b', { memoryChargedMiB: 1000 })], want: on('b'),
  },
  {
    name: 'no room anywhere: a reason per host',
    request: ask({ cpus: 2 }),
    hosts: [
      host('a', { memoryBudgetMiB: 1440, memoryChargedMiB: 928 }),
      host('b', { cores: 1, vms: [placed('x', { cpus: 3 })] }),
      host('c', { storageFreeBytes: 3 * GiB, vms: [placed('x', { pending: true, diskBytes: 2.5 * GiB })] }),
      host('d', { state: 'down' }),
      host('e', { state: 'maintenance' }),
    ],
    want: /^no host in data center dc1 has room for a VM of 2 vCPUs, 512 MiB RAM and 1 GiB of disks: a: 512 MiB free, VM needs 928 \(512 MiB RAM and its process\); b: 3 of 4 vCPUs committed \(1 cores x 4\), VM needs 2; c: 512 MiB of storage free, VM's disks need 1 GiB; d: down; e: in maintenance$/,
  },
  { name: 'the overcommit ratio bounds vCPUs', request: ask({ cpus: 2 }), hosts: [host('a', { cores: 2, vms: [placed('x', { cpus: 3 })] })], cpuOvercommit: 2, want: /a: 3 of 4 vCPUs committed \(2 cores x 2\), VM needs 2$/ },
  { name: 'exactly full still fits', request: ask({ cpus: 1, diskBytes: GiB }), hosts: [host('a', { cores: 1, memoryBudgetMiB: 928, storageFreeBytes: GiB, vms: [placed('x', { cpus: 3 })] })], want: on('a') },
  { name: 'no hosts in the data center', request: ask({ dataCenterId: 'dc9' }), hosts: [host('a')], want: /^no hosts in data center dc9$/ },
  { name: 'an explicit host with room', request: ask({ hostId: 'id-b' }), hosts: [host('a'), host('b', { memoryChargedMiB: 3000 })], want: on('b') },
  { name: 'an explicit host without room says why', request: ask({ hostId: 'id-b' }), hosts: [host('a'), host('b', { memoryBudgetMiB: 900 })], want: /^host b cannot take a VM of 1 vCPU, 512 MiB RAM and 1 GiB of disks: b: 900 MiB free, VM needs 928/ },
  { name: 'an explicit host that is down', request: ask({ hostId: 'id-a' }), hosts: [host('a', { state: 'down' })], want: /^host a cannot take .*: a: down$/ },
  { name: 'an explicit host in another data center', request: ask({ hostId: 'id-a' }), hosts: [host('a', { dataCenterId: 'dc2' })], want: /^a is in data center dc2, not dc1$/ },
  { name: 'an explicit host that does not exist', request: ask({ hostId: 'nope' }), hosts: [host('a')], want: /^no host nope$/ },
];

for (const c of CASES) {
  test(`placeVm: ${c.name}`, () => {
    const got = placeVm(c.request, c.hosts, c.cpuOvercommit === undefined ? {} : { cpuOvercommit: c.cpuOvercommit });
    if (c.want instanceof RegExp) {
      assert.equal(got.ok, false, `expected no placement, got ${JSON.stringify(got)}`);
      if (!got.ok) assert.match(got.reason, c.want);
    } else {
      assert.deepEqual(got, c.want);
    }
  });
}

test('placeVm: the same input always gives the same host, whatever the order of the hosts', () => {
  const hosts = [host('a'), host('b'), host('c', { memoryChargedMiB: 10 })];
  for (const order of [hosts, [...hosts].reverse(), [hosts[1]!, hosts[2]!, hosts[0]!]]) assert.deepEqual(placeVm(ask(), order), on('a'));
});

test('placeVm: each rejected host is listed with its id', () => {
  const got = placeVm(ask({ memoryMiB: 4000 }), [host('b', { memoryBudgetMiB: 100 }), host('a', { state: 'down' })]);
  assert.equal(got.ok, false);
  if (!got.ok) assert.deepEqual(got.rejected.map((r) => [r.hostId, r.reason.split(':')[0]]), [['id-a', 'a'], ['id-b', 'b']]);
});
