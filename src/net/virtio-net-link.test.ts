// End to end: virtio-net devices, driven through their MMIO transports by a fake driver, on one
// VirtualSwitch with an IcmpResponder, as the board wires them (poll between run slices).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualSwitch } from './virtual-switch.js';
import type { SwitchPort } from './virtual-switch.js';
import { IcmpResponder } from './icmp-responder.js';
import { ArpOperation, buildArp, parseArp } from './arp.js';
import { EtherType, buildEthernet, parseEthernet } from './ethernet.js';
import { IcmpType, buildIcmpEcho, parseIcmpEcho } from './icmp.js';
import { IpProtocol, buildIpv4, ipv4Address, parseIpv4 } from './ipv4.js';
import type { Ipv4Address } from './ipv4.js';
import { BROADCAST_MAC, localMac, macAddress, macToBytes } from './mac-address.js';
import type { MacAddress } from './mac-address.js';
import { VirtioNet, VIRTIO_NET_RX_QUEUE, VIRTIO_NET_TX_QUEUE } from '../devices/virtio/net/device.js';
import { VirtioFeature } from '../devices/virtio/virtio-device.js';
import { VirtioTestDriver } from '../devices/virtio/testing/virtio-test-driver.js';

const HOST_MAC = localMac(0xfe), HOST_IP = ipv4Address('10.0.2.2');

/** One VM's NIC: a virtio-net device on a switch port, with its guest driver. */
class Guest {
  readonly port: SwitchPort;
  readonly net: VirtioNet;
  readonly driver: VirtioTestDriver;
  private readonly rxBuffers = new Map<number, number>();

  constructor(sw: VirtualSwitch, readonly mac: MacAddress, readonly ip: Ipv4Address) {
    this.port = sw.createPort({ name: `vm ${ip}` });
    this.net = new VirtioNet({ mac: macToBytes(mac), backend: this.port });
    this.driver = new VirtioTestDriver(this.net, { ramBytes: 1 << 20 });
    // Without EVENT_IDX: this driver does not maintain used_event.
    this.driver.init({ accept: (offered) => offered & ~VirtioFeature.EVENT_IDX, queueSizes: [16, 16] });
    for (let i = 0; i < 4; i++) this.postRx();
  }

  transmit(frame: Uint8Array): void {
    const packet = new Uint8Array(12 + frame.length);
    packet.set(frame, 12);
    this.driver.submit(VIRTIO_NET_TX_QUEUE, [{ read: packet }]);
    assert.equal(this.driver.takeUsed(VIRTIO_NET_TX_QUEUE).length, 1);
  }

  /** What the driver's interrupt handler would find: received frames, header stripped; buffers re-posted. */
  received(): Uint8Array[] {
    if (!this.driver.irqLevel) return [];
    this.driver.ackInterrupt();
    return this.driver.takeUsed(VIRTIO_NET_RX_QUEUE).map(({ id, len }) => {
      const frame = this.driver.bytes(this.rxBuffers.get(id)! + 12, len - 12);
      this.postRx();
      return frame;
    });
  }

  private postRx(): void {
    const { head, addrs } = this.driver.submit(VIRTIO_NET_RX_QUEUE, [{ write: 1526 }], { notify: false });
    this.rxBuffers.set(head, addrs[0]!);
  }
}

function udpLikeFrame(dst: MacAddress, src: MacAddress, text: string): Uint8Array {
  return buildEthernet(dst, src, 0x88b5, new TextEncoder().encode(text)); // IEEE 802 local experimental EtherType
}

test('two NICs on one switch exchange frames end to end, and learning keeps unicast off other ports', () => {
  const sw = new VirtualSwitch();
  const a = new Guest(sw, localMac(0xa), ipv4Address('10.0.2.10'));
  const b = new Guest(sw, localMac(0xb), ipv4Address('10.0.2.11'));
  const c = new Guest(sw, localMac(0xc), ipv4Address('10.0.2.12'));
  const poll = () => [a, b, c].forEach((g) => g.net.poll());

  const hello = udpLikeFrame(b.mac, a.mac, 'hello from a');
  a.transmit(hello); // VM a's run slice
  poll(); // the board, between slices
  assert.deepEqual(b.received(), [hello]);
  assert.equal(c.received().length, 1, 'b was not learned yet: flooded');

  const answer = udpLikeFrame(a.mac, b.mac, 'hello from b');
  b.transmit(answer);
  poll();
  assert.deepEqual(a.received(), [answer]);
  assert.deepEqual(c.received(), [], 'a was learned: unicast only to its port');
  a.transmit(udpLikeFrame(b.mac, a.mac, 'again'));
  poll();
  assert.equal(b.received().length, 1);
  assert.deepEqual(c.received(), []);

  assert.deepEqual(a.net.counters, { txFrames: 2, txBytes: 26 + 19, txDropped: 0, rxFrames: 1, rxBytes: 26, rxDropped: 0 });
  assert.deepEqual(a.port.counters, { rxFrames: 2, rxBytes: 45, rxDropped: 0, txFrames: 1, txBytes: 26, txDropped: 0 });
});

