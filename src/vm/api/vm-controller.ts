// What the VM's control API drives: one running VM, seen as a small set of verbs. The server
// (vm-api-server.ts) and every other front end call only this interface.

export type VmRunState = 'running' | 'paused' | 'saving' | 'migrating' | 'stopped';

export interface VmStatus {
  state: VmRunState;
  /** The VM's description, as JSON data. */
  config: unknown;
  instructionsRetired: number;
  uptimeMs: number;
}

export interface OperationProgress {
  phase: string;
  done: number;
  total: number;
}

export interface MigrationTarget {
  host: string;
  port: number;
}

/**
 * Errors thrown or rejected by a controller should carry a stable `kind`; 'invalid-state'
 * (pausing a stopped VM, resuming a running one) means the request conflicts with the VM's
 * state and is answered 409, any other kind 500 with the message.
 */
export interface VmController {
  status(): VmStatus;
  /** Stops the harts at an instruction boundary; resolves once paused. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Long: saves a whole-VM snapshot to `path`, reporting progress; resolves with a result object. */
  save(path: string, options: { resume: boolean }, progress: (p: OperationProgress) => void): Promise<Record<string, unknown>>;
  /** Long: moves the running VM to `target`, reporting progress; resolves with a result object. */
  migrate(target: MigrationTarget, progress: (p: OperationProgress) => void): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
  /**
   * Presses the guest's power button and returns at once; the guest shuts itself down (and the
   * VM stops) in its own time. Throws 'invalid-state' unless running, NO_GUEST_DRIVER when the
   * guest never bound a driver to the button (or has no button).
   */
  shutdown(): Promise<void>;
}

/** The kind a controller error carries when the request conflicts with the VM's state. */
export const INVALID_STATE = 'invalid-state';

/** The kind a controller error carries when the guest cannot hear the power button. */
export const NO_GUEST_DRIVER = 'no-guest-driver';

/** Controller error kinds that mean the request conflicts with the VM's (or its guest's) state: HTTP 409. */
export const CONFLICT_KINDS: ReadonlySet<string> = new Set([INVALID_STATE, NO_GUEST_DRIVER]);

/** An error a controller may throw: a kind the API maps to a status, and a message for people. */
export class VmControlError extends Error {
  readonly kind: string;

  constructor(kind: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}
