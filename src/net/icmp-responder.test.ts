import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IcmpResponder, IcmpResponderError } from './icmp-responder.js';
import { VirtualSwitch } from './virtual-switch.js';
import type { SwitchPort } from './virtual-switch.js';
import { ArpOperation, buildArp, parseArp } from './arp.js';
import { EtherType, buildEthernet, parseEthernet } from './ethernet.js';
import { IcmpType, buildIcmpEcho, parseIcmpEcho } from './icmp.js';
import { IpProtocol, buildIpv4, ipv4Address, parseIpv4 } from './ipv4.js';
import type { Ipv4Address } from './ipv4.js';
import { BROADCAST_MAC, localMac, macAddress } from './mac-address.js';

const HOST_MAC = localMac(0xfe), HOST_IP = ipv4Address('10.0.2.2');
const GUEST_MAC = localMac(0x15), GUEST_IP = ipv4Address('10.0.2.15');
const ZERO_MAC = macAddress('00:00:00:00:00:00');

function setup() {
  const sw = new VirtualSwitch();
  const guest = sw.createPort({ name: 'guest' });
  const responder = new IcmpResponder(sw, { mac: HOST_MAC, ip: HOST_IP });
  return { sw, guest, responder };
}

function arpRequest(targetIp = HOST_IP): Uint8Array {
  const arp = buildArp({ operation: ArpOperation.REQUEST, senderMac: GUEST_MAC, senderIp: GUEST_IP, targetMac: ZERO_MAC, targetIp });
  return buildEthernet(BROADCAST_MAC, GUEST_MAC, EtherType.ARP, arp);
}

function echo(type: IcmpType.ECHO_REQUEST | IcmpType.ECHO_REPLY, sequence: number, dst = HOST_IP, src = GUEST_IP, dstMac = HOST_MAC): Uint8Array {
  const icmp = buildIcmpEcho({ type, identifier: 0x4242, sequence, data: Uint8Array.from({ length: 56 }, (_, i) => i ^ 0x5a) });
  return buildEthernet(dstMac, GUEST_MAC, EtherType.IPV4, buildIpv4({ src, dst, protocol: IpProtocol.ICMP, payload: icmp }));
}

/** The guest side of a ping: answers the responder's ARP requests and echo requests. */
function guestStack(guest: SwitchPort): string[] {
  const answered: string[] = [];
  for (let frame = guest.receive(); frame !== undefined; frame = guest.receive()) {
    const eth = parseEthernet(frame)!;
    if (eth.etherType === EtherType.ARP) {
      const arp = parseArp(eth.payload)!;
      if (arp.operation !== ArpOperation.REQUEST || arp.targetIp !== GUEST_IP) continue;
      const reply = buildArp({ operation: ArpOperation.REPLY, senderMac: GUEST_MAC, senderIp: GUEST_IP, targetMac: arp.senderMac, targetIp: arp.senderIp });
      guest.send(buildEthernet(arp.senderMac, GUEST_MAC, EtherType.ARP, reply));
      answered.push('arp');
    } else if (eth.etherType === EtherType.IPV4) {
      const ip = parseIpv4(eth.payload)!;
      const request = parseIcmpEcho(ip.payload)!;
      const reply = buildIcmpEcho({ ...request, type: IcmpType.ECHO_REPLY });
      guest.send(buildEthernet(eth.src, GUEST_MAC, EtherType.IPV4, buildIpv4({ src: GUEST_IP, dst: ip.src, protocol: IpProtocol.ICMP, payload: reply })));
      answered.push('echo');
    }
  }
  return answered;
}

test('answers an ARP request for its address with a unicast reply', () => {
  const { guest, responder } = setup();
  guest.send(arpRequest());
  assert.equal(guest.pending, 0, 'nothing until the responder polls');
  responder.poll();
  const eth = parseEthernet(guest.receive()!)!;
  assert.equal(eth.dst, GUEST_MAC);
  assert.equal(eth.src, HOST_MAC);
  assert.equal(eth.etherType, EtherType.ARP);
  assert.deepEqual(parseArp(eth.payload), { operation: ArpOperation.REPLY, senderMac: HOST_MAC, senderIp: HOST_IP, targetMac: GUEST_MAC, targetIp: GUEST_IP });
  assert.equal(responder.arpCache.get(GUEST_IP), GUEST_MAC, 'learned the asker (RFC 826)');
  assert.equal(responder.counters.arpRepliesSent, 1);
});

test('answers a ping with the same identifier, sequence and data, addresses swapped, checksums valid', () => {
  const { guest, responder } = setup();
  const request = echo(IcmpType.ECHO_REQUEST, 9);
  guest.send(request);
  responder.poll();
  const eth = parseEthernet(guest.receive()!)!;
  assert.deepEqual([eth.dst, eth.src], [GUEST_MAC, HOST_MAC]);
  const ip = parseIpv4(eth.payload)!; // checks the header checksum
  assert.deepEqual([ip.src, ip.dst, ip.protocol], [HOST_IP, GUEST_IP, IpProtocol.ICMP]);
  const reply = parseIcmpEcho(ip.payload)!; // checks the ICMP checksum
  const sent = parseIcmpEcho(parseIpv4(parseEthernet(request)!.payload)!.payload)!;
  assert.equal(reply.type, IcmpType.ECHO_REPLY);
  assert.deepEqual([reply.identifier, reply.sequence, [...reply.data]], [sent.identifier, sent.sequence, [...sent.data]]);
  assert.equal(responder.counters.echoRepliesSent, 1);
});