test('a guest pings the host responder through virtio-net: ARP, then echo request and reply', () => {
  const sw = new VirtualSwitch();
  const guest = new Guest(sw, localMac(0x15), ipv4Address('10.0.2.15'));
  const responder = new IcmpResponder(sw, { mac: HOST_MAC, ip: HOST_IP });
  const step = () => {
    responder.poll();
    guest.net.poll();
  };

  const arp = buildArp({ operation: ArpOperation.REQUEST, senderMac: guest.mac, senderIp: guest.ip, targetMac: macAddress('00:00:00:00:00:00'), targetIp: HOST_IP });
  guest.transmit(buildEthernet(BROADCAST_MAC, guest.mac, EtherType.ARP, arp));
  step();
  const [arpFrame] = guest.received();
  const arpReply = parseArp(parseEthernet(arpFrame!)!.payload)!;
  assert.deepEqual([arpReply.operation, arpReply.senderMac, arpReply.senderIp], [ArpOperation.REPLY, HOST_MAC, HOST_IP]);

  const data = new TextEncoder().encode('vireo ping payload');
  const icmp = buildIcmpEcho({ type: IcmpType.ECHO_REQUEST, identifier: 77, sequence: 1, data });
  guest.transmit(buildEthernet(arpReply.senderMac, guest.mac, EtherType.IPV4, buildIpv4({ src: guest.ip, dst: HOST_IP, protocol: IpProtocol.ICMP, payload: icmp })));
  step();
  const [replyFrame] = guest.received();
  const ip = parseIpv4(parseEthernet(replyFrame!)!.payload)!;
  const reply = parseIcmpEcho(ip.payload)!;
  assert.deepEqual([ip.src, ip.dst, reply.type, reply.identifier, reply.sequence], [HOST_IP, guest.ip, IcmpType.ECHO_REPLY, 77, 1]);
  assert.deepEqual(reply.data, data);
});

test('the host pings a guest through virtio-net', async () => {
  const sw = new VirtualSwitch();
  const guest = new Guest(sw, localMac(0x15), ipv4Address('10.0.2.15'));
  const responder = new IcmpResponder(sw, { mac: HOST_MAC, ip: HOST_IP });
  const pong = responder.ping(guest.ip, { sequence: 3 });
  // The guest's network stack, for the two packets it will see.
  for (let round = 0; round < 2; round++) {
    guest.net.poll();
    for (const frame of guest.received()) {
      const eth = parseEthernet(frame)!;
      if (eth.etherType === EtherType.ARP) {
        const req = parseArp(eth.payload)!;
        assert.equal(req.targetIp, guest.ip);
        const rep = buildArp({ operation: ArpOperation.REPLY, senderMac: guest.mac, senderIp: guest.ip, targetMac: req.senderMac, targetIp: req.senderIp });
        guest.transmit(buildEthernet(eth.src, guest.mac, EtherType.ARP, rep));
      } else {
        const ip = parseIpv4(eth.payload)!;
        const echo = parseIcmpEcho(ip.payload)!;
        const rep = buildIcmpEcho({ ...echo, type: IcmpType.ECHO_REPLY });
        guest.transmit(buildEthernet(eth.src, guest.mac, EtherType.IPV4, buildIpv4({ src: guest.ip, dst: ip.src, protocol: IpProtocol.ICMP, payload: rep })));
      }
    }
    responder.poll();
  }
  const reply = await pong;
  assert.deepEqual([reply.from, reply.fromMac, reply.sequence], [guest.ip, guest.mac, 3]);
});

test('frames for a guest that posts no receive buffers, and for a host that does not poll, are bounded and counted', () => {
  const sw = new VirtualSwitch({ queueCapacity: 32 });
  const guest = new Guest(sw, localMac(0x15), ipv4Address('10.0.2.15'));
  const responder = new IcmpResponder(sw, { mac: HOST_MAC, ip: HOST_IP });
  const ping = (sequence: number) => {
    const icmp = buildIcmpEcho({ type: IcmpType.ECHO_REQUEST, identifier: 1, sequence, data: new Uint8Array(56) });
    guest.transmit(buildEthernet(HOST_MAC, guest.mac, EtherType.IPV4, buildIpv4({ src: guest.ip, dst: HOST_IP, protocol: IpProtocol.ICMP, payload: icmp })));
  };
  // The guest floods the host and never takes what it is sent (its four buffers fill once).
  for (let i = 0; i < 1000; i++) {
    ping(i);
    if (i % 10 === 9) {
      responder.poll();
      guest.net.poll();
    }
  }
  assert.equal(guest.net.counters.rxFrames, 4);
  assert.equal(guest.port.pending, 32, 'replies wait up to the port queue capacity');
  assert.equal(guest.port.counters.txDropped, 1000 - 4 - 32, 'the rest are dropped and counted');
  // The host side: a responder nobody polls holds at most its queue.
  for (let i = 0; i < 1000; i++) ping(i);
  assert.equal(responder.endpoint.pending, 32);
  assert.equal(responder.endpoint.counters.txDropped, 1000 - 32);
});
