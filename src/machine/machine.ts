// The bare-metal board: RAM, one hart, CLINT, UART0 and the test finisher on a bus, a device
// tree built from them, the kernel loaded at its addresses, and the run loop that drives the
// hart in slices and sleeps while the guest waits for an interrupt.

import { GuestMemory, RamFillError } from '../core/guest-memory.js';
import { Hart, Mip, StopReason, type HartOptions } from '../core/hart.js';
import { TranslationTier, type TranslationStats } from '../core/jit/translation-tier.js';
import { warmUpInterpreter } from '../core/interpreter-warm-up.js';
import { LockstepDivergence } from '../core/jit/lockstep.js';
import type { RamDiscard } from '../core/ram-discard.js';
import { Clint } from '../devices/clint.js';
import type { ByteSink, IrqLine } from '../devices/mmio-device.js';
import { TestFinisher, type FinisherEvent } from '../devices/test-finisher.js';
import { Htif } from '../devices/htif.js';
import { Uart16550 } from '../devices/uart-16550.js';
import { Bus } from './bus.js';
import { loadKernelImage, type KernelImage } from './elf-loader.js';
import { placeBootImages, sameLayout, withoutBytes, type BootFiles, type BootImages } from './boot-images.js';
import { createBoardFdt } from './fdt/board-fdt.js';
import { CLINT, PLIC, PLIC_SOURCES, RAM_BASE, RTC, RTC_IRQ, TEST_FINISHER, UART0, UART0_CLOCK_HZ, UART0_IRQ, VMGENID, VMGENID_IRQ } from './layout.js';
import { Plic } from '../devices/plic.js';
import { GoldfishRtc } from '../devices/goldfish-rtc.js';
import { VmGenerationId } from '../devices/vm-generation-id.js';
import { VirtioDevices, ramDma, type VirtioConfig } from './virtio-devices.js';
import { ramFreePages } from './ram-free-pages.js';
import { processClockMs, VirtualClock } from './virtual-clock.js';
import { HartThreads } from './smp/hart-threads.js';
import { checkMachineState, MACHINE_STATE_VERSION, MachineStateError, type MachineState } from './machine-state.js';

/** What the board needs of a hart (the real Hart, or a stand-in in tests). */
export type BoardHart = Pick<
  Hart,
  'reset' | 'saveState' | 'restoreState' | 'setRegister' | 'getRegister' | 'run' | 'requestStop' | 'setPending' | 'clearPending' | 'isWaitingForInterrupt' | 'timerDeadline' | 'instret' | 'trapsTaken' | 'trace' | 'pc' | 'pauseTier' | 'resumeTier' | 'isTierPaused'
>;

export interface MachineOptions {
  /**
   * The kernel: without firmware, an ELF64 RISC-V executable or a flat binary that runs by
   * itself; with firmware, a RISC-V Linux image (or any payload for RAM + 0x200000).
   */
  kernel: Uint8Array;
  /** Firmware loaded at the start of RAM, where the hart starts (OpenSBI fw_jump.bin). */
  firmware?: Uint8Array;
  /** An initial ramdisk, placed high in RAM and named in /chosen. */
  initrd?: Uint8Array;
  /** RAM size in MiB (default 128). */
  ramMiB?: number;
  /** Harts (default 1, at most MAX_CPUS). With more than one, each runs on its own thread. */
  cpus?: number;
  /** Kernel command line, placed in /chosen/bootargs. */
  bootargs?: string;
  /** Receives every byte the guest writes to UART0. */
  serial: ByteSink;
  /**
   * Stop after this many instructions (default: no limit). A trap counts as one, since it
   * retires nothing: a guest stuck in a trap loop reaches the limit too.
   */
  maxInstructions?: number;
  /** Stop after this much wall time in milliseconds (default: no limit). */
  timeoutMs?: number;
  /** mtime's frequency, the device tree's timebase-frequency (default 10 MHz). */
  timebaseHz?: number;
  /** virtio devices: disks, NICs, entropy, console, shares, balloon. */
  virtio?: VirtioConfig;
  /** Where device fault reports go (default: stderr). */
  log?: (line: string) => void;
  /** Called with one disassembled line per instruction (slow). */
  trace?: ((line: string) => void) | null;
  /** Instructions per run slice between device updates (default 100000). */
  sliceInstructions?: number;
  /** A monotonic millisecond clock (default performance.now); tests substitute one. */
  hostClockMs?: () => number;
  /**
   * Hot guest code runs translated to WebAssembly ('on', the default), everything is
   * interpreted ('off'), or each translated block is checked against the interpreter ('lockstep').
   */
  translation?: TranslationMode;
  /** Jumps to a block before it is translated (default: the tier's). */
  hotThreshold?: number;
  /** Builds the hart (default: the interpreter's Hart). */
  createHart?: (options: HartOptions) => BoardHart;
  /**
   * Leave RAM empty instead of loading the boot images into it, for a board whose RAM and state
   * a restore or a migration is about to supply (untouched RAM costs the host no memory). The
   * images are still kept for a guest reboot.
   */
  emptyRam?: boolean;
  /**
   * Reads the boot files again for a guest reset. Given, the board keeps no copy of them once
   * loaded (the kernel alone is tens of MiB per VM); the files must lay out as before.
   */
  reloadBootFiles?: () => BootFiles;
}

