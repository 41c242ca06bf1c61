import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualSwitch, VirtualSwitchError } from './virtual-switch.js';
import { EtherType, buildEthernet } from './ethernet.js';
import { BROADCAST_MAC, localMac, macAddress } from './mac-address.js';
import type { MacAddress } from './mac-address.js';

const A = localMac(1), B = localMac(2), C = localMac(3);

function frame(dst: MacAddress, src: MacAddress, payloadBytes = 46, fill = 0): Uint8Array {
  return buildEthernet(dst, src, EtherType.IPV4, new Uint8Array(payloadBytes).fill(fill));
}

function threePorts(options = {}) {
  const sw = new VirtualSwitch(options);
  return { sw, a: sw.createPort({ name: 'a' }), b: sw.createPort({ name: 'b' }), c: sw.createPort({ name: 'c' }) };
}

function drain(port: { receive(): Uint8Array | undefined }): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let f = port.receive(); f !== undefined; f = port.receive()) out.push(f);
  return out;
}

test('unknown unicast floods to every port but the ingress one, then learned unicast goes to one port', () => {
  const { sw, a, b, c } = threePorts();
  assert.equal(a.send(frame(B, A)), true);
  assert.equal(a.pending, 0, 'never back out the ingress port');
  assert.equal(b.pending, 1);
  assert.equal(c.pending, 1);
  assert.equal(sw.counters.unknownUnicastFlooded, 1);
  drain(b);
  drain(c);
  // b answers: A was learned on port a, so only a receives it; B is learned on b.
  b.send(frame(A, B, 46, 7));
  assert.deepEqual([a.pending, b.pending, c.pending], [1, 0, 0]);
  assert.equal(a.receive()![14], 7);
  a.send(frame(B, A));
  assert.deepEqual([a.pending, b.pending, c.pending], [0, 1, 0]);
  assert.deepEqual(sw.macTable(), [{ mac: A, port: 'a' }, { mac: B, port: 'b' }]);
});

test('broadcast and multicast always flood, even to ports whose address is known', () => {
  const { a, b, c } = threePorts();
  b.send(frame(A, B));
  c.send(frame(A, C));
  drain(a);
  drain(b);
  drain(c);
  a.send(frame(BROADCAST_MAC, A));
  a.send(frame(macAddress('01:00:5e:00:00:01'), A));
  assert.deepEqual([a.pending, b.pending, c.pending], [0, 2, 2]);
});

test('each receiver gets its own copy, and the sender may reuse its buffer', () => {
  const { a, b, c } = threePorts();
  const f = frame(BROADCAST_MAC, A, 46, 1);
  a.send(f);
  f.fill(0xee);
  const fb = b.receive()!;
  const fc = c.receive()!;
  assert.equal(fb[20], 1);
  fb[20] = 9;
  assert.equal(fc[20], 1);
});

test('a frame to an address learned on the ingress port is filtered, not reflected', () => {
  const { sw, a, b } = threePorts();
  a.send(frame(B, A));
  drain(b);
  a.send(frame(A, A)); // A talks to itself
  assert.equal(b.pending + a.pending, 0);
  assert.equal(sw.counters.filtered, 1);
});

test('a station that moves is re-learned on its new port', () => {
  const { a, b, c } = threePorts();
  a.send(frame(B, A));
  drain(b);
  drain(c);
  c.send(frame(B, A)); // A moved to port c
  drain(a);
  drain(b);
  b.send(frame(A, B));
  assert.deepEqual([a.pending, c.pending], [0, 1]);
});

test('frame length limits: 14..1514 bytes, 1518 with a VLAN tag; others dropped and counted', () => {
  const { a, b } = threePorts();
  assert.equal(a.send(new Uint8Array(13)), false);
  assert.equal(a.send(frame(B, A, 0)), true, 'a bare 14-byte header passes');
  assert.equal(a.send(frame(B, A, 1500)), true);
  assert.equal(a.send(frame(B, A, 1501)), false);
  const tagged = buildEthernet(B, A, EtherType.VLAN, new Uint8Array(1504));
  assert.equal(a.send(tagged), true);
  assert.equal(a.send(buildEthernet(B, A, EtherType.VLAN, new Uint8Array(1505))), false);
  assert.equal(a.send(new Uint8Array(65536)), false);
  assert.equal(b.pending, 3);
  const counters = a.counters;
  assert.equal(counters.rxFrames, 3);
  assert.equal(counters.rxBytes, 14 + 1514 + 1518);
  assert.equal(counters.rxDropped, 4);
});

