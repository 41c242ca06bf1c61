// virtio-blk with requests in flight: completion order, flush ordering, reset, rate limits,
// save and online resize, against a backend whose operations finish only when the test says.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBlockBackend } from '../../../storage/memory-block-backend.js';
import { VirtioMmioRegister as R } from '../mmio-transport.js';
import { blockRequestHeader } from '../testing/block-request-header.js';
import { VirtioTestDriver } from '../testing/virtio-test-driver.js';
import { VirtioBlkConfig as C, VirtioBlockDevice, type RequestThrottle } from './device.js';
import { VirtioBlkStatus as St, VirtioBlkType as T } from './request.js';

const header = blockRequestHeader;

/** A memory disk whose every operation waits until release(name) lets it go; `log` records the order things happened. */
class GatedBackend extends MemoryBlockBackend {
  readonly log: string[] = [];
  private readonly gates = new Map<string, () => void>();

  private gate(name: string): Promise<void> {
    this.log.push(`start ${name}`);
    return new Promise((resolve) => this.gates.set(name, () => {
      this.log.push(`end ${name}`);
      resolve();
    }));
  }

  release(name: string): void {
    const open = this.gates.get(name);
    assert.ok(open, `${name} is not waiting (waiting: ${[...this.gates.keys()].join(', ')})`);
    this.gates.delete(name);
    open();
  }

  override async read(offset: number, into: Uint8Array): Promise<void> {
    await this.gate(`read@${offset / 512}`);
    return super.read(offset, into);
  }

  override async write(offset: number, data: Uint8Array): Promise<void> {
    await this.gate(`write@${offset / 512}`);
    return super.write(offset, data);
  }

  override async flush(): Promise<void> {
    await this.gate('flush');
    return super.flush();
  }
}

/** Lets the event loop turn twice: completions, then the pump the device schedules after them. */
const settle = async () => {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
};

function setup(backend: MemoryBlockBackend, throttle?: RequestThrottle) {
  let completions = 0;
  const device = new VirtioBlockDevice({ backend, onComplete: () => completions++, ...(throttle ? { throttle } : {}) });
  const driver = new VirtioTestDriver(device);
  driver.init();
  return { device, driver, completions: () => completions };
}

test('several requests are in flight at once and complete in the order the disk finishes them', async () => {
  const backend = new GatedBackend({ contents: Uint8Array.from({ length: 16 * 512 }, (_, i) => i >> 9) });
  const { device, driver, completions } = setup(backend);
  const reads = [3, 5, 7].map((sector) => driver.submit(0, [{ read: header(T.IN, sector) }, { write: 512 }, { write: 1 }]));
  await settle();
  assert.equal(device.inFlight, 3);
  assert.deepEqual(backend.log, ['start read@3', 'start read@5', 'start read@7']);
  assert.deepEqual(driver.takeUsed(0), [], 'nothing completes before the disk does');
  backend.release('read@7');
  await settle();
  backend.release('read@3');
  await settle();
  assert.deepEqual(driver.takeUsed(0).map((u) => u.id), [reads[2]!.head, reads[0]!.head]);
  assert.equal(driver.bytes(reads[2]!.addrs[1]!, 1)[0], 7);
  assert.equal(driver.bytes(reads[2]!.addrs[2]!, 1)[0], St.OK);
  assert.equal(device.inFlight, 1);
  assert.equal(completions(), 2);
  backend.release('read@5');
  await device.drain();
  assert.equal(device.inFlight, 0);
  assert.equal(device.stats.peakInFlight, 3);
});

test('a flush reaches the disk only after the writes made before it have finished', async () => {
  const backend = new GatedBackend({ size: 16 * 512 });
  const { device, driver } = setup(backend);
  driver.submit(0, [{ read: header(T.OUT, 1) }, { read: new Uint8Array(512).fill(1) }, { write: 1 }]);
  const flush = driver.submit(0, [{ read: header(T.FLUSH, 0) }, { write: 1 }]);
  await settle();
  assert.deepEqual(backend.log, ['start write@1'], 'the flush waits');
  backend.release('write@1');
  await settle();
  assert.deepEqual(backend.log, ['start write@1', 'end write@1', 'start flush']);
  backend.release('flush');
  await device.drain();
  assert.equal(driver.bytes(flush.addrs[1]!, 1)[0], St.OK);
  assert.equal(backend.flushes, 1);
});

