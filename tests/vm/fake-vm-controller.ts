// A VmController with no VM behind it, for testing the API and the CLI: it keeps a run state
// by the same rules as a VM, and its long actions (save, migrate) are finished by the test.

import type { MigrationTarget, OperationProgress, VmController, VmRunState, VmStatus } from '../../src/vm/api/vm-controller.js';
import { NO_GUEST_DRIVER, VmControlError } from '../../src/vm/api/vm-controller.js';

/** A save or migrate the fake has started; the test reports progress and ends it. */
export interface PendingAction {
  kind: 'save' | 'migrate';
  path?: string;
  resume?: boolean;
  target?: MigrationTarget;
  progress(p: OperationProgress): void;
  succeed(result: Record<string, unknown>): void;
  fail(error: Error): void;
}

export class FakeVmController implements VmController {
  state: VmRunState = 'running';
  readonly config = { version: 1, harts: 1, memoryMiB: 256 };
  instructionsRetired = 123_456;
  /** Whether the fake guest has a driver for its power button; shutdown() refuses without one. */
  guestDriver = true;
  /** Power button presses so far. */
  shutdownPresses = 0;
  /** Thrown by the next pause(), once. */
  pauseFailure: Error | undefined;
  private readonly started = Date.now();
  private waitingForAction: ((action: PendingAction) => void) | undefined;
  private latest: PendingAction | undefined;

  status(): VmStatus {
    return { state: this.state, config: this.config, instructionsRetired: this.instructionsRetired, uptimeMs: Date.now() - this.started };
  }

  async pause(): Promise<void> {
    const failure = this.pauseFailure;
    this.pauseFailure = undefined;
    if (failure !== undefined) throw failure;
    this.expect('pause', 'running');
    this.state = 'paused';
  }

  async resume(): Promise<void> {
    this.expect('resume', 'paused');
    this.state = 'running';
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') throw new VmControlError('invalid-state', 'cannot stop: the VM is already stopped');
    this.state = 'stopped';
  }

  async shutdown(): Promise<void> {
    this.expect('shut down', 'running');
    if (!this.guestDriver) throw new VmControlError(NO_GUEST_DRIVER, 'the guest has not bound a driver to the power button');
    this.shutdownPresses++;
  }

  save(path: string, options: { resume: boolean }, progress: (p: OperationProgress) => void): Promise<Record<string, unknown>> {
    const before = this.state;
    this.state = 'saving';
    return this.begin({ kind: 'save', path, resume: options.resume }, progress, options.resume ? 'running' : 'paused', before);
  }

  migrate(target: MigrationTarget, progress: (p: OperationProgress) => void): Promise<Record<string, unknown>> {
    const before = this.state;
    this.state = 'migrating';
    return this.begin({ kind: 'migrate', target }, progress, 'stopped', before);
  }

  /** The long action the server starts next (or has just started). */
  nextAction(): Promise<PendingAction> {
    if (this.latest !== undefined) {
      const action = this.latest;
      this.latest = undefined;
      return Promise.resolve(action);
    }
    return new Promise((resolve) => { this.waitingForAction = resolve; });
  }

  private begin(what: Pick<PendingAction, 'kind' | 'path' | 'resume' | 'target'>, progress: (p: OperationProgress) => void, after: VmRunState, before: VmRunState): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const action: PendingAction = {
        ...what,
        progress,
        succeed: (result) => { this.state = after; resolve(result); },
        fail: (error) => { this.state = before; reject(error); },
      };
      const waiting = this.waitingForAction;
      this.waitingForAction = undefined;
      if (waiting !== undefined) waiting(action);
      else this.latest = action;
    });
  }

  private expect(verb: string, state: VmRunState): void {
    if (this.state !== state) throw new VmControlError('invalid-state', `cannot ${verb}: the VM is ${this.state}, not ${state}`);
  }
}
