import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Plic } from './plic.js';
import { VmGenerationId, VmGenerationIdError } from './vm-generation-id.js';
import type { VmGenerationIdState } from './vm-generation-id.js';

const ID_A = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
const ID_B = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 - i);
const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function makeDevice(id?: Uint8Array) {
  const irq: boolean[] = [];
  const device = new VmGenerationId({ irq: { set: (l) => irq.push(l) }, ...(id === undefined ? {} : { id }) });
  const level = () => irq.at(-1) ?? false;
  return { device, irq, level };
}

/** The driver's copy of the ID: two aligned 8-byte loads, as RV64 memcpy does for an aligned 16-byte copy. */
function readId(device: VmGenerationId): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  for (const at of [0, 8]) {
    const [lo, hi] = device.read64(at);
    view.setUint32(at, lo, true);
    view.setUint32(at + 4, hi, true);
  }
  return bytes;
}

const SOURCE = 12;
const S_CONTEXT = 1;
const CLAIM = 0x200000 + 0x1000 * S_CONTEXT + 4;

/** The device on source 12 of a real PLIC, enabled for hart 0 in S-mode as Linux sets it up. */
function onPlic(id = ID_A) {
  const seip: boolean[] = [];
  const plic = new Plic({ contexts: [{ set: () => {} }, { set: (l) => seip.push(l) }] });
  plic.write(4 * SOURCE, 4, 1);
  plic.write(0x2000 + 0x80 * S_CONTEXT, 4, 1 << SOURCE);
  const device = new VmGenerationId({ irq: plic.source(SOURCE), id });
  const interrupted = () => seip.at(-1) ?? false;
  const claim = () => plic.read(CLAIM, 4);
  const complete = (source: number) => plic.write(CLAIM, 4, source);
  return { plic, device, interrupted, claim, complete };
}

test('the window holds the ID bytes as stored, little-endian at every width; the rest reads zero', () => {
  const { device } = makeDevice(ID_A);
  assert.equal(VmGenerationId.WINDOW_SIZE, 0x1000);
  assert.equal(hexOf(device.id), hexOf(ID_A));
  assert.equal(device.read(0, 1), 0x10);
  assert.equal(device.read(15, 1), 0x1f);
  assert.equal(device.read(2, 2), 0x1312);
  assert.equal(device.read(4, 4), 0x17161514);
  assert.equal(device.read(12, 4), 0x1f1e1d1c);
  assert.equal(device.read(14, 4), 0x1f1e, 'a read straddling the end of the ID gets zeros beyond it');
  assert.equal(device.read(16, 4), 0);
  assert.equal(device.read(0xffc, 4), 0);
  assert.deepEqual(device.read64(8), [0x1b1a1918, 0x1f1e1d1c]);
  assert.deepEqual(device.read64(16), [0, 0]);
  assert.equal(hexOf(readId(device)), hexOf(ID_A));
});

test('without an ID it makes a random one; id returns a copy', () => {
  const a = makeDevice().device;
  const b = makeDevice().device;
  assert.equal(a.id.length, 16);
  assert.notEqual(hexOf(a.id), hexOf(b.id));
  const copy = a.id;
  copy.fill(0);
  assert.notEqual(hexOf(a.id), hexOf(copy));
});

test('the ID given is copied: changing the caller array later changes nothing', () => {
  const given = ID_A.slice();
  const { device } = makeDevice(given);
  given.fill(0);
  assert.equal(hexOf(readId(device)), hexOf(ID_A));
});

test('guest writes are ignored and counted, never thrown', () => {
  const { device, level } = makeDevice(ID_A);
  device.write(0, 4, 0xdeadbeef);
  device.write(0x800, 1, 1);
  device.write64(8, 1, 2);
  assert.equal(device.ignoredWrites, 3);
  assert.equal(hexOf(device.id), hexOf(ID_A));
  assert.equal(level(), false);
});

test('change sets the new ID and raises the line until the guest reads the ID', () => {
  const { device, level } = makeDevice(ID_A);
  assert.equal(level(), false);
  device.change(ID_B);
  assert.equal(hexOf(device.id), hexOf(ID_B));
  assert.equal(level(), true);
  assert.equal(device.pending, true);
  device.read(0x100, 4);
  assert.equal(level(), true, 'a read outside the ID is not the driver taking the notification');
  assert.equal(hexOf(readId(device)), hexOf(ID_B));
  assert.equal(level(), false);
  assert.equal(device.pending, false);
});

test('change without an ID picks a fresh random one', () => {
  const { device } = makeDevice(ID_A);
  device.change();
  const first = device.id;
  assert.notEqual(hexOf(first), hexOf(ID_A));
  device.change();
  assert.notEqual(hexOf(device.id), hexOf(first));
});

