// A hart on its own small guest memory for tests: `program` at RAM, every trap to a spinning
// M-mode handler, PMP granting S and U all memory, and the FPU on.

import { GuestMemory } from '../guest-memory.js';
import { Hart } from '../hart.js';
import * as S from '../hart-state.js';
import { Mstatus } from '../privilege.js';
import type { SystemBus } from '../system-bus.js';

export const RAM = 0x80000000;
export const noDevices: SystemBus = { read: () => -1, write: () => false };
const LOOP = 0x0000006f;

export function scratchHart(program: number[], handler: number, bus: SystemBus = noDevices): Hart {
  const memory = new GuestMemory({ ramBase: RAM, ramSize: 1 << 20, harts: 1 });
  const hart = new Hart({ memory, hartId: 0, bus, time: { now: () => 0 } });
  memory.writeRam(RAM, new Uint8Array(new Int32Array(program).buffer));
  memory.writeRam(handler, new Uint8Array(new Int32Array([LOOP]).buffer));
  const s = hart.s;
  s[S.MTVEC] = handler | 0;
  s[S.PMPCFG] = 0x1f; // entry 0: NAPOT over everything, RWX
  s[S.PMPADDR] = -1;
  s[S.PMPADDR + 1] = 0x3fffff;
  hart.pmp.refresh();
  s[S.MSTATUS] |= Mstatus.FS; // so FP loads and stores reach memory
  return hart;
}