export type TranslationMode = 'on' | 'off' | 'lockstep';

export type ExitReason = 'pass' | 'fail' | 'instruction-limit' | 'timeout' | 'stopped';

export interface RunResult {
  reason: ExitReason;
  /** The code the guest reported with a fail status; 0 otherwise. */
  code: number;
  /** Instructions retired, over all resets. */
  instructions: number;
  /** Synchronous traps taken (counted against the instruction limit). */
  traps: number;
  /** How many times the guest reset the board. */
  resets: number;
  /** Wall time spent in run(). */
  elapsedMs: number;
}

export class MachineError extends Error {
  readonly kind = 'machine';
}

export const DEFAULT_RAM_MIB = 128;
export const MAX_CPUS = 8;
const DEFAULT_SLICE = 100_000;
/** Longest stretch the loop runs without letting host I/O (input, output flushes) in. */
const YIELD_EVERY_MS = 10;
/**
 * The same while translations compile in the background or disk requests are in flight: V8
 * finishes each compilation, and the host each read or write, in tasks on the event loop, so
 * every turn saved is guest code run translated, or a request completed, sooner.
 */
const YIELD_WHILE_WAITING_MS = 1;
/** With harts on threads: longest the devices go without a look (instruction limit) when no event (input, I/O, a timer, the finisher) wakes them. */
const THREADED_DEVICE_POLL_MS = 100;
/** With harts on threads: instructions a hart runs between looks at its interrupts and control word. */
const THREAD_SLICE = 20_000;
/** Slices in a row that use their whole budget, with no wait for an interrupt, that end the tier's pause (see interpretWhileIdle). */
const BUSY_SLICES_TO_RESUME_TIER = 3;
/** Longest single sleep; the loop re-checks and sleeps again. */
const MAX_SLEEP_MS = 1000;

const nextTask: (callback: () => void) => void =
  typeof setImmediate === 'function' ? (callback) => setImmediate(callback) : (callback) => setTimeout(callback, 0);

export class Machine {
  readonly memory: GuestMemory;
  readonly bus = new Bus();
  readonly clock: VirtualClock;
  /** Hart 0; with several harts they run on their own threads and these objects only hold their state. */
  readonly hart: BoardHart;
  readonly harts: readonly BoardHart[];
  /** The translation tier the hart hands hot code to, or null when everything is interpreted. */
  private readonly tier: TranslationTier | null;
  readonly clint: Clint;
  readonly uart: Uart16550;
  readonly plic: Plic;
  readonly rtc: GoldfishRtc;
  /** The VM generation ID: change() it when this VM is one of several continuing from one state. */
  readonly generationId: VmGenerationId;
  readonly virtio: VirtioDevices;
  readonly finisher: TestFinisher;
  /** The tohost/fromhost mailbox, when the program defines `tohost`. */
  readonly htif: Htif | null;
  /** The boot images' layout (entry, segments, symbols); their bytes only while the board keeps them. */
  readonly image: KernelImage;
  readonly initrd: { start: number; end: number; data: Uint8Array } | undefined;
  private readonly reloadBootFiles: (() => BootFiles) | null;
  readonly fdt: Uint8Array;
  /** Guest-physical address of the device tree (passed in a1). */
  readonly fdtAddress: number;

