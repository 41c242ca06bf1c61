import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from './machine.js';
import { VirtioMmioRegister as R } from '../devices/virtio/mmio-transport.js';
import { virtioSlot } from './layout.js';

function board(balloon: boolean): Machine {
  return new Machine({ kernel: new Uint8Array(16), ramMiB: 4, serial: { write() {} }, virtio: { balloon } });
}

test('the balloon is attached only when asked, after the other devices, and its state goes with the board', () => {
  assert.deepEqual(board(false).virtio.deviceNames, ['virtio-rng', 'virtio-input']);
  const machine = board(true);
  assert.deepEqual(machine.virtio.deviceNames, ['virtio-rng', 'virtio-input', 'virtio-balloon']);
  const base = virtioSlot(2).base;
  assert.equal(machine.bus.read(base + R.DEVICE_ID, 4), 5);
  machine.bus.write(base + R.CONFIG + 4, 4, 77);
  assert.equal(machine.virtio.balloon!.actualPages, 77);
  const saved = JSON.parse(JSON.stringify(machine.saveState())) as unknown;
  const restored = board(true);
  restored.restoreState(saved);
  assert.equal(restored.virtio.balloon!.actualPages, 77);
  assert.throws(() => board(false).restoreState(saved), /virtio devices/);
});
