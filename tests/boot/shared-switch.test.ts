// Two Debian VMs, each in its own `vireo run` process, on one switch served over a Unix
// socket: they ping each other and the host responder on that switch, and their NIC counters
// in GET /vm/stats show the traffic.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage } from '../../src/images/debian-image.js';
import { IcmpResponder } from '../../src/net/icmp-responder.js';
import { ipv4Address } from '../../src/net/ipv4.js';
import { macAddress } from '../../src/net/mac-address.js';
import { SwitchServer } from '../../src/net/switch-socket/switch-server.js';
import { VmApiClient } from '../../src/vm/api/vm-api-client.js';
import type { VmStats } from '../../src/vm/api/vm-resources.js';
import { CliVm } from '../support/cli-vm.js';
import { qemuImg } from '../storage/qemu-img.js';

const PROMPT = /root@vireo:[^\n]*# $/;
const BOOT_MS = 300_000;
const PING = /3 packets transmitted, 3 (packets )?received/;

test('two VM processes on one switch socket ping each other and the host', { timeout: 900_000 }, async () => {
  const img = await ensureDebianImage();
  const dir = mkdtempSync(join(tmpdir(), 'vireo-shared-switch-'));
  const socket = join(dir, 'switch.sock');
  const server = await SwitchServer.listen(socket);
  new IcmpResponder(server.switch, { mac: macAddress('52:54:00:00:02:02'), ip: ipv4Address('10.0.2.2'), delivery: 'microtask' });
  const vms: CliVm[] = [];
  try {
    for (const name of ['a', 'b']) {
      const root = join(dir, `${name}.qcow2`);
      qemuImg('create', '-q', '-f', 'qcow2', '-b', img.rootDisk, '-F', 'raw', root);
      vms.push(new CliVm(['--disk', root, '--net', `switch:${socket}`, '--api', join(dir, `${name}.sock`)]));
    }
    // Both boot at once, one per core.
    await Promise.all(vms.map((vm) => vm.waitFor(PROMPT, BOOT_MS)));
    assert.equal(server.clients.length, 2);
    const [a, b] = vms as [CliVm, CliVm];
    await a.run('ip link set eth0 up && ip addr add 10.0.2.21/24 dev eth0');
    await b.run('ip link set eth0 up && ip addr add 10.0.2.22/24 dev eth0');
    assert.match(await a.run('ping -c 3 -W 5 10.0.2.22'), PING, 'a pings b across the processes');
    assert.match(await b.run('ping -c 3 -W 5 10.0.2.21'), PING, 'b pings a');
    assert.match(await b.run('ping -c 3 -W 5 10.0.2.2'), PING, 'b pings the host responder on the shared switch');
    // Each NIC has a MAC address of its own (else the switch could not tell them apart).
    const stats = await Promise.all(['a', 'b'].map((name) => new VmApiClient(join(dir, `${name}.sock`)).call<VmStats>('GET', '/vm/stats')));
    assert.notEqual(stats[0]!.nics[0]!.mac, stats[1]!.nics[0]!.mac);
    for (const s of stats) assert.ok(s.nics[0]!.rxFrames >= 3 && s.nics[0]!.txFrames >= 3, JSON.stringify(s.nics));
    assert.equal(server.switch.macTable().length, 3, 'both guests and the responder were learned');
  } finally {
    await Promise.all(vms.map((vm) => vm.kill()));
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
