import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { once } from 'node:events';
import { ipv4Address } from '../ipv4.js';
import { macAddress } from '../mac-address.js';
import { TcpFlag, seqAdd } from '../tcp.js';
import { VirtualSwitch } from '../virtual-switch.js';
import { UserNetwork } from './user-network.js';
import type { UserNetworkSettings } from './user-network.js';
import { FakeGuestStack } from '../../../tests/support/fake-guest-stack.js';

const GATEWAY = ipv4Address('10.0.2.2');

function setup(settings: UserNetworkSettings = {}) {
  const sw = new VirtualSwitch();
  const net = new UserNetwork(sw, settings);
  const guest = new FakeGuestStack(sw, macAddress('52:54:00:12:34:56'), ipv4Address('10.0.2.15'), net.mac);
  return { net, guest, close: () => (net.close(), guest.close()) };
}

/** A loopback server; each connection is handed to `onConnection`. */
async function loopbackServer(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onConnection);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** The guest's side of a handshake to `dst:port`; returns the numbers to continue with. */
async function handshake(guest: FakeGuestStack, port: number, srcPort: number, window = 65535) {
  guest.sendTcp(GATEWAY, { srcPort, dstPort: port, flags: TcpFlag.SYN, seq: 1000, mss: 1460, window });
  const synAck = await guest.nextTcp(srcPort);
  assert.equal(synAck.flags, TcpFlag.SYN | TcpFlag.ACK);
  assert.equal(synAck.ack, 1001);
  assert.equal(synAck.mss, 1460);
  const ours = { seq: 1001, ack: seqAdd(synAck.seq, 1) };
  guest.sendTcp(GATEWAY, { srcPort, dstPort: port, flags: TcpFlag.ACK, seq: ours.seq, ack: ours.ack, window });
  return ours;
}

test('a guest connection allowed by guestfwd reaches a loopback server: handshake, data both ways, FIN both ways', async () => {
  const received: Buffer[] = [];
  let serverEnded = false;
  const { server, port } = await loopbackServer((socket) => {
    socket.on('data', (d) => {
      received.push(d);
      socket.write('world');
    });
    socket.on('end', () => {
      serverEnded = true;
      socket.end();
    });
  });
  const { net, guest, close } = setup({ guestForwards: [{ protocol: 'tcp', guestPort: 80, hostAddress: '127.0.0.1', hostPort: port }] });
  try {
    const s = await handshake(guest, 80, 33000);
    guest.sendTcp(GATEWAY, { srcPort: 33000, dstPort: 80, flags: TcpFlag.ACK | TcpFlag.PSH, seq: s.seq, ack: s.ack, payload: Buffer.from('hello') });
    s.seq += 5;
    const data = await waitData(guest, 33000);
    assert.equal(Buffer.from(data.payload).toString(), 'world');
    assert.equal(data.seq, s.ack);
    assert.equal(data.ack, s.seq, 'the gateway acknowledges the guest\'s data');
    s.ack = seqAdd(s.ack, 5);
    guest.sendTcp(GATEWAY, { srcPort: 33000, dstPort: 80, flags: TcpFlag.ACK | TcpFlag.FIN, seq: s.seq, ack: s.ack });
    const fin = await waitFlag(guest, 33000, TcpFlag.FIN);
    assert.equal(fin.seq, s.ack);
    assert.equal(fin.ack, s.seq + 1, 'the guest\'s FIN is acknowledged');
    guest.sendTcp(GATEWAY, { srcPort: 33000, dstPort: 80, flags: TcpFlag.ACK, seq: s.seq + 1, ack: seqAdd(s.ack, 1) });
    assert.equal(Buffer.concat(received).toString(), 'hello');
    assert.equal(serverEnded, true);
    await until(() => net.counters.tcpConnections === 0, 'the connection leaves the table after TIME_WAIT');
  } finally {
    close();
    server.close();
  }
});

async function waitData(guest: FakeGuestStack, port: number) {
  for (;;) {
    const seg = await guest.nextTcp(port);
    if (seg.payload.length > 0) return seg;
  }
}