test('an ID that is not 16 bytes is refused with VmGenerationIdError', () => {
  assert.throws(() => makeDevice(new Uint8Array(15)), (e: unknown) => e instanceof VmGenerationIdError && e.kind === 'vm-generation-id' && /16 bytes/.test(e.message));
  const { device, level } = makeDevice(ID_A);
  assert.throws(() => device.change(new Uint8Array(32)), VmGenerationIdError);
  assert.equal(hexOf(device.id), hexOf(ID_A), 'a refused change changes nothing');
  assert.equal(level(), false);
});

test('with the PLIC: one change gives exactly one interrupt, and the handler read ends it', () => {
  const { device, interrupted, claim, complete } = onPlic();
  assert.equal(interrupted(), false);
  device.change(ID_B);
  assert.equal(interrupted(), true);
  assert.equal(claim(), SOURCE);
  assert.equal(hexOf(readId(device)), hexOf(ID_B));
  complete(SOURCE);
  assert.equal(interrupted(), false, 'no second interrupt after completion: the line is low');
  assert.equal(claim(), 0);
});

test('with the PLIC: a change while the handler runs, after its read, interrupts again at completion', () => {
  const { device, interrupted, claim, complete } = onPlic();
  device.change(ID_B);
  assert.equal(claim(), SOURCE);
  assert.equal(hexOf(readId(device)), hexOf(ID_B));
  const third = Uint8Array.from({ length: 16 }, () => 0x33);
  device.change(third);
  assert.equal(interrupted(), false, 'the gateway holds the request while the source is in service');
  complete(SOURCE);
  assert.equal(interrupted(), true);
  assert.equal(claim(), SOURCE);
  assert.equal(hexOf(readId(device)), hexOf(third));
  complete(SOURCE);
  assert.equal(interrupted(), false);
});

test('with the PLIC: a change before the driver probes leaves one harmless interrupt once enabled', () => {
  const seip: boolean[] = [];
  const plic = new Plic({ contexts: [{ set: () => {} }, { set: (l) => seip.push(l) }] });
  const device = new VmGenerationId({ irq: plic.source(SOURCE), id: ID_A });
  device.change(ID_B);
  // Probe: the driver copies the ID, then requests the interrupt (priority and enable).
  assert.equal(hexOf(readId(device)), hexOf(ID_B));
  plic.write(4 * SOURCE, 4, 1);
  plic.write(0x2000 + 0x80 * S_CONTEXT, 4, 1 << SOURCE);
  assert.equal(plic.read(CLAIM, 4), SOURCE, 'the request forwarded before probe is still pending');
  plic.write(CLAIM, 4, SOURCE);
  assert.equal(seip.at(-1), false, 'and it does not come back');
});

test('reset keeps the ID and drops a pending notification', () => {
  const { device, level } = makeDevice(ID_A);
  device.change(ID_B);
  device.reset();
  assert.equal(hexOf(device.id), hexOf(ID_B));
  assert.equal(level(), false);
  assert.equal(device.pending, false);
});

test('save and restore carry the ID as hex and a notification not yet read', () => {
  const { device } = makeDevice(ID_A);
  device.change(ID_B);
  const state = device.save();
  assert.deepEqual(state, { version: 1, id: hexOf(ID_B), notifying: true });
  const copy = makeDevice(ID_A);
  copy.device.restore(JSON.parse(JSON.stringify(state)) as VmGenerationIdState);
  assert.equal(hexOf(copy.device.id), hexOf(ID_B));
  assert.equal(copy.level(), true, 'the line is driven high again');
  readId(copy.device);
  assert.equal(copy.level(), false);
  const quiet = makeDevice(ID_B);
  quiet.device.change(ID_A);
  quiet.device.restore({ version: 1, id: hexOf(ID_B), notifying: false });
  assert.equal(quiet.level(), false, 'a restored quiet state lowers a line that was high');
});

test('restore refuses a malformed state with VmGenerationIdError and changes nothing', () => {
  const { device, level } = makeDevice(ID_A);
  const bad: unknown[] = [
    null,
    { version: 2, id: hexOf(ID_B), notifying: false },
    { version: 1, id: hexOf(ID_B).slice(2), notifying: false },
    { version: 1, id: 'zz' + hexOf(ID_B).slice(2), notifying: false },
    { version: 1, id: 42, notifying: false },
    { version: 1, id: hexOf(ID_B), notifying: 'yes' },
  ];
  for (const state of bad) {
    assert.throws(
      () => device.restore(state as VmGenerationIdState),
      (e: unknown) => e instanceof VmGenerationIdError && e.kind === 'vm-generation-id' && /cannot restore VM generation ID state/.test(e.message),
      JSON.stringify(state),
    );
  }
  assert.equal(hexOf(device.id), hexOf(ID_A));
  assert.equal(level(), false);
});
