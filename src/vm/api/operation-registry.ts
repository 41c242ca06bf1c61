// Long actions (save, migrate) run as operations: started by one request, then read and
// long-polled by id. Only one runs at a time, since both need the whole VM to themselves.

import { randomUUID } from 'node:crypto';
import { errorResponse, VmApiError } from './vm-api-error.js';
import type { OperationProgress } from './vm-controller.js';

export type OperationKind = 'save' | 'migrate';
export type OperationState = 'running' | 'succeeded' | 'failed';

/** The work of an operation: reports progress, resolves with its result. */
export type OperationWork = (progress: (p: OperationProgress) => void) => Promise<Record<string, unknown>>;

export interface Operation {
  id: string;
  kind: OperationKind;
  state: OperationState;
  /** The last progress the VM reported, or null before the first. */
  progress: OperationProgress | null;
  /** Goes up on every change (progress or end), for waiting on the next change. */
  revision: number;
  startedAt: string;
  finishedAt?: string;
  result?: Record<string, unknown>;
  error?: { kind: string; message: string };
}

interface Waiter {
  id: string;
  afterRevision: number | undefined;
  resolve: () => void;
}

/** Finished operations kept for reading; older ones are forgotten. */
const KEEP_FINISHED = 32;

export class OperationRegistry {
  private readonly operations = new Map<string, Operation>();
  private readonly waiters = new Set<Waiter>();

  /** The operation running now, if any. */
  running(): Operation | undefined {
    for (const op of this.operations.values()) if (op.state === 'running') return { ...op };
    return undefined;
  }

  /** Starts `work` as a new operation; refused with 'operation-running' while another runs. */
  start(kind: OperationKind, work: OperationWork): Operation {
    const busy = this.running();
    if (busy !== undefined) {
      throw new VmApiError('operation-running', `a ${busy.kind} operation (${busy.id}) is still running; wait for it with GET /operations/${busy.id}?wait=SECONDS`, { operation: busy.id });
    }
    const op: Operation = { id: randomUUID(), kind, state: 'running', progress: null, revision: 0, startedAt: new Date().toISOString() };
    this.operations.set(op.id, op);
    this.forgetOld();
    const progress = (p: OperationProgress): void => {
      if (op.state !== 'running') return;
      op.progress = { phase: String(p.phase), done: Number(p.done), total: Number(p.total) };
      this.changed(op);
    };
    let promise: Promise<Record<string, unknown>>;
    try {
      promise = work(progress);
    } catch (e) {
      promise = Promise.reject(e);
    }
    promise.then(
      (result) => this.finish(op, { state: 'succeeded', result: result ?? {} }),
      (e: unknown) => this.finish(op, { state: 'failed', error: errorResponse(e).body.error }),
    );
    return { ...op };
  }

  get(id: string): Operation | undefined {
    const op = this.operations.get(id);
    return op === undefined ? undefined : { ...op };
  }

  /**
   * Resolves with the operation once it has finished (or, with `afterRevision`, once its
   * revision is past that), or when `ms` have passed, or when `signal` aborts.
   */
  async wait(id: string, ms: number, afterRevision?: number, signal?: AbortSignal): Promise<Operation | undefined> {
    const op = this.operations.get(id);
    if (op === undefined || this.satisfied(op, afterRevision) || ms <= 0) return this.get(id);
    await new Promise<void>((resolve) => {
      const waiter: Waiter = { id, afterRevision, resolve: () => done() };
      const timer = setTimeout(() => done(), ms);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      signal?.addEventListener('abort', done);
      this.waiters.add(waiter);
    });
    return this.get(id);
  }

  /** Ends every wait now (the server is closing). */
  releaseWaiters(): void {
    for (const waiter of [...this.waiters]) waiter.resolve();
  }

  private satisfied(op: Operation, afterRevision: number | undefined): boolean {
    return op.state !== 'running' || (afterRevision !== undefined && op.revision > afterRevision);
  }

  private finish(op: Operation, end: Pick<Operation, 'state' | 'result' | 'error'>): void {
    Object.assign(op, end, { finishedAt: new Date().toISOString() });
    this.changed(op);
  }

  private changed(op: Operation): void {
    op.revision++;
    for (const waiter of [...this.waiters]) {
      if (waiter.id === op.id && this.satisfied(op, waiter.afterRevision)) waiter.resolve();
    }
  }

  private forgetOld(): void {
    const finished = [...this.operations.values()].filter((op) => op.state !== 'running');
    for (const op of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.operations.delete(op.id);
  }
}