  private readonly hostMs: () => number;
  /** The hart threads while run() runs, when there are several harts. */
  private threads: HartThreads | null = null;
  private threadFailure: string | null = null;
  /** Slices in a row that ran their whole budget while the tier was paused. */
  private busySlices = 0;
  private readonly translationMode: TranslationMode;
  private readonly hotThreshold: number | undefined;
  private readonly maxInstructions: number;
  private readonly timeoutMs: number;
  private readonly slice: number;
  private finisherEvent: FinisherEvent | null = null;
  private stopRequested = false;
  private readonly input: number[] = [];
  private wakeUp: (() => void) | null = null;
  private running = false;
  /**
   * The share of time (0 to 0.95) the guest is held back: live migration raises it when the
   * guest writes memory faster than it can be copied (as QEMU's auto-converge does).
   */
  get cpuThrottle(): number {
    return this.throttle;
  }

  set cpuThrottle(share: number) {
    this.throttle = Math.min(0.95, Math.max(0, share));
    this.threads?.setThrottle(this.throttle);
  }

  private throttle = 0;
  /** pause() asked the loop to park; it stays parked until resume(). */
  private pauseRequested = false;
  private isParked = false;
  private parkedListeners: Array<() => void> = [];
  private unpark: (() => void) | null = null;

  constructor(options: MachineOptions) {
    const ramMiB = options.ramMiB ?? DEFAULT_RAM_MIB;
    if (!Number.isInteger(ramMiB) || ramMiB < 1) {
      throw new MachineError(`RAM size ${ramMiB} MiB is invalid; give a whole number of MiB, at least 1`);
    }
    this.maxInstructions = positiveOrInfinity(options.maxInstructions, 'instruction limit');
    this.timeoutMs = positiveOrInfinity(options.timeoutMs, 'timeout');
    this.slice = options.sliceInstructions ?? DEFAULT_SLICE;
    if (!Number.isInteger(this.slice) || this.slice < 1) throw new MachineError(`slice of ${this.slice} instructions is invalid; use a positive integer`);
    const cpus = options.cpus ?? 1;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) throw new MachineError(`${cpus} CPUs is invalid; give 1 to ${MAX_CPUS}`);
    // Hart threads read the clock too: a clock every thread reads alike, in memory they share.
    const threaded = cpus > 1;
    this.hostMs = threaded ? processClockMs : options.hostClockMs ?? (() => performance.now());
    if (threaded && (options.createHart !== undefined || options.trace)) throw new MachineError('harts of a multi-CPU board run on their own threads: they cannot be substituted or traced');

    const ramSize = ramMiB * 1024 * 1024;
    try {
      this.memory = new GuestMemory({ ramBase: RAM_BASE, ramSize, harts: cpus, shared: threaded });
    } catch (e) {
      throw new MachineError(`cannot allocate ${ramMiB} MiB of guest RAM: ${(e as Error).message}; choose a smaller -m`, { cause: e });
    }
    this.clock = new VirtualClock(this.hostMs, options.timebaseHz, threaded);
    warmUpInterpreter();
    const createHart = options.createHart ?? ((o: HartOptions) => new Hart(o));
    // The time CSR reads mtime; the closure runs only once the hart executes.
    const mode = this.translationMode = options.translation ?? 'on';
    this.hotThreshold = options.hotThreshold;
    // Hart threads make their own tiers.
    const tier = this.tier = mode === 'off' || threaded ? null
      : new TranslationTier(this.memory, { lockstep: mode === 'lockstep', ...(options.hotThreshold !== undefined ? { hotThreshold: options.hotThreshold } : {}) });
    const time = { now: () => this.clint.mtime() };
    this.harts = Array.from({ length: cpus }, (_, hartId) => createHart({ memory: this.memory, hartId, bus: this.bus, time, tier }));
    this.hart = this.harts[0]!;
    this.hart.trace = options.trace ?? null;

