import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { once } from 'node:events';
import { ArpOperation, parseArp } from '../arp.js';
import { EtherType, buildEthernet } from '../ethernet.js';
import { IcmpType, buildIcmpEcho, parseIcmpEcho } from '../icmp.js';
import { IpProtocol, buildIpv4, ipv4Address } from '../ipv4.js';
import type { Ipv4Address } from '../ipv4.js';
import { BROADCAST_MAC, macAddress, macToBytes } from '../mac-address.js';
import { VirtualSwitch } from '../virtual-switch.js';
import { UserNetwork } from './user-network.js';
import type { UserNetworkSettings } from './user-network.js';
import { FakeGuestStack } from '../../../tests/support/fake-guest-stack.js';

const GUEST_MAC = macAddress('52:54:00:12:34:56');
const GATEWAY = ipv4Address('10.0.2.2');
const DNS = ipv4Address('10.0.2.3');

function setup(settings: UserNetworkSettings = {}, guestIp = ipv4Address('10.0.2.15')) {
  const sw = new VirtualSwitch();
  const net = new UserNetwork(sw, settings);
  const guest = new FakeGuestStack(sw, GUEST_MAC, guestIp, net.mac);
  return { sw, net, guest, close: () => (net.close(), guest.close()) };
}

/** A BOOTREQUEST (RFC 2131 2) with a message type and optional requested address. */
function dhcpRequest(type: number, xid: number, requested?: Ipv4Address): Uint8Array {
  const options = [53, 1, type, ...(requested ? [50, 4, ...requested.split('.').map(Number)] : []), 55, 3, 1, 3, 6, 255];
  const bytes = new Uint8Array(240 + options.length);
  bytes.set([1, 1, 6, 0], 0);
  bytes.set([xid >>> 24, (xid >>> 16) & 0xff, (xid >>> 8) & 0xff, xid & 0xff], 4);
  bytes.set(macToBytes(GUEST_MAC), 28);
  bytes.set([99, 130, 83, 99], 236);
  bytes.set(options, 240);
  return bytes;
}

function dhcpOptions(payload: Uint8Array): Map<number, Uint8Array> {
  const map = new Map<number, Uint8Array>();
  for (let i = 240; i < payload.length && payload[i] !== 255; ) {
    if (payload[i] === 0) {
      i++;
      continue;
    }
    map.set(payload[i]!, payload.slice(i + 2, i + 2 + payload[i + 1]!));
    i += 2 + payload[i + 1]!;
  }
  return map;
}

test('DHCP: DISCOVER gets an OFFER of 10.0.2.15 and REQUEST an ACK with mask, router, DNS and lease time', async () => {
  const { net, guest, close } = setup({}, ipv4Address('0.0.0.0'));
  try {
    const broadcast = ipv4Address('255.255.255.255');
    guest.sendUdp(broadcast, { srcPort: 68, dstPort: 67, payload: dhcpRequest(1, 0x1234) }, BROADCAST_MAC);
    const offer = await guest.nextUdp(68);
    assert.equal(offer.src, GATEWAY);
    assert.equal(offer.dstMac, GUEST_MAC);
    assert.deepEqual([...offer.payload.subarray(4, 8)], [0, 0, 0x12, 0x34]);
    assert.deepEqual([...offer.payload.subarray(16, 20)], [10, 0, 2, 15]);
    assert.deepEqual([...dhcpOptions(offer.payload).get(53)!], [2]);

    guest.sendUdp(broadcast, { srcPort: 68, dstPort: 67, payload: dhcpRequest(3, 0x1235, ipv4Address('10.0.2.15')) }, BROADCAST_MAC);
    const ack = await guest.nextUdp(68);
    const options = dhcpOptions(ack.payload);
    assert.deepEqual([...options.get(53)!], [5]);
    assert.deepEqual([...ack.payload.subarray(16, 20)], [10, 0, 2, 15]);
    assert.deepEqual([...options.get(1)!], [255, 255, 255, 0]);
    assert.deepEqual([...options.get(3)!], [10, 0, 2, 2]);
    assert.deepEqual([...options.get(6)!], [10, 0, 2, 3]);
    assert.deepEqual([...options.get(54)!], [10, 0, 2, 2]);
    assert.equal(Buffer.from(options.get(51)!).readUInt32BE(0), 86400);
    assert.equal(net.leaseOf(GUEST_MAC), '10.0.2.15');

    // Asking for an address that is not ours to give gets a NAK, broadcast.
    guest.sendUdp(broadcast, { srcPort: 68, dstPort: 67, payload: dhcpRequest(3, 0x1236, ipv4Address('10.0.2.99')) }, BROADCAST_MAC);
    const nak = await guest.nextUdp(68);
    assert.deepEqual([...dhcpOptions(nak.payload).get(53)!], [6]);
    assert.equal(nak.dstMac, BROADCAST_MAC);
  } finally {
    close();
  }
});

