// One hart on its own thread (a worker): it runs guest code on the shared guest memory, with
// its own translation tier and decoded-instruction cache, reaches devices through its mailbox,
// reads time from the shared clock, and sleeps in WFI until an interrupt line wakes it.

import { parentPort, workerData } from 'node:worker_threads';
import { GuestMemory } from '../../core/guest-memory.js';
import { Hart, StopReason } from '../../core/hart.js';
import { warmUpInterpreter } from '../../core/interpreter-warm-up.js';
import { TranslationTier } from '../../core/jit/translation-tier.js';
import { Tlb } from '../../core/tlb.js';
import { WRITE_TLB } from '../../core/hart-state.js';
import { VirtualClock, processClockMs } from '../virtual-clock.js';
import { MailboxBus } from './mmio-mailbox.js';
import { optimizeInterpreter } from './interpreter-optimizer.js';
import { Control, ThreadControl } from './thread-control.js';

export interface HartThreadData {
  hartId: number;
  harts: number;
  memory: WebAssembly.Memory;
  codeMap: SharedArrayBuffer;
  dirtyLog: SharedArrayBuffer;
  ramBase: number;
  ramSize: number;
  translation: 'on' | 'off' | 'lockstep';
  hotThreshold?: number;
  control: SharedArrayBuffer;
  mailboxes: SharedArrayBuffer;
  clockCells: Float64Array;
  timebaseHz: number;
  /** Instructions between looks at interrupts, the control word and the throttle. */
  slice: number;
  /** More harts than host cores: a spinning hart (PAUSE) lets the others run. */
  yieldOnPause: boolean;
}

/** What a hart thread posts to the main thread. */
export type HartThreadMessage = { kind: 'ready' } | { kind: 'failed'; message: string; pc: string };

/** How long a hart that spins (PAUSE) gives its host core away, when harts outnumber cores. */
const PAUSE_SLEEP_MS = 0.05;
/** Longest WFI sleep between looks at the timer and the control word. */
const MAX_SLEEP_MS = 100;

/** While translations compile, the thread's event loop must turn for them to finish: this often. */
const YIELD_WHILE_COMPILING_MS = 1;

async function main(data: HartThreadData): Promise<void> {
  const control = new ThreadControl(data.control);
  const memory = new GuestMemory({
    ramBase: data.ramBase, ramSize: data.ramSize, harts: data.harts,
    existing: { memory: data.memory, codeMap: data.codeMap, dirtyLog: data.dirtyLog }, translationArea: data.hartId,
  });
  // The other harts' write TLBs must not map a page this hart decodes either.
  for (let other = 0; other < data.harts; other++) {
    if (other !== data.hartId) memory.decodeCache.register(new Tlb(data.memory.buffer, memory.hartStateOffset(other) + WRITE_TLB));
  }
  warmUpInterpreter(true);
  const tier = data.translation === 'off' ? null
    : new TranslationTier(memory, { lockstep: data.translation === 'lockstep', ...(data.hotThreshold !== undefined ? { hotThreshold: data.hotThreshold } : {}) });
  const clock = new VirtualClock(processClockMs, data.timebaseHz, data.clockCells);
  const time = { now: () => clock.now() + control.mtimeOffset };
  const hart = new Hart({ memory, hartId: data.hartId, bus: new MailboxBus(data.mailboxes, data.hartId), time, tier, adoptState: true });
  optimizeInterpreter();
  const id = data.hartId;
  hart.yieldOnPause = data.yieldOnPause;
  let epoch = control.epoch;
  let lastYield = performance.now();
  parentPort!.postMessage({ kind: 'ready' } satisfies HartThreadMessage);
  try {
    for (;;) {
      const now = control.control;
      if (now !== Control.Run) {
        if (now === Control.Exit) break;
        tier?.flush();
        control.setParked(id, true);
        control.waitWhile(now);
        control.setParked(id, false);
        continue;
      }
      if (control.epoch !== epoch) {
        // The main thread rewrote the state (a reset, a restore) while this hart was parked.
        epoch = control.epoch;
        hart.stateChanged();
      }
      if (tier?.compiling && performance.now() - lastYield >= YIELD_WHILE_COMPILING_MS) {
        // Compilation finishes in tasks on this thread's event loop (WebAssembly.compile).
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      const throttle = control.throttle(id);
      const started = throttle > 0 ? performance.now() : 0;
      const stop = hart.run(data.slice);
      if (throttle > 0) control.sleep(id, control.wakeCount(id), ((performance.now() - started) * throttle) / (1 - throttle));
      if (hart.pauseSeen) {
        hart.pauseSeen = false;
        control.sleep(id, control.wakeCount(id), PAUSE_SLEEP_MS);
      }
      if (stop === StopReason.WaitForInterrupt) {
        const seen = control.wakeCount(id);
        // An interrupt raised before `seen` was read shows here; one raised after it ends the sleep.
        if (hart.run(0) === StopReason.WaitForInterrupt && control.control === Control.Run) {
          control.sleep(id, seen, Math.min(MAX_SLEEP_MS, msUntil(hart.timerDeadline(), time.now(), data.timebaseHz)));
        }
      }
    }
  } catch (e) {
    parentPort!.postMessage({ kind: 'failed', message: (e as Error).message ?? String(e), pc: hart.pc.toString(16) } satisfies HartThreadMessage);
    control.setParked(id, true);
  }
}

/** Host ms until the hart's own timer (Sstc) fires; one already passed did not wake it, so it is no deadline. */
function msUntil(deadline: number, now: number, hz: number): number {
  if (deadline === Infinity || deadline <= now) return MAX_SLEEP_MS;
  return Math.ceil(((deadline - now) * 1000) / hz);
}

void main(workerData as HartThreadData);
