// How a hart on its own thread reaches the board's devices, which live on the main thread: one
// mailbox per hart in shared memory. The hart writes a request and blocks until the main thread,
// woken by Atomics.waitAsync, has done the access on the real bus and written the answer. An
// access is one device call, in order, exactly as on one thread.

import type { SystemBus } from '../../core/system-bus.js';

/** Int32 words per hart's mailbox (the physical address is a double at word PADDR). */
export const MAILBOX_WORDS = 16;

const STATE = 0;
const KIND = 1;
const SIZE = 2;
const LO = 3;
const HI = 4;
const OK = 5;
const RESULT_LO = 6;
const RESULT_HI = 7;
/** Word index of the physical address (a double, 8-byte aligned). */
const PADDR = 8;

/** How long the main thread keeps looking for a hart's next request after answering one. */
const BURST_SPIN_MS = 0.05;

/** Looks at the mailbox a hart takes before it sleeps waiting for an answer (some microseconds). */
const ANSWER_SPINS = 2000;

const enum State {
  Idle = 0,
  Request = 1,
  Done = 2,
}

const enum Kind {
  Read = 0,
  Write = 1,
  Read64 = 2,
  Write64 = 3,
}

/** The mailboxes of `harts` harts, for passing to their threads. */
export function createMailboxes(harts: number): SharedArrayBuffer {
  return new SharedArrayBuffer(harts * MAILBOX_WORDS * 4);
}

/** The hart's side: a SystemBus whose every access is a blocking round trip to the main thread. */
export class MailboxBus implements SystemBus {
  private readonly words: Int32Array;
  private readonly paddr: Float64Array;

  constructor(buffer: SharedArrayBuffer, hartId: number) {
    this.words = new Int32Array(buffer, hartId * MAILBOX_WORDS * 4, MAILBOX_WORDS);
    this.paddr = new Float64Array(buffer, hartId * MAILBOX_WORDS * 4 + PADDR * 4, 1);
  }

  read(paddr: number, size: 1 | 2 | 4): number {
    this.call(Kind.Read, paddr, size, 0, 0);
    return this.words[OK] ? this.words[RESULT_LO]! >>> 0 : -1;
  }

  write(paddr: number, size: 1 | 2 | 4, value: number): boolean {
    this.call(Kind.Write, paddr, size, value, 0);
    return this.words[OK] === 1;
  }

  read64(paddr: number): readonly [number, number] | null {
    this.call(Kind.Read64, paddr, 8, 0, 0);
    return this.words[OK] ? [this.words[RESULT_LO]!, this.words[RESULT_HI]!] : null;
  }

  write64(paddr: number, lo: number, hi: number): boolean {
    this.call(Kind.Write64, paddr, 8, lo, hi);
    return this.words[OK] === 1;
  }

  private call(kind: Kind, paddr: number, size: number, lo: number, hi: number): void {
    const w = this.words;
    w[KIND] = kind;
    w[SIZE] = size;
    w[LO] = lo;
    w[HI] = hi;
    this.paddr[0] = paddr;
    Atomics.store(w, STATE, State.Request);
    Atomics.notify(w, STATE);
    // An answer within a burst takes microseconds: spin a little before sleeping in the kernel.
    for (let i = 0; i < ANSWER_SPINS && Atomics.load(w, STATE) === State.Request; i++);
    while (Atomics.load(w, STATE) === State.Request) Atomics.wait(w, STATE, State.Request);
    Atomics.store(w, STATE, State.Idle);
  }
}

/** The main thread's side: answers every hart's requests on `bus` as they come, until close(). */
export class MailboxServer {
  private closed = false;
  /** Each hart's mailbox words and its address cell. */
  private readonly words: Int32Array[] = [];
  private readonly addresses: Float64Array[] = [];

  /** `afterWrite` hears of every write done, for the board to react (a timer reprogrammed). */
  constructor(
    buffer: SharedArrayBuffer,
    harts: number,
    private readonly bus: SystemBus,
    private readonly afterWrite: (paddr: number) => void = () => {},
  ) {
    for (let id = 0; id < harts; id++) {
      this.words.push(new Int32Array(buffer, id * MAILBOX_WORDS * 4, MAILBOX_WORDS));
      this.addresses.push(new Float64Array(buffer, id * MAILBOX_WORDS * 4 + PADDR * 4, 1));
    }
    for (let id = 0; id < harts; id++) this.serve(id);
  }

  close(): void {
    this.closed = true;
  }

  private serve(hartId: number): void {
    if (this.closed) return;
    const w = this.words[hartId]!;
    const paddr = this.addresses[hartId]!;
    let state = Atomics.load(w, STATE);
    // The hart may post its next request as soon as it sees the answer: serve it at once, never
    // wait for a notification it already sent. Device accesses come in bursts (a driver polls a
    // status register, then writes data): a short spin catches the next one without a trip
    // through the event loop.
    let spinUntil = 0;
    for (;;) {
      if (state === State.Request) {
        this.answer(w, paddr[0]!);
        Atomics.store(w, STATE, State.Done);
        Atomics.notify(w, STATE);
        spinUntil = performance.now() + BURST_SPIN_MS;
      } else if (performance.now() >= spinUntil) {
        break;
      }
      state = Atomics.load(w, STATE);
    }
    // Sleeps (without blocking the thread) until the hart posts its next request.
    const wait = Atomics.waitAsync(w, STATE, state);
    if (wait.async) void wait.value.then(() => this.serve(hartId));
    else queueMicrotask(() => this.serve(hartId));
  }

  private answer(w: Int32Array, paddr: number): void {
    const bus = this.bus;
    switch (w[KIND]) {
      case Kind.Read: {
        const v = bus.read(paddr, w[SIZE] as 1 | 2 | 4);
        w[OK] = v < 0 ? 0 : 1;
        w[RESULT_LO] = v;
        return;
      }
      case Kind.Write:
        w[OK] = bus.write(paddr, w[SIZE] as 1 | 2 | 4, w[LO]!) ? 1 : 0;
        this.afterWrite(paddr);
        return;
      case Kind.Read64: {
        const v = bus.read64?.(paddr) ?? null;
        w[OK] = v === null ? 0 : 1;
        if (v !== null) [w[RESULT_LO], w[RESULT_HI]] = [v[0] | 0, v[1] | 0];
        return;
      }
      default:
        w[OK] = bus.write64?.(paddr, w[LO]!, w[HI]!) ? 1 : 0;
        this.afterWrite(paddr);
    }
  }
}