    const hartLine = (hartId: number, bit: Mip): IrqLine => {
      const hart = this.harts[hartId]!;
      return {
        set: (level) => {
          if (!level) return hart.clearPending(bit);
          hart.setPending(bit);
          this.threads?.wake(hartId);
        },
      };
    };
    const hartIds = this.harts.map((_, id) => id);
    this.clint = new Clint({ harts: cpus, clock: this.clock, msip: hartIds.map((id) => hartLine(id, Mip.MSIP)), mtip: hartIds.map((id) => hartLine(id, Mip.MTIP)) });
    // PLIC context 2n is hart n in M-mode, context 2n + 1 hart n in S-mode.
    this.plic = new Plic({ sources: PLIC_SOURCES, contexts: hartIds.flatMap((id) => [hartLine(id, Mip.MEIP), hartLine(id, Mip.SEIP)]) });
    this.uart = new Uart16550({ sink: options.serial, irq: this.plic.source(UART0_IRQ) });
    this.rtc = new GoldfishRtc({ clock: { nowNs: () => BigInt(Date.now()) * 1_000_000n }, irq: this.plic.source(RTC_IRQ) });
    const generationIdLine = this.plic.source(VMGENID_IRQ);
    // A change comes from the host, not from a guest access: wake a guest that sleeps in WFI.
    this.generationId = new VmGenerationId({
      irq: { set: (level) => { generationIdLine.set(level); if (level) this.wake(); } },
    });
    this.finisher = new TestFinisher((event) => {
      this.finisherEvent = event;
      this.hart.requestStop();
      this.wake();
    });
    this.bus.map(TEST_FINISHER.base, TEST_FINISHER.size, this.finisher, 'test-finisher');
    this.bus.map(CLINT.base, CLINT.size, this.clint, 'clint');
    this.bus.map(UART0.base, UART0.size, this.uart, 'uart0');
    this.bus.map(PLIC.base, PLIC.size, this.plic, 'plic');
    this.bus.map(RTC.base, RTC.size, this.rtc, 'rtc');
    this.bus.map(VMGENID.base, VMGENID.size, this.generationId, 'vmgenid');
    const dma = ramDma(this.memory);
    const log = options.log ?? ((line: string) => process.stderr.write(`vireo: ${line}\n`));
    const freePages = options.virtio?.balloon ? ramFreePages(this.memory, log) : undefined;
    this.virtio = new VirtioDevices(dma, this.bus, this.plic, options.virtio ?? {}, log, () => this.wake(), freePages);
    // A frame arriving for a guest that sleeps in WFI wakes the run loop.
    for (const nic of options.virtio?.nics ?? []) nic.port.onReceive?.(() => this.wake());
    // Room in a console sink raises THRE or returns virtio-console buffers: an interrupt for a guest in WFI.
    for (const sink of new Set([options.serial, options.virtio?.console])) sink?.onReady?.(() => this.wake());

    // Closures here see only what they name: capturing `options` would keep the boot files alive.
    const { bootargs } = options;
    const describe = (initrd?: { start: number; end: number }) => createBoardFdt({
      hartIds,
      timebaseFrequency: this.clock.frequency,
      memory: { base: RAM_BASE, size: ramSize },
      clint: CLINT,
      plic: { ...PLIC, sources: PLIC_SOURCES },
      uart: { ...UART0, clockFrequency: UART0_CLOCK_HZ, irq: UART0_IRQ },
      rtc: { ...RTC, irq: RTC_IRQ },
      vmgenid: { ...VMGENID, irq: VMGENID_IRQ },
      testFinisher: TEST_FINISHER,
      virtio: this.virtio.slots,
      ...(bootargs !== undefined ? { bootargs } : {}),
      ...(initrd !== undefined ? { initrd } : {}),
    });
    // The device tree goes at the top of RAM, 8-byte aligned (DTSpec 5.1); its size does not
    // depend on where the initrd lands, so it is measured first.
    const fdtSize = describe(options.initrd !== undefined ? { start: 0, end: 0 } : undefined).length;
    this.fdtAddress = Math.floor((RAM_BASE + ramSize - fdtSize) / 8) * 8;
    const placed = placeBootImages({ base: RAM_BASE, size: ramSize }, this.fdtAddress, options.kernel, options.firmware, options.initrd);
    this.reloadBootFiles = options.reloadBootFiles ?? null;
    const kept = this.reloadBootFiles === null ? placed : withoutBytes(placed);
    this.image = kept.image;
    this.initrd = kept.initrd;
    this.fdt = describe(placed.initrd && { start: placed.initrd.start, end: placed.initrd.end });


