import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { IcmpResponder } from '../icmp-responder.js';
import { ipv4Address } from '../ipv4.js';
import { localMac, macAddress, macToBytes } from '../mac-address.js';
import { encodeFrame, GREETING } from './frame-stream.js';
import { SwitchClient } from './switch-client.js';
import { SwitchServer } from './switch-server.js';
import { SwitchSocketError } from './switch-socket-error.js';

const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick(5);
  }
}

/** An Ethernet frame from `src` to `dst` with a payload byte `tag`. */
function ether(dst: string, src: string, tag: number, length = 60): Uint8Array {
  const f = new Uint8Array(length);
  f.set(macToBytes(macAddress(dst)), 0);
  f.set(macToBytes(macAddress(src)), 6);
  f[12] = 0x88;
  f[13] = 0xb5; // IEEE 802 local experimental EtherType
  f[14] = tag;
  return f;
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-switch-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('clients in one process or many meet on the server\'s switch: unicast, broadcast, the host responder', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'sw.sock');
    const server = await SwitchServer.listen(path);
    const a = await SwitchClient.connect(path);
    const b = await SwitchClient.connect(path);
    try {
      const [ma, mb] = [localMac(1), localMac(2)];
      let woken = 0;
      b.onReceive(() => woken++);
      assert.equal(a.send(ether('ff:ff:ff:ff:ff:ff', ma, 1)), true);
      await until('the broadcast', () => b.pending === 1);
      assert.equal(b.receive()![14], 1);
      assert.equal(woken, 1, 'the NIC is woken for a frame');
      assert.equal(b.send(ether(ma, mb, 2)), true);
      await until('the unicast', () => a.pending === 1);
      assert.equal(a.receive()![14], 2);
      assert.deepEqual(server.switch.macTable().map((e) => e.mac), [ma, mb]);
      // A host responder on the server's switch answers ARP for its address.
      new IcmpResponder(server.switch, { mac: macAddress('52:54:00:00:02:02'), ip: ipv4Address('10.0.2.2'), delivery: 'microtask' });
      const arp = new Uint8Array(42);
      arp.set(macToBytes(macAddress('ff:ff:ff:ff:ff:ff')), 0);
      arp.set(macToBytes(ma), 6);
      arp.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1], 12);
      arp.set(macToBytes(ma), 22);
      arp.set([10, 0, 2, 15], 28);
      arp.set([10, 0, 2, 2], 38);
      a.send(arp);
      await until('the ARP reply', () => a.pending === 1);
      const reply = a.receive()!;
      assert.deepEqual([...reply.subarray(12, 14), reply[21]], [0x08, 0x06, 2]);
      assert.equal(a.counters.txFrames, 2);
    } finally {
      a.close();
      b.close();
      await server.close();
    }
  });
});

test('a malformed or oversize frame is skipped, a stranger is cut off, and the server lives on', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'sw.sock');
    const lines: string[] = [];
    const server = await SwitchServer.listen(path, { log: (l) => lines.push(l) });
    const good = await SwitchClient.connect(path);
    const raw = await new Promise<Socket>((resolve) => {
      const s = connect({ path }, () => resolve(s));
    });
    try {
      await until('both joined', () => server.clients.length === 2);
      const long = Buffer.alloc(2 + 9000);
      long.writeUInt16BE(9000, 0);
      raw.write(Buffer.concat([GREETING, long, Buffer.from([0, 2, 1, 2]), encodeFrame(ether('ff:ff:ff:ff:ff:ff', localMac(9), 7))]));
      await until('the good frame after the bad ones', () => good.pending === 1);
      assert.equal(good.receive()![14], 7);
      assert.equal(server.clients.find((c) => c.skipped > 0)?.skipped, 2);
      assert.equal(lines.filter((l) => /outside 14..1518/.test(l)).length, 1, 'logged once, then counted');
      const stranger = connect({ path });
      stranger.on('error', () => {});
      stranger.resume();
      stranger.write('GET / HTTP/1.1\r\n\r\n');
      await new Promise((resolve) => stranger.once('close', resolve));
      assert.ok(lines.some((l) => /does not speak the switch protocol/.test(l)));
      assert.equal(server.clients.length, 2);
    } finally {
      raw.destroy();
      good.close();
      await server.close();
    }
  });
});

test('a client that does not read loses frames at its bounded queue, not the host\'s memory', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'sw.sock');
    const server = await SwitchServer.listen(path);
    const sender = await SwitchClient.connect(path);
    const idle = await SwitchClient.connect(path, { queueCapacity: 8 });
    try {
      for (let i = 0; i < 50; i++) sender.send(ether('ff:ff:ff:ff:ff:ff', localMac(1), i));
      await until('the frames', () => idle.counters.rxFrames + idle.counters.rxDropped === 50);
      assert.equal(idle.pending, 8);
      assert.equal(idle.counters.rxDropped, 42);
      assert.deepEqual([idle.receive()![14], idle.receive()![14]], [0, 1], 'the oldest are kept, in order');
    } finally {
      sender.close();
      idle.close();
      await server.close();
    }
  });
});

test('a client reports a switch that is not there, drops frames while the switch is gone, and joins again', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'sw.sock');
    await assert.rejects(SwitchClient.connect(path), (e: unknown) => e instanceof SwitchSocketError && e.kind === 'connect-failed' && /vireo switch serve/.test(e.message));
    let server = await SwitchServer.listen(path);
    const lines: string[] = [];
    const client = await SwitchClient.connect(path, { retryMs: 20, log: (l) => lines.push(l) });
    try {
      await server.close();
      await until('the loss', () => !client.connected);
      assert.equal(client.send(ether('ff:ff:ff:ff:ff:ff', localMac(1), 0)), false);
      assert.equal(client.counters.txDropped, 1);
      server = await SwitchServer.listen(path);
      await until('the reconnection', () => client.connected && server.clients.length === 1);
      assert.equal(client.counters.reconnects, 1);
      assert.deepEqual(lines.map((l) => /lost/.test(l) ? 'lost' : /again/.test(l) ? 'again' : l), ['lost', 'again']);
    } finally {
      client.close();
      await server.close();
    }
  });
});

test('the server refuses a path in use or not a socket, and takes over a stale socket', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'sw.sock');
    const server = await SwitchServer.listen(path);
    await assert.rejects(SwitchServer.listen(path), (e: unknown) => e instanceof SwitchSocketError && e.kind === 'socket-in-use');
    await server.close();
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    await assert.rejects(SwitchServer.listen(file), (e: unknown) => e instanceof SwitchSocketError && e.kind === 'listen-failed' && /not a socket/.test(e.message));
    // A socket file left behind by a server that was killed is replaced.
    const stale = join(dir, 'stale.sock');
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.ok(lstatSync(stale).isSocket(), 'the killed server left its socket');
    const again = await SwitchServer.listen(stale);
    await again.close();
  });
});
