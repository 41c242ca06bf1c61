import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostEndpoint } from './host-endpoint.js';
import { VirtualSwitch } from './virtual-switch.js';
import { EtherType, buildEthernet } from './ethernet.js';
import { BROADCAST_MAC, localMac } from './mac-address.js';

const frame = (n: number) => buildEthernet(BROADCAST_MAC, localMac(1), EtherType.IPV4, Uint8Array.of(n));

test('poll hands queued frames to the handlers, in order, only when called', () => {
  const sw = new VirtualSwitch();
  const guest = sw.createPort();
  const host = new HostEndpoint(sw);
  const seen: number[] = [];
  host.onFrame((f) => seen.push(f[14]!));
  guest.send(frame(1));
  guest.send(frame(2));
  assert.deepEqual(seen, []);
  assert.equal(host.pending, 2);
  assert.equal(host.poll(), 2);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(host.counters.txFrames, 2);
});

test('host frames reach guests through the switch', () => {
  const sw = new VirtualSwitch();
  const guest = sw.createPort();
  const host = new HostEndpoint(sw);
  assert.equal(host.send(frame(3)), true);
  assert.equal(guest.receive()![14], 3);
  assert.equal(host.send(new Uint8Array(5)), false, 'runt refused');
});

test("microtask delivery runs handlers after the sender's synchronous step, not inside it", async () => {
  const sw = new VirtualSwitch();
  const guest = sw.createPort();
  const host = new HostEndpoint(sw, { delivery: 'microtask' });
  const seen: number[] = [];
  host.onFrame((f) => seen.push(f[14]!));
  guest.send(frame(1));
  guest.send(frame(2));
  assert.deepEqual(seen, [], 'not re-entered during send');
  await Promise.resolve();
  assert.deepEqual(seen, [1, 2]);
});

test('the async iterator yields frames as they come and ends on close', async () => {
  const sw = new VirtualSwitch();
  const guest = sw.createPort();
  const host = new HostEndpoint(sw);
  guest.send(frame(1));
  const got: number[] = [];
  const done = (async () => {
    for await (const f of host.frames()) got.push(f[14]!);
  })();
  await new Promise((r) => setImmediate(r));
  guest.send(frame(2));
  await new Promise((r) => setImmediate(r));
  host.close();
  await done;
  assert.deepEqual(got, [1, 2]);
  assert.equal(sw.ports.length, 1, 'closing detaches the port');
});

test('the async iterator stops when its signal aborts', async () => {
  const sw = new VirtualSwitch();
  const host = new HostEndpoint(sw);
  const controller = new AbortController();
  const done = (async () => {
    let n = 0;
    for await (const _ of host.frames(controller.signal)) n++;
    return n;
  })();
  controller.abort();
  assert.equal(await done, 0);
});