test('a group source address is refused and never learned', () => {
  const { sw, a, b } = threePorts();
  assert.equal(a.send(frame(B, BROADCAST_MAC)), false);
  assert.equal(b.pending, 0);
  assert.equal(a.counters.rxDropped, 1);
  assert.deepEqual(sw.macTable(), []);
});

test('a full port queue drops new frames and counts them; the sender still succeeds', () => {
  const lines: string[] = [];
  const sw = new VirtualSwitch({ log: (l) => lines.push(l) });
  const a = sw.createPort({ name: 'a' });
  const b = sw.createPort({ name: 'b', queueCapacity: 2 });
  for (let i = 0; i < 5; i++) assert.equal(a.send(frame(B, A, 46, i)), true);
  assert.equal(b.pending, 2);
  assert.deepEqual(drain(b).map((f) => f[14]), [0, 1], 'oldest frames kept, in order');
  assert.deepEqual(b.counters, { rxFrames: 0, rxBytes: 0, rxDropped: 0, txFrames: 2, txBytes: 120, txDropped: 3 });
  assert.deepEqual(a.counters, { rxFrames: 5, rxBytes: 300, rxDropped: 0, txFrames: 0, txBytes: 0, txDropped: 0 });
  assert.equal(lines.length, 1, 'one log line, not one per drop');
  assert.match(lines[0]!, /switch port b: dropped/);
  a.send(frame(B, A));
  assert.equal(b.pending, 1, 'room again after the device drained its queue');
});

test('onReceive listeners fire per queued frame and can be removed; a throwing listener is contained', () => {
  const lines: string[] = [];
  const sw = new VirtualSwitch({ log: (l) => lines.push(l) });
  const a = sw.createPort();
  const b = sw.createPort();
  let calls = 0;
  const off = b.onReceive(() => calls++);
  b.onReceive(() => {
    throw new Error('listener bug');
  });
  assert.equal(a.send(frame(B, A)), true);
  a.send(frame(B, A));
  off();
  a.send(frame(B, A));
  assert.equal(calls, 2);
  assert.equal(b.pending, 3);
  assert.ok(lines.some((l) => l.includes('listener bug')));
});

test('the MAC table is bounded: a guest inventing addresses cannot grow it', () => {
  const sw = new VirtualSwitch({ macTableCapacity: 4 });
  const a = sw.createPort();
  const b = sw.createPort();
  for (let i = 0; i < 10; i++) a.send(frame(BROADCAST_MAC, localMac(100 + i)));
  assert.equal(sw.macTable().length, 4);
  assert.equal(sw.counters.learningSkipped, 6);
  // Unlearned stations still get their frames, by flooding.
  b.send(frame(localMac(109), B));
  assert.equal(a.pending, 1);
});

test('with ageing, entries expire and make room', () => {
  let now = 0;
  const sw = new VirtualSwitch({ clock: { now: () => now }, macAgeing: 300, macTableCapacity: 1 });
  const a = sw.createPort();
  const b = sw.createPort();
  a.send(frame(BROADCAST_MAC, A));
  assert.equal(sw.lookup(A), a);
  now = 299;
  assert.equal(sw.lookup(A), a);
  now = 300;
  assert.equal(sw.lookup(A), undefined);
  b.send(frame(BROADCAST_MAC, B));
  assert.equal(sw.lookup(B), b);
  now = 1000;
  b.send(frame(BROADCAST_MAC, C)); // the table is full of a stale entry: it is evicted
  assert.equal(sw.lookup(C), b);
});

test('a detached port receives nothing, forgets its addresses and drops what it sends', () => {
  const { sw, a, b, c } = threePorts();
  b.send(frame(A, B));
  drain(a);
  drain(c);
  b.detach();
  assert.equal(sw.lookup(B), undefined);
  assert.equal(sw.ports.length, 2);
  a.send(frame(B, A));
  assert.equal(c.pending, 1, 'B is unknown again: flooded to the remaining ports');
  assert.equal(b.send(frame(A, B)), false);
  assert.equal(b.counters.rxDropped, 1);
});

test('bad options are host errors with a kind', () => {
  assert.throws(() => new VirtualSwitch({ queueCapacity: 0 }), (e: unknown) => e instanceof VirtualSwitchError && e.kind === 'virtual-switch');
  assert.throws(() => new VirtualSwitch({ macAgeing: 10 }), VirtualSwitchError);
});