test('ARP and ping are answered for the gateway and the DNS address, not for others', async () => {
  const { net, guest, close } = setup();
  try {
    for (const target of [GATEWAY, DNS]) {
      guest.sendArpRequest(target);
      const reply = await guest.next((r) => (r.etherType === EtherType.ARP ? parseArp(r.payload) : undefined));
      assert.equal(reply.operation, ArpOperation.REPLY);
      assert.equal(reply.senderIp, target);
      assert.equal(reply.senderMac, net.mac);
      guest.sendIp(target, IpProtocol.ICMP, buildIcmpEcho({ type: IcmpType.ECHO_REQUEST, identifier: 7, sequence: 9, data: new Uint8Array([1, 2, 3]) }));
      const echo = await guest.next((r) => (r.ip?.protocol === IpProtocol.ICMP ? { src: r.ip.src, echo: parseIcmpEcho(r.ip.payload) } : undefined));
      assert.equal(echo.src, target);
      assert.equal(echo.echo?.type, IcmpType.ECHO_REPLY);
      assert.deepEqual([echo.echo?.identifier, echo.echo?.sequence, [...echo.echo!.data]], [7, 9, [1, 2, 3]]);
    }
    guest.sendArpRequest(ipv4Address('10.0.2.99'));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(guest.pending.length, 0);
    assert.equal(net.counters.arpReplies, 2);
    assert.equal(net.counters.echoReplies, 2);
  } finally {
    close();
  }
});