async function waitFlag(guest: FakeGuestStack, port: number, flag: number) {
  for (;;) {
    const seg = await guest.nextTcp(port);
    if ((seg.flags & flag) !== 0) return seg;
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a connection to the host loopback without a rule, or to the gateway, is refused with a reset', async () => {
  let accepted = 0;
  const { server, port } = await loopbackServer((socket) => {
    accepted++;
    socket.destroy();
  });
  const { net, guest, close } = setup();
  try {
    for (const [dst, srcPort] of [[ipv4Address('127.0.0.1'), 33001], [GATEWAY, 33002]] as const) {
      guest.sendTcp(dst, { srcPort, dstPort: port, flags: TcpFlag.SYN, seq: 5000 });
      const rst = await guest.nextTcp(srcPort);
      assert.equal(rst.flags, TcpFlag.RST | TcpFlag.ACK);
      assert.equal(rst.ack, 5001);
    }
    assert.equal(accepted, 0, 'nothing reached the loopback server');
    assert.equal(net.counters.tcp.refused, 2);
  } finally {
    close();
    server.close();
  }
});

test('a guestfwd rule to a host port nobody listens on ends in a reset', async () => {
  const { server, port } = await loopbackServer(() => {});
  server.close();
  await once(server, 'close');
  const { guest, close } = setup({ guestForwards: [{ protocol: 'tcp', guestPort: 81, hostAddress: '127.0.0.1', hostPort: port }] });
  try {
    guest.sendTcp(GATEWAY, { srcPort: 33003, dstPort: 81, flags: TcpFlag.SYN, seq: 1 });
    const rst = await guest.nextTcp(33003);
    assert.ok((rst.flags & TcpFlag.RST) !== 0);
  } finally {
    close();
  }
});

test('data the guest never received (a dropped frame) is sent again after the retransmission timeout', async () => {
  const { server, port } = await loopbackServer((socket) => socket.write('precious'));
  const { net, guest, close } = setup({ guestForwards: [{ protocol: 'tcp', guestPort: 80, hostAddress: '127.0.0.1', hostPort: port }] });
  try {
    let dropped = false;
    guest.dropNext = (r) => (dropped = r.ip !== undefined && r.ip.payload.length > 20);
    const s = await handshake(guest, 80, 33004);
    const again = await waitData(guest, 33004);
    assert.equal(dropped, true, 'the first data frame was dropped');
    assert.equal(Buffer.from(again.payload).toString(), 'precious');
    assert.equal(again.seq, s.ack);
    assert.ok(net.counters.tcp.retransmits >= 1);
  } finally {
    close();
    server.close();
  }
});

test('the gateway keeps within the guest\'s advertised window until the guest acknowledges', async () => {
  const payload = Buffer.alloc(20_000, 7);
  const { server, port } = await loopbackServer((socket) => socket.write(payload));
  const { guest, close } = setup({ guestForwards: [{ protocol: 'tcp', guestPort: 80, hostAddress: '127.0.0.1', hostPort: port }] });
  try {
    const s = await handshake(guest, 80, 33005, 3000);
    let got = 0;
    let inFlight = 0;
    while (got < payload.length) {
      const seg = await waitData(guest, 33005);
      inFlight += seg.payload.length;
      got += seg.payload.length;
      assert.ok(inFlight <= 3000, `in flight ${inFlight} exceeds the window`);
      await new Promise((r) => setTimeout(r, 5));
      if (guest.pending.length === 0) {
        // The window is full (nothing more comes): acknowledge everything so far.
        guest.sendTcp(GATEWAY, { srcPort: 33005, dstPort: 80, flags: TcpFlag.ACK, seq: s.seq, ack: seqAdd(s.ack, got), window: 3000 });
        inFlight = 0;
      }
    }
    assert.equal(got, payload.length);
  } finally {
    close();
    server.close();
  }
});