    const tohost = this.image.symbols.get('tohost');
    this.htif = tohost === undefined ? null
      : new Htif(dma, tohost, this.image.symbols.get('fromhost'), options.serial);
    if (this.image.end > this.fdtAddress) {
      throw new MachineError(
        `${ramMiB} MiB of RAM cannot hold the kernel (up to 0x${this.image.end.toString(16)}) and the ${this.fdt.length}-byte device tree at the top of RAM; raise -m`,
      );
    }
    if (!options.emptyRam) this.boot(placed);
  }

  /** Queues bytes for UART0's receiver; they enter its FIFO as room frees up. */
  sendInput(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.input.push(bytes[i]! & 0xff);
    this.wake();
  }

  /** Ends run() after the current instruction with reason 'stopped'. */
  requestStop(): void {
    this.stopRequested = true;
    this.hart.requestStop();
    this.wake();
    this.unpark?.();
  }

  /**
   * Stops the guest at an instruction boundary, with no disk or share request in flight and
   * the clock standing still; resolves once it is so (at once when run() is not running).
   */
  pause(): Promise<void> {
    if (!this.running || this.isParked) return Promise.resolve();
    this.pauseRequested = true;
    this.hart.requestStop();
    this.wake();
    return new Promise((resolve) => this.parkedListeners.push(resolve));
  }

  /** Lets a paused guest run on. */
  resume(): void {
    this.pauseRequested = false;
    // A pause that had not taken hold yet ends too: its promise must not hang.
    if (!this.isParked) for (const listener of this.parkedListeners.splice(0)) listener();
    this.unpark?.();
  }

  /** Starts the dirty log (see DirtyLog) with every page clean. */
  async startDirtyLog(): Promise<void> {
    await this.withHartsStill(() => this.memory.dirtyLog.start());
  }

  /** The pages written since the log started or was last read; they are clean again afterwards. */
  takeDirtyPages(): Promise<number[]> {
    return this.withHartsStill(() => this.memory.dirtyLog.take());
  }

  /**
   * Runs `f` with no hart thread inside an instruction: a store that found its page in a write
   * TLB before `f` emptied it must not land after `f` read the log.
   */
  private async withHartsStill<T>(f: () => T): Promise<T> {
    const threads = this.threads;
    if (threads === null || this.isParked) return f();
    await threads.park();
    try {
      return f();
    } finally {
      // A pause() that came meanwhile keeps them parked.
      if (!this.pauseRequested && !this.stopRequested) threads.run();
    }
  }

  /**
   * Drops the code caches of a one-hart board, for a guest gone idle: the translations (see
   * TranslationTier.trim) and the decoded instructions, 16 KiB of host memory per page of code
   * the busy guest ever ran. What the idle guest still runs is decoded again, a few hundred
   * pages. False when there is nothing to drop (interpreted, or harts on their own threads).
   */
  trimCodeCaches(): boolean {
    if (this.tier === null || this.harts.length > 1) return false;
    this.tier.trim();
    // Only between slices (a timer), so no interpreter holds a decoded page meanwhile.
    this.memory.decodeCache.clear();
    return true;
  }

  /**
   * Sets the translation tier aside while the guest idles (see Hart.pauseTier): one hart only,
   * between slices. Three slices in a row that run their whole budget bring it back, as does
   * resumeTier().
   */
  interpretWhileIdle(): void {
    if (this.tier === null || this.harts.length > 1) return;
    this.busySlices = 0;
    this.hart.pauseTier();
  }

  /** Ends the tier's pause (a guest that waits often, as one held back by the host, may never run three whole slices in a row). */
  resumeTier(): void {
    this.hart.resumeTier();
  }

  private resumeTierWhenBusy(stop: StopReason): void {
    if (stop !== StopReason.Budget) this.busySlices = 0;
    else if (++this.busySlices >= BUSY_SLICES_TO_RESUME_TIER) this.hart.resumeTier();
  }

  /**
   * Gives back to the host the pages of guest RAM that hold only zeros: a booted kernel zeroes
   * tens of MiB it never touches again (Linux's sparse memory map alone, 32 MiB on riscv64).
   * They read as zero still, so the guest sees no change. One hart only, from a timer between
   * slices, as trimCodeCaches(): no guest store may fall between a page's check and its
   * release. Not while a lazy restore is filling RAM. Returns the bytes given back.
   */
  giveBackZeroRam(discard: RamDiscard): number {
    if (this.harts.length > 1 || this.memory.pager !== null) return 0;
    return discard.discardZeroPages(this.memory.u8, this.memory.ramOffset, this.memory.ramSize);
  }

  /** The translation tier's counters; null when everything is interpreted or the harts have tiers of their own. */
  get translationStats(): Readonly<TranslationStats> | null {
    return this.tier?.stats ?? null;
  }

  /**
   * Offers guest RAM to the host kernel's same-page merging (KSM), which shares pages that are
   * identical across VMs (the guest kernel's code, files read from one image) copy-on-write
   * while the host runs it (/sys/kernel/mm/ksm/run). False when the kernel has no KSM.
   */
  offerRamForMerging(discard: RamDiscard): boolean {
    return discard.markMergeable(this.memory.u8, this.memory.ramOffset, this.memory.ramSize);
  }

  /** True while run() is parked by pause(). */
  get paused(): boolean {
    return this.isParked;
  }

  /** Guest RAM itself (not a copy): what a snapshot saves beside saveState(). */
  get ram(): Uint8Array {
    return this.memory.u8.subarray(this.memory.ramOffset, this.memory.ramOffset + this.memory.ramSize);
  }

  /** The board's state (RAM aside); only while paused or not running, so nothing is mid-flight. */
  saveState(): MachineState {
    if (this.running && !this.isParked) throw new MachineStateError('pause the machine before saving its state');
    // Parked hart threads keep their whole state in their blocks of the shared memory, which these read.
    return {
      version: MACHINE_STATE_VERSION,
      harts: this.harts.map((hart) => Buffer.from(hart.saveState()).toString('base64')),
      clint: this.clint.save(),
      plic: this.plic.save(),
      uart: this.uart.save(),
      rtc: this.rtc.save(),
      generationId: this.generationId.save(),
      virtio: this.virtio.transports.map((t, i) => ({ device: this.virtio.deviceNames[i]!, transport: t.save() })),
      input: [...this.input],
    };
  }

  /** Continues from a saved state on a board built from the same description, before run(); RAM is restored separately. */
  restoreState(saved: unknown): void {
    if (this.running) throw new MachineStateError('cannot restore a running machine');
    const state = checkMachineState(saved, this.virtio.deviceNames, this.harts.length);
    // Hart threads start from their blocks (adoptState) when run() starts them.
    state.harts.forEach((hart, id) => this.harts[id]!.restoreState(Buffer.from(hart, 'base64')));
    this.clint.restore(state.clint);
    this.plic.restore(state.plic);
    this.uart.restore(state.uart);
    this.rtc.restore(state.rtc);
    this.generationId.restore(state.generationId);
    state.virtio.forEach((v, i) => this.virtio.transports[i]!.restore(v.transport));
    this.input.splice(0, this.input.length, ...state.input);
  }

  /** Runs until the guest powers off, a limit is reached or requestStop() is called. */
  async run(): Promise<RunResult> {
    if (this.running) throw new MachineError('the machine is already running; wait for run() to finish');
    this.running = true;
    const threads = this.harts.length > 1 ? await this.startThreads() : null;
    const started = this.hostMs();
    const deadline = started + this.timeoutMs;
    let instructions = 0;
    let traps = 0;
    let resets = 0;
    let lastYield = started;
    const result = (reason: ExitReason, code = 0): RunResult => ({
      reason,
      code,
      instructions,
      traps,
      resets,
      elapsedMs: this.hostMs() - started,
    });
    try {
      for (;;) {
        if (this.stopRequested) return result('stopped');
        if (this.pauseRequested) {
          await this.park();
          lastYield = this.hostMs();
          continue;
        }
        this.feedInput();
        this.clint.update();
        this.rtc.update();
        this.virtio.poll();
        const before = this.instretTotal();
        const trapsBefore = this.hart.trapsTaken;
        let stop: StopReason;
        if (threads !== null) {
          // The harts run on their threads meanwhile: the devices wait for their next event.
          if (this.threadFailure !== null) throw new MachineError(`${this.threadFailure}; this is a bug in Vireo, please report it with the kernel file`);
          threads.mtimeOffset = this.clint.mtime() - this.clock.now();
          await this.sleep(Math.min(this.msUntilNextTimer(), THREADED_DEVICE_POLL_MS, deadline - this.hostMs()));
          lastYield = this.hostMs();
          stop = StopReason.Budget;
        } else {
          const sliceStart = this.cpuThrottle > 0 ? this.hostMs() : 0;
          stop = this.runSlice(Math.min(this.slice, this.maxInstructions - instructions - traps));
          if (this.hart.isTierPaused) this.resumeTierWhenBusy(stop);
          if (this.cpuThrottle > 0) {
            // Throttled: idle for the given share of the time, leaving the host's thread to others.
            const ran = this.hostMs() - sliceStart;
            await new Promise((resolve) => setTimeout(resolve, (ran * this.cpuThrottle) / (1 - this.cpuThrottle)));
            lastYield = this.hostMs();
          }
        }
        instructions += this.instretTotal() - before;
        traps += this.hart.trapsTaken - trapsBefore;

        const exit = this.htif?.poll();
        if (exit) return exit.code === 0 ? result('pass') : result('fail', exit.code);
        const event = this.finisherEvent;
        this.finisherEvent = null;
        if (event?.kind === 'pass') return result('pass');
        if (event?.kind === 'fail') return result('fail', event.code);
        if (event?.kind === 'reset') {
          resets++;
          await threads?.park();
          this.resetBoard();
          threads?.stateChanged();
          threads?.run();
        }
        if (this.stopRequested) return result('stopped');
        if (instructions + traps >= this.maxInstructions) return result('instruction-limit');
        const now = this.hostMs();
        if (now >= deadline) return result('timeout');
        if (stop === StopReason.WaitForInterrupt && this.nothingDue()) {
          await this.sleep(Math.min(this.msUntilNextTimer(), deadline - now));
          lastYield = this.hostMs();
        } else if (now - lastYield >= (this.tier?.compiling || this.virtio.inFlight > 0 ? YIELD_WHILE_WAITING_MS : YIELD_EVERY_MS)) {
          await new Promise<void>((resolve) => nextTask(resolve));
          lastYield = this.hostMs();
        }
      }
    } finally {
      if (threads !== null) {
        await threads.park();
        await threads.close();
        this.threads = null;
      }
      // Requests the disks still hold finish before run() resolves, so a caller may close them.
      await this.virtio.drain();
      this.running = false;
    }
  }

  /** Instructions retired by all harts since reset. */
  private instretTotal(): number {
    let total = 0;
    for (const hart of this.harts) total += hart.instret;
    return total;
  }

  /** Starts one thread per hart and lets them run. */
  private async startThreads(): Promise<HartThreads> {
    this.threadFailure = null;
    const threads = await HartThreads.start({
      memory: this.memory,
      bus: this.bus,
      clock: this.clock,
      translation: this.translationMode,
      ...(this.hotThreshold !== undefined ? { hotThreshold: this.hotThreshold } : {}),
      slice: THREAD_SLICE,
      // A hart that reprograms a CLINT timer moves the devices' next deadline: look again.
      afterWrite: (paddr) => {
        if (paddr >= CLINT.base && paddr < CLINT.base + CLINT.size) this.wake();
      },
      onFailure: (message) => {
        this.threadFailure = message;
        this.wake();
      },
    });
    threads.setThrottle(this.throttle);
    threads.mtimeOffset = this.clint.mtime() - this.clock.now();
    threads.stateChanged();
    this.threads = threads;
    threads.run();
    return threads;
  }

  /** Holds the loop, with the clock stopped and I/O drained, until resume() or requestStop(). */
  private async park(): Promise<void> {
    await this.threads?.park();
    this.clock.pause();
    await this.virtio.drain();
    this.isParked = true;
    for (const listener of this.parkedListeners.splice(0)) listener();
    while (this.pauseRequested && !this.stopRequested) await new Promise<void>((resolve) => (this.unpark = resolve));
    this.unpark = null;
    this.isParked = false;
    this.clock.resume();
    // A stop while paused (after a migration handed the VM over) must not let harts run on.
    if (!this.stopRequested) this.threads?.run();
  }

  /** Loads the images and device tree and starts every hart at the entry: a0 = hartid, a1 = FDT (RISC-V boot protocol). */
  private boot(images: BootImages): void {
    loadKernelImage(this.memory, images.image);
    if (images.initrd) this.memory.writeRam(images.initrd.start, images.initrd.data);
    this.memory.writeRam(this.fdtAddress, this.fdt);
    // Every hart starts at the entry; the firmware picks one to boot and parks the others.
    this.harts.forEach((hart, hartId) => {
      hart.reset(BigInt(this.image.entry));
      hart.setRegister(10, BigInt(hartId));
      hart.setRegister(11, BigInt(this.fdtAddress));
    });
  }

  /** The guest asked for a reset: devices to power-on state, image reloaded, hart restarted. */
  private resetBoard(): void {
    this.clint.reset();
    this.uart.reset();
    this.plic.reset();
    this.rtc.reset();
    this.generationId.reset();
    this.virtio.reset();
    this.input.length = 0;
    this.boot(this.bootImages());
  }

  /** The images for a reset: kept, or read again and checked to lie where the first ones did. */
  private bootImages(): BootImages {
    if (this.reloadBootFiles === null) return { image: this.image, ...(this.initrd ? { initrd: this.initrd } : {}) };
    const files = this.reloadBootFiles();
    const placed = placeBootImages({ base: RAM_BASE, size: this.memory.ramSize }, this.fdtAddress, files.kernel, files.firmware, files.initrd);
    if (!sameLayout(placed, { image: this.image, ...(this.initrd ? { initrd: this.initrd } : {}) })) {
      throw new MachineError('the boot files read again for the guest reset lay out differently from the ones the VM started from; put the original files back');
    }
    return placed;
  }

  private runSlice(budget: number): StopReason {
    try {
      return this.hart.run(budget);
    } catch (e) {
      if (e instanceof LockstepDivergence) throw new MachineError(`lockstep: ${e.message}; the translation tier is wrong here, please report it with the kernel file`, { cause: e });
      if (e instanceof RamFillError) throw new MachineError(`${e.message}; the VM cannot go on`, { cause: e });
      throw new MachineError(
        `the hart failed at pc 0x${this.hart.pc.toString(16)} with a host error (${(e as Error).message ?? String(e)}); this is a bug in Vireo, please report it with the kernel file`,
        { cause: e },
      );
    }
  }

  private feedInput(): void {
    if (this.input.length === 0) return;
    const taken = this.uart.receive(this.input);
    this.input.splice(0, taken);
  }

  /**
   * Whether the hart, waiting in WFI, still has nothing to take once the timers are brought
   * up to now: a deadline that passed during the slice, after the devices were last updated,
   * must wake it at once rather than be taken for one already handled.
   */
  private nothingDue(): boolean {
    this.clint.update();
    this.rtc.update();
    // A zero budget only refreshes the hart's view (Sstc) and checks what is pending.
    return this.hart.run(0) === StopReason.WaitForInterrupt;
  }

  /** Host milliseconds until the next armed timer (CLINT mtimecmp or Sstc stimecmp), capped. */
  private msUntilNextTimer(): number {
    const now = this.clint.mtime();
    let next = this.clint.nextDeadline();
    const stimecmp = this.hart.timerDeadline();
    // A compare value already passed cannot wake the hart (its interrupt is disabled), so it is not a deadline.
    if (stimecmp > now && stimecmp < next) next = stimecmp;
    const alarmMs = this.rtc.nsUntilAlarm() / 1e6;
    const timerMs = next === Infinity ? Infinity : this.clock.ticksToMs(next - now);
    return Math.min(MAX_SLEEP_MS, Math.ceil(Math.min(timerMs, alarmMs)));
  }

  /** Sleeps up to `ms`, waking early for input or a stop request. */
  private sleep(ms: number): Promise<void> {
    if (this.input.length > 0 && this.uart.receiveRoom() > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, Math.max(0, ms));
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
    });
  }

  private wake(): void {
    this.wakeUp?.();
  }
}

/**
 * The memory written between the `begin_signature` and `end_signature` symbols, which
 * conformance tests compare against a reference; null when the program has no such range.
 */
export function signatureOf(machine: Machine): Uint8Array | null {
  const begin = machine.image.symbols.get('begin_signature');
  const end = machine.image.symbols.get('end_signature');
  if (begin === undefined || end === undefined || end < begin) return null;
  if (!machine.memory.containsRam(begin, end - begin)) return null;
  return machine.memory.readRam(begin, end - begin);
}

function positiveOrInfinity(value: number | undefined, what: string): number {
  if (value === undefined) return Infinity;
  if (!(value > 0)) throw new MachineError(`${what} ${value} is invalid; it must be positive`);
  return value;
}