async function fakeDnsServer(): Promise<{ socket: Socket; port: number; queries: Buffer[] }> {
  const socket = createSocket('udp4');
  const queries: Buffer[] = [];
  socket.on('message', (message, from) => {
    queries.push(message);
    // Echo the query back as the answer with the response bit set and a marker appended.
    const answer = Buffer.concat([message, Buffer.from('answer')]);
    answer[2]! |= 0x80;
    socket.send(answer, from.port, from.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, port: socket.address().port, queries };
}

test('DNS queries to 10.0.2.3 are relayed to the configured server and answered with the guest\'s id', async () => {
  const server = await fakeDnsServer();
  const { net, guest, close } = setup({ dnsServers: [{ address: '127.0.0.1', port: server.port }] });
  try {
    const query = Buffer.from('\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01', 'latin1');
    guest.sendUdp(DNS, { srcPort: 40000, dstPort: 53, payload: query });
    const answer = await guest.nextUdp(40000);
    assert.equal(answer.src, DNS);
    assert.equal(answer.srcPort, 53);
    assert.deepEqual([answer.payload[0], answer.payload[1]], [0xab, 0xcd]);
    assert.equal(Buffer.from(answer.payload.subarray(answer.payload.length - 6)).toString(), 'answer');
    assert.equal(server.queries.length, 1);
    assert.deepEqual(server.queries[0]!.subarray(2), query.subarray(2), 'the question goes out unchanged');
    assert.equal(net.counters.dns.answers, 1);
  } finally {
    close();
    server.socket.close();
  }
});

test('DNS queries the server never answers time out and leave the table', async () => {
  const silent = createSocket('udp4');
  silent.bind(0, '127.0.0.1');
  await once(silent, 'listening');
  const { net, guest, close } = setup({ dnsServers: [{ address: '127.0.0.1', port: silent.address().port }], dnsTimeoutMs: 50 });
  try {
    guest.sendUdp(DNS, { srcPort: 40001, dstPort: 53, payload: new Uint8Array(20) });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(net.counters.dns.queries, 1);
    assert.equal(net.counters.dns.timeouts, 1);
  } finally {
    close();
    silent.close();
  }
});

test('a UDP flow goes out through a host socket and answers from that destination come back', async () => {
  const echo = createSocket('udp4');
  echo.on('message', (m, from) => echo.send(Buffer.concat([Buffer.from('re:'), m]), from.port, from.address));
  echo.bind(0, '127.0.0.1');
  await once(echo, 'listening');
  const port = echo.address().port;
  const { net, guest, close } = setup({ guestForwards: [{ protocol: 'udp', guestPort: 7, hostAddress: '127.0.0.1', hostPort: port }], udpIdleMs: 100 });
  try {
    guest.sendUdp(GATEWAY, { srcPort: 5000, dstPort: 7, payload: Buffer.from('ping') });
    const reply = await guest.nextUdp(5000);
    assert.equal(reply.src, GATEWAY);
    assert.equal(reply.srcPort, 7);
    assert.equal(Buffer.from(reply.payload).toString(), 're:ping');
    assert.equal(net.counters.udpFlows, 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(net.counters.udpFlows, 0, 'an idle flow expires');
    assert.equal(net.counters.udp.flowsExpired, 1);
  } finally {
    close();
    echo.close();
  }
});

test('UDP to the host loopback or to the gateway without a rule is refused with ICMP unreachable', async () => {
  const { net, guest, close } = setup();
  try {
    for (const dst of [ipv4Address('127.0.0.1'), GATEWAY]) {
      guest.sendUdp(dst, { srcPort: 5001, dstPort: 9, payload: Buffer.from('x') });
      const icmp = await guest.next((r) => (r.ip?.protocol === IpProtocol.ICMP ? r.ip.payload : undefined));
      assert.equal(icmp[0], 3, 'destination unreachable');
      assert.equal(icmp[1], 13, 'administratively prohibited');
    }
    assert.equal(net.counters.udpFlows, 0);
    assert.equal(net.counters.refused, 2);
  } finally {
    close();
  }
});

test('the UDP flow table is bounded: the least recently used flow is closed for a new one', async () => {
  const { net, guest, close } = setup({ maxUdpFlows: 4 });
  try {
    for (let i = 0; i < 6; i++) guest.sendUdp(ipv4Address('192.0.2.1'), { srcPort: 6000 + i, dstPort: 9, payload: new Uint8Array(1) });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(net.counters.udpFlows, 4);
    assert.equal(net.counters.udp.flowsEvicted, 2);
  } finally {
    close();
  }
});

test('malformed frames are counted and dropped, and the gateway goes on working', async () => {
  const { net, guest, close } = setup();
  try {
    const good = buildIpv4({ src: guest.ip, dst: GATEWAY, protocol: IpProtocol.UDP, payload: new Uint8Array(8) });
    const badChecksum = good.slice();
    badChecksum[10]! ^= 0xff;
    const badUdp = buildIpv4({ src: guest.ip, dst: GATEWAY, protocol: IpProtocol.UDP, payload: new Uint8Array([0, 1, 0, 2, 0, 99, 0, 0]) });
    const badTcp = buildIpv4({ src: guest.ip, dst: GATEWAY, protocol: IpProtocol.TCP, payload: new Uint8Array(20).fill(0xff) });
    const frames = [
      buildEthernet(net.mac, GUEST_MAC, EtherType.IPV4, badChecksum),
      buildEthernet(net.mac, GUEST_MAC, EtherType.IPV4, badUdp),
      buildEthernet(net.mac, GUEST_MAC, EtherType.IPV4, badTcp),
      buildEthernet(net.mac, GUEST_MAC, EtherType.IPV4, new Uint8Array(7)),
      buildEthernet(net.mac, GUEST_MAC, EtherType.ARP, new Uint8Array(5)),
    ];
    for (const frame of frames) guest.sendRaw(frame);
    for (let i = 0; i < 200; i++) guest.sendRaw(buildEthernet(net.mac, GUEST_MAC, EtherType.IPV4, Uint8Array.from({ length: 60 }, () => Math.floor(Math.random() * 256))));
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(net.counters.malformed >= frames.length, `malformed ${net.counters.malformed}`);
    guest.sendArpRequest(GATEWAY);
    const reply = await guest.next((r) => (r.etherType === EtherType.ARP ? parseArp(r.payload) : undefined));
    assert.equal(reply.senderIp, GATEWAY);
  } finally {
    close();
  }
});

test('a DNS answer too large for one packet reaches the guest cut to its header with TC set', async () => {
  const big = createSocket('udp4');
  big.on('message', (m, from) => big.send(Buffer.concat([m.subarray(0, 2), Buffer.from([0x81, 0x80]), Buffer.alloc(3000, 1)]), from.port, from.address));
  big.bind(0, '127.0.0.1');
  await once(big, 'listening');
  const { guest, close } = setup({ dnsServers: [{ address: '127.0.0.1', port: big.address().port }] });
  try {
    guest.sendUdp(DNS, { srcPort: 40002, dstPort: 53, payload: Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]) });
    const answer = await guest.nextUdp(40002);
    assert.equal(answer.payload.length, 12);
    assert.deepEqual([answer.payload[0], answer.payload[1]], [0x12, 0x34]);
    assert.equal(answer.payload[2]! & 0x02, 0x02, 'TC is set, so the resolver asks again over TCP');
  } finally {
    close();
    big.close();
  }
});

test('hostfwd udp: a host peer\'s datagrams reach the guest from the gateway, and its answers go back', async () => {
  const { net, guest, close } = setup({ hostForwards: [{ protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 9000 }] });
  const peer = createSocket('udp4');
  try {
    const [bound] = await net.start();
    guest.sendArpRequest(GATEWAY); // the gateway learns the guest's MAC
    peer.bind(0, '127.0.0.1');
    await once(peer, 'listening');
    peer.send(Buffer.from('question'), bound!.hostPort, '127.0.0.1');
    const got = await guest.nextUdp(9000);
    assert.equal(got.src, GATEWAY);
    assert.equal(Buffer.from(got.payload).toString(), 'question');
    const answered = once(peer, 'message');
    guest.sendUdp(GATEWAY, { srcPort: 9000, dstPort: got.srcPort, payload: Buffer.from('answer') });
    const [message] = (await answered) as [Buffer];
    assert.equal(message.toString(), 'answer');
  } finally {
    close();
    peer.close();
  }
});