test('hostfwd: a host connection to the forwarded port reaches the guest from the gateway', async () => {
  const { net, guest, close } = setup({ hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 8080 }] });
  try {
    const [bound] = await net.start();
    assert.ok(bound!.hostPort > 0);
    guest.sendArpRequest(GATEWAY); // so the gateway knows the guest's MAC
    const client = connect(bound!.hostPort, '127.0.0.1');
    const chunks: Buffer[] = [];
    client.on('data', (d) => chunks.push(d));
    const syn = await guest.nextTcp(8080);
    assert.equal(syn.flags, TcpFlag.SYN);
    assert.equal(syn.src, GATEWAY);
    guest.sendTcp(GATEWAY, { srcPort: 8080, dstPort: syn.srcPort, flags: TcpFlag.SYN | TcpFlag.ACK, seq: 7000, ack: seqAdd(syn.seq, 1), mss: 1460 });
    await waitFlag(guest, 8080, TcpFlag.ACK);
    client.write('from host');
    const data = await waitData(guest, 8080);
    assert.equal(Buffer.from(data.payload).toString(), 'from host');
    guest.sendTcp(GATEWAY, { srcPort: 8080, dstPort: syn.srcPort, flags: TcpFlag.ACK | TcpFlag.PSH, seq: 7001, ack: seqAdd(data.seq, data.payload.length), payload: Buffer.from('from guest') });
    await until(() => Buffer.concat(chunks).toString() === 'from guest', 'the host client reads the guest\'s reply');
    // The guest resets: the host client sees the connection end.
    guest.sendTcp(GATEWAY, { srcPort: 8080, dstPort: syn.srcPort, flags: TcpFlag.RST, seq: 7011 });
    await once(client, 'close');
    assert.equal(net.counters.tcpConnections, 0);
  } finally {
    close();
  }
});

test('the connection table is bounded: a SYN beyond the limit is refused', async () => {
  const sockets: Socket[] = [];
  const { server, port } = await loopbackServer((socket) => sockets.push(socket));
  const { net, guest, close } = setup({ maxTcpConnections: 2, guestForwards: [{ protocol: 'tcp', guestPort: 80, hostAddress: '127.0.0.1', hostPort: port }] });
  try {
    await handshake(guest, 80, 34000);
    await handshake(guest, 80, 34001);
    guest.sendTcp(GATEWAY, { srcPort: 34002, dstPort: 80, flags: TcpFlag.SYN, seq: 1 });
    const rst = await guest.nextTcp(34002);
    assert.ok((rst.flags & TcpFlag.RST) !== 0);
    assert.equal(net.counters.tcp.tableFull, 1);
    assert.equal(net.counters.tcpConnections, 2);
  } finally {
    close();
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('close() ends every host socket and listener', async () => {
  const closed: Promise<unknown>[] = [];
  const { server, port } = await loopbackServer((socket) => closed.push(once(socket, 'end')));
  const { net, guest, close } = setup({ guestForwards: [{ protocol: 'tcp', guestPort: 80, hostAddress: '127.0.0.1', hostPort: port }], hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 22 }] });
  const [bound] = await net.start();
  await handshake(guest, 80, 34100);
  await until(() => closed.length === 1, 'the host server accepted');
  close();
  await Promise.all(closed);
  const refused = connect(bound!.hostPort, '127.0.0.1');
  const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  assert.equal(error.code, 'ECONNREFUSED');
  server.close();
});

test('DNS over TCP to 10.0.2.3:53 reaches the configured resolver', async () => {
  let accepted = 0;
  const { server, port } = await loopbackServer((socket) => {
    accepted++;
    socket.end();
  });
  const { guest, close } = setup({ dnsServers: [{ address: '127.0.0.1', port }] });
  try {
    guest.sendTcp(ipv4Address('10.0.2.3'), { srcPort: 34200, dstPort: 53, flags: TcpFlag.SYN, seq: 1 });
    const synAck = await guest.nextTcp(34200);
    assert.equal(synAck.flags, TcpFlag.SYN | TcpFlag.ACK);
    assert.equal(synAck.src, '10.0.2.3');
    await until(() => accepted === 1, 'the resolver accepted');
  } finally {
    close();
    server.close();
  }
});

test('a closed guest window is probed with one byte, and the data flows once it opens', async () => {
  const { server, port } = await loopbackServer((socket) => socket.write('abcdef'));
  const { guest, close } = setup({ guestForwards: [{ protocol: 'tcp', guestPort: 80, hostAddress: '127.0.0.1', hostPort: port }] });
  try {
    const s = await handshake(guest, 80, 34300, 0);
    const probe = await waitData(guest, 34300);
    assert.equal(probe.payload.length, 1, 'only a one-byte probe goes into a closed window');
    assert.equal(probe.seq, s.ack);
    // The guest takes the probe byte and opens its window: the rest follows.
    guest.sendTcp(GATEWAY, { srcPort: 34300, dstPort: 80, flags: TcpFlag.ACK, seq: s.seq, ack: seqAdd(s.ack, 1), window: 65535 });
    const rest = await waitData(guest, 34300);
    assert.equal(Buffer.from(rest.payload).toString(), 'bcdef');
  } finally {
    close();
    server.close();
  }
});
