// Lockstep: every translated block runs; its stores are undone from its undo log, then the
// interpreter runs the same instructions from the same state, and the registers, pc and
// stored bytes both produce are compared. The interpreter is the reference; the first
// divergence stops the VM naming the block, the pc and the register or address.

import type { Hart } from '../hart.js';
import { F64_RESERVATION_ADDRESS, PC, RESERVATION_VALID, TLB_MODE_FETCH } from '../hart-state.js';
import type { TranslationTier } from './translation-tier.js';
import { EXIT } from './block-translator.js';

export class LockstepDivergence extends Error {
  readonly kind = 'lockstep';
}

const REGISTER_NAMES = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7',
  's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];

const hex = (lo: number, hi: number) => `0x${(hi >>> 0).toString(16).padStart(8, '0')}${(lo >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Runs translated blocks one at a time from the hart's pc, each checked against the
 * interpreter (`interpret(n)` runs n instructions with translation off, counting them in
 * instret); returns the instructions retired, stopping where the tier would hand back.
 */
export function runLockstep(hart: Hart, tier: TranslationTier, stateOffset: number, budget: number, interpret: (n: number) => void): number {
  const s = hart.s;
  const view = hart.memory.view;
  const log = tier.undoLog;
  // Translated code writes only x1-x31, the pc and the LR reservation: those are saved and restored.
  const words = PC + 2;
  const d = hart.d;
  const before = new Int32Array(words);
  const translated = new Int32Array(words);
  const live = s.subarray(0, words);
  let retired = 0;
  for (;;) {
    const block = tier.blockAt(hart.fetchTlb, s[PC]!, s[PC + 1]!, s[TLB_MODE_FETCH]!);
    if (block === null || budget - retired < block.length) return retired;
    before.set(live);
    const reservationBefore = [s[RESERVATION_VALID]!, d[F64_RESERVATION_ADDRESS]!] as const;
    view.setInt32(log, 0, true);
    const result = block.run(stateOffset);
    const n = result & (EXIT - 1);
    translated.set(live);
    const reservation = [s[RESERVATION_VALID]!, d[F64_RESERVATION_ADDRESS]!] as const;
    // What the block stored, then memory as it was before it, newest store undone first.
    const stores: Array<{ address: number; size: number; value: bigint }> = [];
    const count = view.getInt32(log, true);
    for (let i = 0; i < count; i++) {
      const entry = log + 8 + 16 * i;
      const address = view.getInt32(entry, true) >>> 0;
      const size = view.getInt32(entry + 4, true);
      stores.push({ address, size, value: readBytes(view, address, size) });
    }
    for (let i = count - 1; i >= 0; i--) {
      const entry = log + 8 + 16 * i;
      writeBytes(view, stores[i]!.address, stores[i]!.size, view.getBigUint64(entry + 8, true));
    }
    live.set(before);
    s[RESERVATION_VALID] = reservationBefore[0];
    d[F64_RESERVATION_ADDRESS] = reservationBefore[1];
    interpret(n);
    // Registers x1-x31 and the pc must agree; instret moved by n in the interpreter only.
    for (let i = 2; i < 64; i++) {
      if (s[i] !== translated[i]) {
        const r = i >> 1;
        throw new LockstepDivergence(
          `translated block at pc ${hex(before[PC]!, before[PC + 1]!)} (${n} instructions) left ${REGISTER_NAMES[r]} = ${hex(translated[2 * r]!, translated[2 * r + 1]!)}, the interpreter ${hex(s[2 * r]!, s[2 * r + 1]!)}`,
        );
      }
    }
    if (s[PC] !== translated[PC] || s[PC + 1] !== translated[PC + 1]) {
      throw new LockstepDivergence(
        `translated block at pc ${hex(before[PC]!, before[PC + 1]!)} (${n} instructions) went to ${hex(translated[PC]!, translated[PC + 1]!)}, the interpreter to ${hex(s[PC]!, s[PC + 1]!)}`,
      );
    }
    // A reservation counts only while valid: its address is then compared too.
    if (s[RESERVATION_VALID] !== reservation[0] || (reservation[0] === 1 && d[F64_RESERVATION_ADDRESS] !== reservation[1])) {
      throw new LockstepDivergence(
        `translated block at pc ${hex(before[PC]!, before[PC + 1]!)} (${n} instructions) left the LR reservation ${reservation[0] ? `at 0x${reservation[1].toString(16)}` : 'invalid'}, the interpreter ${s[RESERVATION_VALID] ? `at 0x${d[F64_RESERVATION_ADDRESS]!.toString(16)}` : 'invalid'}`,
      );
    }
    for (const store of stores) {
      const now = readBytes(view, store.address, store.size);
      if (now !== store.value) {
        throw new LockstepDivergence(
          `translated block at pc ${hex(before[PC]!, before[PC + 1]!)} (${n} instructions) stored 0x${store.value.toString(16)} at guest-memory offset 0x${store.address.toString(16)}, the interpreter 0x${now.toString(16)}`,
        );
      }
    }
    retired += n;
    if ((result & EXIT) !== 0 || n === 0) return retired;
  }
}

function readBytes(view: DataView, address: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(view.getUint8(address + i));
  return v;
}

function writeBytes(view: DataView, address: number, size: number, value: bigint): void {
  for (let i = 0; i < size; i++) view.setUint8(address + i, Number((value >> BigInt(8 * i)) & 0xffn));
}
