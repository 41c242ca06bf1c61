// The words the main thread and the hart threads coordinate through (Int32, shared): whether
// harts run, park or exit; an epoch bumped when the main thread rewrote hart state while they
// were parked; and per hart, whether it is parked, a wake-up counter it sleeps on in WFI, and
// its CPU throttle.

export const enum Control {
  Run = 0,
  Park = 1,
  Exit = 2,
}

const CONTROL = 0;
const EPOCH = 1;
/** mtime minus the clock's ticks (the CLINT's offset), published for the harts' time CSR, as a double at byte 8. */
const MTIME_OFFSET_BYTE = 8;
const HEADER_WORDS = 4;
const PER_HART = 4;
const PARKED = 0;
const WAKE = 1;
/** Share of time the hart sleeps, in 1/1000 (a CPU cap or migration's auto-converge). */
const THROTTLE = 2;

export class ThreadControl {
  readonly words: Int32Array;
  private readonly mtimeOffsetCell: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    this.mtimeOffsetCell = new Float64Array(buffer, MTIME_OFFSET_BYTE, 1);
  }

  static create(harts: number): ThreadControl {
    return new ThreadControl(new SharedArrayBuffer((HEADER_WORDS + PER_HART * harts) * 4));
  }

  get control(): Control {
    return Atomics.load(this.words, CONTROL);
  }

  /** Sets what the harts do next and wakes every one that sleeps. */
  setControl(control: Control, harts: number): void {
    Atomics.store(this.words, CONTROL, control);
    Atomics.notify(this.words, CONTROL);
    for (let id = 0; id < harts; id++) this.wake(id);
  }

  /** Blocks the calling hart thread while the control word still says `control`. */
  waitWhile(control: Control): void {
    Atomics.wait(this.words, CONTROL, control);
  }

  get epoch(): number {
    return Atomics.load(this.words, EPOCH);
  }

  bumpEpoch(): void {
    Atomics.add(this.words, EPOCH, 1);
  }

  get mtimeOffset(): number {
    return this.mtimeOffsetCell[0]!;
  }

  set mtimeOffset(ticks: number) {
    this.mtimeOffsetCell[0] = ticks;
  }

  parked(hartId: number): boolean {
    return Atomics.load(this.words, this.index(hartId, PARKED)) === 1;
  }

  setParked(hartId: number, parked: boolean): void {
    const i = this.index(hartId, PARKED);
    Atomics.store(this.words, i, parked ? 1 : 0);
    Atomics.notify(this.words, i);
  }

  /** Resolves when the hart reports itself parked, or after `ms` (at once if it is parked). */
  async waitParked(hartId: number, ms: number): Promise<void> {
    const wait = Atomics.waitAsync(this.words, this.index(hartId, PARKED), 0, ms);
    if (wait.async) await wait.value;
  }

  wakeCount(hartId: number): number {
    return Atomics.load(this.words, this.index(hartId, WAKE));
  }

  /** Ends a sleep in WFI (an interrupt line rose, or the control changed). */
  wake(hartId: number): void {
    const i = this.index(hartId, WAKE);
    Atomics.add(this.words, i, 1);
    Atomics.notify(this.words, i);
  }

  /** Sleeps the calling hart thread until woken after `seen`, or `ms` pass. */
  sleep(hartId: number, seen: number, ms: number): void {
    Atomics.wait(this.words, this.index(hartId, WAKE), seen, ms);
  }

  throttle(hartId: number): number {
    return Atomics.load(this.words, this.index(hartId, THROTTLE)) / 1000;
  }

  setThrottle(hartId: number, share: number): void {
    Atomics.store(this.words, this.index(hartId, THROTTLE), Math.round(share * 1000));
  }

  private index(hartId: number, field: number): number {
    return HEADER_WORDS + PER_HART * hartId + field;
  }
}
