// The main thread's side of a multi-hart VM: one worker thread per hart (hart-thread.ts), the
// mailboxes that carry their device accesses to the board, and the control words that run,
// park and wake them.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { GuestMemory } from '../../core/guest-memory.js';
import type { SystemBus } from '../../core/system-bus.js';
import type { VirtualClock } from '../virtual-clock.js';
import { createMailboxes, MailboxServer } from './mmio-mailbox.js';
import { Control, ThreadControl } from './thread-control.js';
import type { HartThreadData, HartThreadMessage } from './hart-thread.js';

export interface HartThreadsOptions {
  memory: GuestMemory;
  bus: SystemBus;
  clock: VirtualClock;
  translation: 'on' | 'off' | 'lockstep';
  hotThreshold?: number;
  slice: number;
  /** Called after each device write a hart makes. */
  afterWrite: (paddr: number) => void;
  /** Called once if a hart thread fails (a host error: a bug); the VM cannot go on. */
  onFailure: (message: string) => void;
}

export class HartThreads {
  readonly harts: number;
  private readonly control: ThreadControl;
  private readonly server: MailboxServer;
  private readonly workers: Worker[] = [];
  private failed = false;

  private constructor(private readonly options: HartThreadsOptions) {
    this.harts = options.memory.harts;
    this.control = ThreadControl.create(this.harts);
    // Harts start parked: they run once run() says so.
    this.control.setControl(Control.Park, this.harts);
    const mailboxes = createMailboxes(this.harts);
    this.server = new MailboxServer(mailboxes, this.harts, options.bus, options.afterWrite);
    for (let hartId = 0; hartId < this.harts; hartId++) {
      const data: HartThreadData = {
        hartId,
        harts: this.harts,
        memory: options.memory.memory,
        codeMap: options.memory.codeMap!.buffer,
        dirtyLog: options.memory.dirtyLog.buffer as SharedArrayBuffer,
        ramBase: options.memory.ramBase,
        ramSize: options.memory.ramSize,
        translation: options.translation,
        ...(options.hotThreshold !== undefined ? { hotThreshold: options.hotThreshold } : {}),
        control: this.control.buffer,
        mailboxes,
        clockCells: options.clock.cells,
        timebaseHz: options.clock.frequency,
        slice: options.slice,
        yieldOnPause: this.harts > availableParallelism(),
      };
      const worker = new Worker(new URL('./hart-thread.js', import.meta.url), { workerData: data });
      worker.on('message', (message: HartThreadMessage) => {
        if (message.kind === 'failed') this.fail(`hart ${hartId} failed at pc 0x${message.pc} with a host error (${message.message})`);
      });
      worker.on('error', (error) => this.fail(`hart ${hartId}'s thread failed: ${error.message}`));
      this.workers.push(worker);
    }
  }

  /** Starts one thread per hart of `memory` (made shared); resolves once all are parked, ready to run. */
  static async start(options: HartThreadsOptions): Promise<HartThreads> {
    const threads = new HartThreads(options);
    await threads.untilParked();
    return threads;
  }

  /** Lets every hart run. */
  run(): void {
    this.control.setControl(Control.Run, this.harts);
  }

  /** Stops every hart at an instruction boundary; resolves once all are. */
  async park(): Promise<void> {
    this.control.setControl(Control.Park, this.harts);
    await this.untilParked();
  }

  /** Tells parked harts that their state blocks were rewritten (a reset, a restore). */
  stateChanged(): void {
    this.control.bumpEpoch();
  }

  /** An interrupt line of this hart rose: end its WFI sleep. */
  wake(hartId: number): void {
    this.control.wake(hartId);
  }

  /** The CLINT's mtime minus the clock's ticks, for the harts' time CSR. */
  set mtimeOffset(ticks: number) {
    if (this.control.mtimeOffset !== ticks) this.control.mtimeOffset = ticks;
  }

  /** The share of time (0 to 0.95) each hart sleeps. */
  setThrottle(share: number): void {
    for (let id = 0; id < this.harts; id++) this.control.setThrottle(id, share);
  }

  /** Ends the threads. */
  async close(): Promise<void> {
    this.control.setControl(Control.Exit, this.harts);
    this.server.close();
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve) => {
      if (w.threadId < 0) resolve();
      else w.once('exit', () => resolve());
    })));
  }

  private async untilParked(): Promise<void> {
    for (let id = 0; id < this.harts; id++) {
      while (!this.control.parked(id) && !this.failed) await this.control.waitParked(id, 100);
    }
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.options.onFailure(message);
  }
}
