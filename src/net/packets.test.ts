import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArpOperation, buildArp, parseArp } from './arp.js';
import { EtherType, buildEthernet, isValidFrameLength, parseEthernet } from './ethernet.js';
import { IcmpType, buildIcmpEcho, parseIcmpEcho } from './icmp.js';
import { IpProtocol, Ipv4Error, buildIpv4, internetChecksum, ipv4Address, parseIpv4 } from './ipv4.js';
import { MacAddressError, isGroupMac, localMac, macAddress, macFromBytes, macToBytes } from './mac-address.js';

test('MAC addresses: canonical text, bytes both ways, group bit', () => {
  const mac = macAddress('02-AB-cd-00-00-0F');
  assert.equal(mac, '02:ab:cd:00:00:0f');
  assert.deepEqual([...macToBytes(mac)], [0x02, 0xab, 0xcd, 0, 0, 0x0f]);
  assert.equal(macFromBytes(Uint8Array.of(9, 9, 0x02, 0xab, 0xcd, 0, 0, 0x0f), 2), mac);
  assert.equal(isGroupMac(mac), false);
  assert.equal(isGroupMac(macAddress('01:00:5e:00:00:01')), true);
  assert.equal(localMac(0x01020304), '02:00:01:02:03:04');
  assert.throws(() => macAddress('02:00:00:00:00'), (e: unknown) => e instanceof MacAddressError && e.kind === 'mac-address');
  assert.throws(() => macAddress('02:00:00:00:00:0g'), MacAddressError);
});

test('IPv4 addresses: dotted quads only', () => {
  assert.equal(ipv4Address(' 10.0.2.15 '), '10.0.2.15');
  for (const bad of ['10.0.2', '10.0.2.256', '10.0.02.1', '1.2.3.4.5', 'a.b.c.d']) {
    assert.throws(() => ipv4Address(bad), (e: unknown) => e instanceof Ipv4Error && e.kind === 'ipv4', bad);
  }
});

test('internet checksum: RFC 1071 example, odd lengths, and zero over a checksummed block', () => {
  // RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2, so the checksum is 220d.
  assert.equal(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7)), 0x220d);
  assert.equal(internetChecksum(Uint8Array.of(0xff)), 0x00ff);
  const packet = buildIpv4({ src: ipv4Address('10.0.2.2'), dst: ipv4Address('10.0.2.15'), protocol: IpProtocol.ICMP, payload: new Uint8Array(3) });
  assert.equal(internetChecksum(packet.subarray(0, 20)), 0);
});

test('Ethernet: build and parse, VLAN tags, length rules', () => {
  const dst = localMac(2), src = localMac(1);
  const frame = buildEthernet(dst, src, EtherType.ARP, Uint8Array.of(1, 2, 3));
  assert.equal(frame.length, 17);
  const eth = parseEthernet(frame)!;
  assert.deepEqual({ ...eth, payload: [...eth.payload] }, { dst, src, etherType: EtherType.ARP, payload: [1, 2, 3] });
  const tagged = buildEthernet(dst, src, EtherType.VLAN, Uint8Array.of(0x20, 0x05, 0x08, 0x00, 0xaa));
  assert.deepEqual(parseEthernet(tagged)!.vlan, 5);
  assert.deepEqual(parseEthernet(tagged)!.etherType, EtherType.IPV4);
  assert.equal(parseEthernet(new Uint8Array(13)), undefined);
  assert.equal(parseEthernet(buildEthernet(dst, src, EtherType.VLAN, Uint8Array.of(0, 5))), undefined, 'tag cut short');
  assert.equal(isValidFrameLength(new Uint8Array(1514)), true);
  assert.equal(isValidFrameLength(new Uint8Array(1515)), false);
});

test('ARP: round trip, and anything but Ethernet/IPv4 ARP is refused', () => {
  const packet = { operation: ArpOperation.REQUEST, senderMac: localMac(1), senderIp: ipv4Address('10.0.2.15'), targetMac: macAddress('00:00:00:00:00:00'), targetIp: ipv4Address('10.0.2.2') };
  const bytes = buildArp(packet);
  assert.equal(bytes.length, 28);
  assert.deepEqual([...bytes.subarray(0, 8)], [0, 1, 8, 0, 6, 4, 0, 1]);
  assert.deepEqual(parseArp(bytes), packet);
  assert.equal(parseArp(bytes.subarray(0, 27)), undefined);
  const ipv6ish = bytes.slice();
  ipv6ish[5] = 16;
  assert.equal(parseArp(ipv6ish), undefined);
});

test('IPv4 and ICMP echo: round trip; bad checksums, fragments and truncation are refused', () => {
  const echo = buildIcmpEcho({ type: IcmpType.ECHO_REQUEST, identifier: 0x1234, sequence: 7, data: Uint8Array.of(1, 2, 3) });
  const packet = buildIpv4({ src: ipv4Address('10.0.2.15'), dst: ipv4Address('10.0.2.2'), protocol: IpProtocol.ICMP, payload: echo, ttl: 3 });
  // Ethernet pads short frames; the IP total length trims the padding off.
  const padded = new Uint8Array(packet.length + 10);
  padded.set(packet);
  const ip = parseIpv4(padded)!;
  assert.deepEqual([ip.src, ip.dst, ip.protocol, ip.ttl, ip.payload.length], ['10.0.2.15', '10.0.2.2', 1, 3, echo.length]);
  const parsed = parseIcmpEcho(ip.payload)!;
  assert.deepEqual([parsed.type, parsed.identifier, parsed.sequence, [...parsed.data]], [IcmpType.ECHO_REQUEST, 0x1234, 7, [1, 2, 3]]);

  const badHeader = packet.slice();
  badHeader[8]! ^= 1;
  assert.equal(parseIpv4(badHeader), undefined, 'header checksum');
  const fragment = buildIpv4({ src: ip.src, dst: ip.dst, protocol: 1, payload: echo });
  fragment[6] = 0x20; // MF
  fragment[10] = fragment[11] = 0;
  const sum = internetChecksum(fragment.subarray(0, 20));
  fragment[10] = sum >>> 8;
  fragment[11] = sum & 0xff;
  assert.equal(parseIpv4(fragment), undefined, 'fragments are not reassembled');
  assert.equal(parseIpv4(packet.subarray(0, packet.length - 1)), undefined, 'shorter than its total length');
  const badEcho = echo.slice();
  badEcho[9]! ^= 0xff;
  assert.equal(parseIcmpEcho(badEcho), undefined, 'ICMP checksum');
  assert.equal(parseIcmpEcho(echo.subarray(0, 7)), undefined);
});
