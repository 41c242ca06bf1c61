import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hart } from '../../core/hart.js';
import { VirtualMachine } from '../virtual-machine.js';
import { VM_DESCRIPTION_VERSION, type VmDescription } from '../vm-description.js';
import { receiveVm } from './receive-vm.js';
import { MessageType, MigrationChannel } from './migration-channel.js';

// A guest that counts in x1, stores the count to RAM + 0x1000 + (x1 & 0xf000) so it keeps
// dirtying pages, and writes 'c' to UART0 every 2048 counts.
const addi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
const lui = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37;
const auipc = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x17;
const andi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (7 << 12) | (rd << 7) | 0x13;
const add = (rd: number, rs1: number, rs2: number) => (rs2 << 20) | (rs1 << 15) | (rd << 7) | 0x33;
const sd = (rs2: number, rs1: number, imm: number) => (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (3 << 12) | ((imm & 31) << 7) | 0x23;
const sb = (rs2: number, rs1: number, imm: number) => (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | ((imm & 31) << 7) | 0x23;
const bne = (rs1: number, rs2: number, offset: number) =>
  (((offset >> 12) & 1) << 31) | (((offset >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (1 << 12) | (((offset >> 1) & 0xf) << 8) | (((offset >> 11) & 1) << 7) | 0x63;
const jal = (rd: number, offset: number) =>
  (((offset >> 20) & 1) << 31) | (((offset >> 1) & 0x3ff) << 21) | (((offset >> 11) & 1) << 20) | (((offset >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
const PROGRAM = new Uint8Array(new Int32Array([
  auipc(5, 1), lui(6, 0x10000), addi(7, 0, 0x63), lui(8, 0xf), // x5 = RAM + 0x1000, x6 = UART0, x8 = 0xf000
  addi(1, 1, 1), // 16: loop
  andi(9, 1, 0x7f8), add(9, 9, 5), sd(1, 9, 0), // a store that wanders over 2 KiB
  andi(2, 1, 0x7ff), bne(2, 0, -20), // back to the loop unless x1 % 2048 == 0
  sb(7, 6, 0), jal(0, -28),
]).buffer);

function fixture(): { dir: string; description: VmDescription } {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-migration-'));
  const kernel = join(dir, 'counter.bin');
  writeFileSync(kernel, PROGRAM);
  const description: VmDescription = {
    version: VM_DESCRIPTION_VERSION, ramMiB: 2, boot: { kernel: { path: kernel } }, disks: [], network: null, shares: [], console: 'ttyS0', translation: 'on',
  };
  return { dir, description };
}

const readBoot = (_role: string, path: string) => new Uint8Array(readFileSync(path));
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a running VM moves to a destination and carries on there; the source ends', async () => {
  const { dir, description } = fixture();
  try {
    const sourceOut: number[] = [];
    const source = await VirtualMachine.create(description, { kernel: PROGRAM }, { serial: { write: (b) => sourceOut.push(b) } });
    const sourceRun = source.run();
    await tick(30);
    let address = '';
    const destOut: number[] = [];
    const arriving = receiveVm({ host: '127.0.0.1', port: 0 }, { readBoot, io: { serial: { write: (b) => destOut.push(b) } }, onListening: (a) => (address = a) });
    while (!address) await tick(5);
    const phases = new Set<string>();
    const report = await source.migrate({ host: '127.0.0.1', port: Number(address.split(':')[2]) }, (p) => phases.add(p.phase));
    const { vm: destination } = await arriving;
    assert.equal((await sourceRun).reason, 'stopped');
    assert.ok(source.migratedTo !== null);
    assert.ok((report.rounds as number) >= 2 && (report.bytes as number) > 0 && (report.pausedMs as number) >= 0, JSON.stringify(report));
    assert.ok([...phases].some((p) => p.startsWith('copying memory')), [...phases].join());

    const count = (destination.machine.hart as Hart).getRegister(1);
    const sourceCount = (source.machine.hart as Hart).getRegister(1);
    assert.equal(count, sourceCount, 'the destination does not start where the source stopped');
    // RAM arrived whole: the destination's copy equals the source's at the handover.
    assert.deepEqual(destination.machine.ram, source.machine.ram);
    const destRun = destination.run();
    await tick(30);
    destination.machine.requestStop();
    await destRun;
    assert.ok((destination.machine.hart as Hart).getRegister(1) > count, 'the guest does not run at the destination');
    assert.ok(destOut.length > 0 && destOut.every((b) => b === 0x63), 'the console did not follow the VM');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a two-CPU VM moves with both harts: RAM they wrote from their threads during the copy arrives whole', async () => {
  const { dir, description } = fixture();
  try {
    const twoCpus = { ...description, cpus: 2 };
    const source = await VirtualMachine.create(twoCpus, { kernel: PROGRAM }, { serial: { write() {} } });
    const sourceRun = source.run();
    // Hart threads take a moment to start: migrate once both write.
    while (!source.machine.harts.every((h) => h.getRegister(1) > 100_000n)) await tick(10);
    let address = '';
    const arriving = receiveVm({ host: '127.0.0.1', port: 0 }, { readBoot, io: { serial: { write() {} } }, onListening: (a) => (address = a) });
    while (!address) await tick(5);
    const report = await source.migrate({ host: '127.0.0.1', port: Number(address.split(':')[2]) });
    const { vm: destination } = await arriving;
    assert.equal((await sourceRun).reason, 'stopped');
    assert.ok((report.rounds as number) >= 2, JSON.stringify(report));
    const counts = source.machine.harts.map((h) => h.getRegister(1));
    assert.ok(counts.every((c) => c > 0n), `both harts counted: ${counts}`);
    assert.deepEqual(destination.machine.harts.map((h) => h.getRegister(1)), counts, 'each hart starts where it stopped');
    assert.deepEqual(destination.machine.ram, source.machine.ram, 'a page written during the copy was missed');
    const destRun = destination.run();
    const [hart0, hart1] = destination.machine.harts;
    while (hart0!.getRegister(1) <= counts[0]! + 10_000n || hart1!.getRegister(1) <= counts[1]! + 10_000n) await tick(10);
    destination.machine.requestStop();
    await destRun;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a destination that dies mid-migration leaves the source running with nothing lost', async () => {
  const { dir, description } = fixture();
  const server = createServer((socket) => {
    const channel = new MigrationChannel(socket, 'the source');
    void (async () => {
      await channel.receive(); // the hello
      await channel.send(MessageType.READY, {});
      await channel.receive(); // some pages, then the destination is gone
      socket.destroy();
    })().catch(() => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const source = await VirtualMachine.create(description, { kernel: PROGRAM }, { serial: { write() {} } });
    const run = source.run();
    await tick(20);
    const port = (server.address() as { port: number }).port;
    await assert.rejects(source.migrate({ host: '127.0.0.1', port }), (e: Error & { kind?: string }) => e.kind === 'migration-failed' && /runs on here/.test(e.message));
    assert.equal(source.status().state, 'running');
    assert.equal(source.machine.memory.dirtyLog.logging, false);
    const before = (source.machine.hart as Hart).getRegister(1);
    await tick(30);
    assert.ok((source.machine.hart as Hart).getRegister(1) > before, 'the source stopped running');
    // With nobody listening at all, the failure is immediate and says so.
    server.close();
    await assert.rejects(source.migrate({ host: '127.0.0.1', port }), /cannot reach tcp:127\.0\.0\.1/);
    assert.equal(source.status().state, 'running');
    source.machine.requestStop();
    assert.equal((await run).reason, 'stopped');
    assert.equal(source.migratedTo, null);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a destination refuses a hostile source cleanly: garbage, a huge length, a wrong protocol', async () => {
  const attempts: Array<(socket: import('node:net').Socket) => void> = [
    (s) => s.end(Buffer.from('GET / HTTP/1.1\r\n\r\n')),
    (s) => s.end(Buffer.from([MessageType.HELLO, 0xff, 0xff, 0xff, 0xff])),
    (s) => {
      const body = Buffer.from(JSON.stringify({ version: 99, description: {}, ramSize: 1, disks: [] }));
      const head = Buffer.alloc(5);
      head[0] = MessageType.HELLO;
      head.writeUInt32BE(body.length, 1);
      s.end(Buffer.concat([head, body]));
    },
  ];
  for (const attack of attempts) {
    let address = '';
    const arriving = receiveVm({ host: '127.0.0.1', port: 0 }, { readBoot, io: { serial: { write() {} } }, onListening: (a) => (address = a) });
    while (!address) await tick(5);
    const socket = connect({ host: '127.0.0.1', port: Number(address.split(':')[2]) });
    await new Promise((r) => socket.once('connect', r));
    attack(socket);
    await assert.rejects(arriving, (e: Error & { kind?: string }) => e.kind === 'migration');
    socket.destroy();
  }
});

test('a destination that cannot take the VM (its boot files are missing there) refuses it; the source runs on', async () => {
  const { dir, description } = fixture();
  try {
    const source = await VirtualMachine.create(description, { kernel: PROGRAM }, { serial: { write() {} } });
    const run = source.run();
    let address = '';
    const missing = (_role: string, path: string): Uint8Array => {
      throw new Error(`${path} does not exist here`);
    };
    const arriving = receiveVm({ host: '127.0.0.1', port: 0 }, { readBoot: missing, io: { serial: { write() {} } }, onListening: (a) => (address = a) });
    while (!address) await tick(5);
    const migration = source.migrate({ host: '127.0.0.1', port: Number(address.split(':')[2]) });
    await assert.rejects(arriving, /does not exist here/);
    await assert.rejects(migration, (e: Error) => /gave up: .*does not exist here.*runs on here/.test(e.message));
    assert.equal(source.status().state, 'running');
    source.machine.requestStop();
    await run;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a destination no source reaches gives up after its accept timeout, and listens no more', async () => {
  let address = '';
  const arriving = receiveVm({ host: '127.0.0.1', port: 0 }, { readBoot: () => new Uint8Array(), io: { serial: { write() {} } }, acceptTimeoutMs: 200, onListening: (a) => (address = a) });
  await assert.rejects(arriving, /no migration source connected within 0.2 s; nothing ran here/);
  const port = Number(address.split(':')[2]);
  const refused = await new Promise<boolean>((resolve) => {
    const probe = connect(port, '127.0.0.1');
    probe.once('connect', () => { probe.destroy(); resolve(false); });
    probe.once('error', () => resolve(true));
  });
  assert.ok(refused, 'the port is closed');
});