test('ignores what is not for it: other addresses, corrupt packets, tagged frames', () => {
  const { guest, responder } = setup();
  guest.send(arpRequest(ipv4Address('10.0.2.3')));
  guest.send(echo(IcmpType.ECHO_REQUEST, 1, ipv4Address('10.0.2.3')));
  const corrupt = echo(IcmpType.ECHO_REQUEST, 2);
  corrupt[corrupt.length - 1]! ^= 1;
  guest.send(corrupt);
  guest.send(echo(IcmpType.ECHO_REPLY, 3)); // a reply nobody asked for
  guest.send(buildEthernet(HOST_MAC, GUEST_MAC, EtherType.VLAN, new Uint8Array(60)));
  guest.send(buildEthernet(HOST_MAC, GUEST_MAC, EtherType.IPV4, new Uint8Array(3)));
  assert.equal(responder.poll(), 6);
  assert.equal(guest.pending, 0);
  assert.equal(responder.counters.ignored, 6);
  assert.equal(responder.arpCache.size, 0, 'an ARP request for someone else does not add entries');
});

test('pings a guest: ARP first, then the echo request; the reply resolves the promise', async () => {
  const { guest, responder } = setup();
  const reply = responder.ping(GUEST_IP, { sequence: 5, data: Uint8Array.of(1, 2, 3, 4) });
  assert.deepEqual(guestStack(guest), ['arp']);
  responder.poll(); // ARP reply in: the echo request goes out
  assert.deepEqual(guestStack(guest), ['echo']);
  responder.poll();
  const r = await reply;
  assert.deepEqual([r.from, r.fromMac, r.sequence, [...r.data]], [GUEST_IP, GUEST_MAC, 5, [1, 2, 3, 4]]);
  assert.deepEqual(responder.counters, { arpRepliesSent: 0, echoRepliesSent: 0, echoRequestsSent: 1, echoRepliesReceived: 1, ignored: 0, arpCacheEvictions: 0 });
  // The address is cached: a second ping goes straight out.
  const second = responder.ping(GUEST_IP);
  assert.deepEqual(guestStack(guest), ['echo']);
  responder.poll();
  assert.equal((await second).sequence, 1, 'default sequence numbers count from 1');
  assert.equal(responder.counters.echoRepliesReceived, 2);
});

test('a ping without an answer rejects when its signal aborts', async () => {
  const { responder } = setup();
  const controller = new AbortController();
  const pending = responder.ping(GUEST_IP, { signal: controller.signal });
  controller.abort(new Error('ping timed out'));
  await assert.rejects(pending, /ping timed out/);
});

test('a group MAC is refused', () => {
  const sw = new VirtualSwitch();
  assert.throws(() => new IcmpResponder(sw, { mac: BROADCAST_MAC, ip: HOST_IP }), (e: unknown) => e instanceof IcmpResponderError && e.kind === 'icmp-responder');
});

test('a flood of ARP requests from new senders keeps the cache at its capacity, oldest out, a recent entry kept', () => {
  const sw = new VirtualSwitch();
  const guest = sw.createPort({ name: 'guest', queueCapacity: 4 });
  const responder = new IcmpResponder(sw, { mac: HOST_MAC, ip: HOST_IP, arpCacheCapacity: 64 });
  const request = (senderIp: Ipv4Address) =>
    buildEthernet(BROADCAST_MAC, GUEST_MAC, EtherType.ARP, buildArp({ operation: ArpOperation.REQUEST, senderMac: GUEST_MAC, senderIp, targetMac: ZERO_MAC, targetIp: HOST_IP }));
  const sender = (n: number) => ipv4Address(`172.${16 + (n >> 16)}.${(n >> 8) & 0xff}.${n & 0xff}`);
  guest.send(request(GUEST_IP));
  for (let n = 1; n <= 100_000; n++) {
    guest.send(request(sender(n)));
    // The real guest keeps talking, so its entry stays recently used.
    if (n % 32 === 0) guest.send(request(GUEST_IP));
    if (n % 128 === 0) responder.poll();
  }
  responder.poll();
  const cache = responder.arpCache;
  assert.equal(cache.size, 64);
  assert.equal(cache.has(GUEST_IP), true, 'the recently used entry is kept');
  assert.equal(cache.has(sender(1)), false, 'the oldest went');
  assert.equal(cache.has(sender(100_000)), true);
  assert.equal(responder.counters.arpCacheEvictions, 100_001 - 64);
  assert.ok(guest.pending <= 4, 'replies to a guest that does not read them are bounded by its port queue');
  assert.ok(guest.counters.txDropped > 0, 'and the rest are dropped and counted');
});
