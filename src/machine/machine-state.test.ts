import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from './machine.js';
import type { Hart } from '../core/hart.js';
import { MachineStateError } from './machine-state.js';

// A counter loop: x1 counts; every 4096 counts it stores x1 to RAM + 0x1000 and writes 'c' to UART0.
const addi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
const lui = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37;
const auipc = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x17;
const andi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (7 << 12) | (rd << 7) | 0x13;
const sd = (rs2: number, rs1: number, imm: number) => (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (3 << 12) | ((imm & 31) << 7) | 0x23;
const sb = (rs2: number, rs1: number, imm: number) => (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (0 << 12) | ((imm & 31) << 7) | 0x23;
const bne = (rs1: number, rs2: number, offset: number) =>
  (((offset >> 12) & 1) << 31) | (((offset >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (1 << 12) | (((offset >> 1) & 0xf) << 8) | (((offset >> 11) & 1) << 7) | 0x63;
const jal = (rd: number, offset: number) =>
  (((offset >> 20) & 1) << 31) | (((offset >> 1) & 0x3ff) << 21) | (((offset >> 11) & 1) << 20) | (((offset >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;

const PROGRAM = new Uint8Array(new Int32Array([
  auipc(5, 1), // 0: x5 = RAM + 0x1000
  lui(6, 0x10000), // 4: x6 = UART0
  addi(7, 0, 0x63), // 8: x7 = 'c'
  addi(1, 1, 1), // 12: loop: x1++
  andi(2, 1, 0x7ff), // 16
  bne(2, 0, -8), // 20: back to the loop unless x1 % 2048 == 0
  sd(1, 5, 0), // 24
  sb(7, 6, 0), // 28
  jal(0, -20), // 32: back to the loop
]).buffer);

function board(output: number[] = []): { machine: Machine; hart: Hart } {
  const machine = new Machine({ kernel: PROGRAM, ramMiB: 1, serial: { write: (b) => output.push(b) }, translation: 'off' });
  return { machine, hart: machine.hart as Hart };
}

test('pause stops the guest at an instruction boundary with the clock standing still; resume continues', async () => {
  const { machine, hart } = board();
  const run = machine.run();
  await new Promise((r) => setTimeout(r, 20));
  await machine.pause();
  assert.equal(machine.paused, true);
  const counted = hart.getRegister(1);
  const mtime = machine.clint.mtime();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(hart.getRegister(1), counted, 'the guest ran while paused');
  assert.equal(machine.clint.mtime(), mtime, 'the clock ran while paused');
  machine.resume();
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(hart.getRegister(1) > counted, 'the guest did not resume');
  machine.requestStop();
  assert.equal((await run).reason, 'stopped');
});

test('a saved state restored on a new board continues the guest exactly where it was', async () => {
  const first: number[] = [];
  const { machine, hart } = board(first);
  const run = machine.run();
  await new Promise((r) => setTimeout(r, 20));
  await machine.pause();
  const state = JSON.parse(JSON.stringify(machine.saveState())) as unknown;
  const ram = machine.ram.slice();
  const pc = hart.pc;
  const counted = hart.getRegister(1);
  const mtime = machine.clint.mtime();
  machine.requestStop();
  await run;

  const second: number[] = [];
  const restored = board(second);
  restored.machine.ram.set(ram);
  restored.machine.restoreState(state);
  assert.equal(restored.hart.pc, pc);
  assert.equal(restored.hart.getRegister(1), counted);
  assert.ok(restored.machine.clint.mtime() >= mtime, 'the guest clock went backwards');
  const again = restored.machine.run();
  await new Promise((r) => setTimeout(r, 20));
  restored.machine.requestStop();
  await again;
  assert.ok(restored.hart.getRegister(1) > counted);
  assert.ok(second.length > 0 && second.every((b) => b === 0x63), 'the restored guest did not keep writing to its UART');
  // The counter in RAM moved on from the value saved with the RAM.
  const view = new DataView(restored.machine.ram.buffer, restored.machine.ram.byteOffset + 0x1000, 8);
  assert.ok(view.getBigUint64(0, true) > new DataView(ram.buffer, 0x1000, 8).getBigUint64(0, true));
});

test('the VM generation ID travels with the state; a state without it is refused', () => {
  const { machine } = board();
  machine.generationId.change();
  const state = JSON.parse(JSON.stringify(machine.saveState())) as Record<string, unknown>;
  const other = board().machine;
  assert.notDeepEqual(other.generationId.id, machine.generationId.id);
  other.restoreState(state);
  assert.deepEqual(other.generationId.id, machine.generationId.id);
  assert.equal(other.generationId.pending, true, 'a change the guest had not read yet is still signalled');
  const { generationId: _, ...without } = state;
  assert.throws(() => board().machine.restoreState(without), (e: unknown) => e instanceof MachineStateError && /generationId state is missing/.test(e.message));
});

test('a state is refused while the guest runs, and a state for another board is refused clearly', async () => {
  const { machine } = board();
  const run = machine.run();
  await new Promise((r) => setTimeout(r, 5));
  assert.throws(() => machine.saveState(), MachineStateError);
  await machine.pause();
  const state = machine.saveState();
  machine.requestStop();
  await run;
  const other = new Machine({ kernel: PROGRAM, ramMiB: 1, serial: { write() {} }, virtio: { entropy: false, powerButton: false } });
  assert.throws(() => other.restoreState(state), /virtio devices \(virtio-rng, virtio-input\) differ from this board's \(none\)/);
  assert.throws(() => other.restoreState({ ...state, version: 9 }), /version 9/);
  assert.throws(() => other.restoreState('garbage'), MachineStateError);
});

test('the power button is on the board by default and answers why a press cannot be heard', () => {
  const machine = new Machine({ kernel: PROGRAM, ramMiB: 1, serial: { write() {} } });
  assert.deepEqual(machine.virtio.deviceNames, ['virtio-rng', 'virtio-input']);
  // No driver has set the device up: the guest could not hear the press.
  assert.equal(machine.virtio.pressPowerButton(), 'no-guest-driver');
  assert.equal(machine.virtio.powerButton?.pendingEvents, 0);
  const without = new Machine({ kernel: PROGRAM, ramMiB: 1, serial: { write() {} }, virtio: { powerButton: false } });
  assert.deepEqual(without.virtio.deviceNames, ['virtio-rng']);
  assert.equal(without.virtio.pressPowerButton(), 'no-button');
  // A snapshot from a board without the button does not restore onto one with it.
  assert.throws(() => machine.restoreState(without.saveState()), /virtio devices \(virtio-rng\) differ from this board's \(virtio-rng, virtio-input\)/);
});

test('every hart is saved; a version-1 state (one hart, as `hart`) still restores; a CPU count that differs is refused', () => {
  const { machine, hart } = board();
  hart.setRegister(7, 0x1234n);
  const state = JSON.parse(JSON.stringify(machine.saveState())) as Record<string, unknown> & { harts: string[] };
  assert.equal(state.harts.length, 1);
  const { harts, ...rest } = state;
  const older = board();
  older.machine.restoreState({ ...rest, version: 1, hart: harts[0] });
  assert.equal(older.hart.getRegister(7), 0x1234n);
  assert.throws(() => board().machine.restoreState({ ...state, harts: [harts[0], harts[0]] }), (e: unknown) => e instanceof MachineStateError && /holds 2 CPUs, this board has 1/.test(e.message));
});