test('a reset abandons requests in flight: their data never reaches guest memory, and new requests wait for them', async () => {
  const backend = new GatedBackend({ contents: new Uint8Array(16 * 512).fill(0xee) });
  const { device, driver } = setup(backend);
  const read = driver.submit(0, [{ read: header(T.IN, 2) }, { write: 512 }, { write: 1 }]);
  await settle();
  driver.w(R.STATUS, 0); // device reset
  backend.release('read@2');
  await device.drain();
  assert.ok(driver.bytes(read.addrs[1]!, 512).every((b) => b === 0), 'the abandoned read wrote nothing');
  assert.equal(device.inFlight, 0);

  // Re-initialised while an old write is still running: the new request starts after it.
  const again = setup(backend);
  again.driver.submit(0, [{ read: header(T.OUT, 4) }, { read: new Uint8Array(512) }, { write: 1 }]);
  await settle();
  again.driver.w(R.STATUS, 0);
  again.driver.init();
  again.driver.submit(0, [{ read: header(T.IN, 6) }, { write: 512 }, { write: 1 }]);
  await settle();
  assert.deepEqual(backend.log.slice(-1), ['start write@4'], 'the new read waits for the old write');
  backend.release('write@4');
  await settle();
  assert.deepEqual(backend.log.slice(-1), ['start read@6']);
  backend.release('read@6');
  await again.device.drain();
  assert.equal(again.driver.takeUsed(0).length, 1);
});

test('a throttle is asked before each request, with its kind and size, and holds it until it allows it', async () => {
  const asked: string[] = [];
  let allow: () => void = () => {};
  const throttle: RequestThrottle = {
    admit: (kind, bytes) => {
      asked.push(`${kind} ${bytes}`);
      return new Promise((resolve) => (allow = resolve));
    },
  };
  const backend = new MemoryBlockBackend({ size: 16 * 512 });
  const { device, driver } = setup(backend, throttle);
  driver.submit(0, [{ read: header(T.OUT, 0) }, { read: new Uint8Array(1024).fill(5) }, { write: 1 }]);
  await settle();
  assert.deepEqual(asked, ['write 1024']);
  assert.equal(backend.bytes[0], 0, 'held back');
  allow();
  await device.drain();
  assert.equal(backend.bytes[0], 5);
  driver.submit(0, [{ read: header(T.FLUSH, 0) }, { write: 1 }]);
  await settle();
  allow();
  await device.drain();
  assert.deepEqual(asked, ['write 1024', 'other 0']);
});

test('save refuses while requests are in flight; drain makes it possible', async () => {
  const backend = new GatedBackend({ size: 16 * 512 });
  const { device, driver } = setup(backend);
  driver.submit(0, [{ read: header(T.IN, 0) }, { write: 512 }, { write: 1 }]);
  await settle();
  assert.throws(() => device.save(), /in flight; drain/);
  backend.release('read@0');
  await device.drain();
  assert.equal(device.save().capacity, 16);
});

test('an online resize changes the capacity and raises a config change interrupt', async () => {
  const backend = new MemoryBlockBackend({ size: 16 * 512 });
  const { device, driver } = setup(backend);
  const generation = driver.r(R.CONFIG_GENERATION);
  await device.resize(64 * 512);
  assert.equal(driver.transport.read(R.CONFIG + C.CAPACITY, 4), 64);
  assert.notEqual(driver.r(R.CONFIG_GENERATION), generation);
  assert.equal(driver.r(R.INTERRUPT_STATUS) & 2, 2, 'configuration change interrupt');
  await assert.rejects(device.resize(8 * 512), /at least/);
});
