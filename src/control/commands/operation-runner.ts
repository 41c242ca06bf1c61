// Long actions (a VM's start or stop) run here, in the master's process, after the API has
// answered 202 with their operation: each updates its row (state, progress, message, error)
// and publishes its events; callers poll the row or wait for its end.

import type { EventBus } from '../api/event-bus.js';
import type { Target } from '../security/permissions.js';
import type { Operation, OperationChanges } from '../store/operations.js';
import type { Store } from '../store/open-store.js';
import { repositories } from '../store/repositories.js';

export interface RunnerServices {
  readonly store: Store;
  readonly events: EventBus;
}

/** Reports progress (0..1) and what the operation is doing. */
export type ReportProgress = (progress: number, message: string) => Promise<void>;

/** The work of one operation; its result is the final message, a throw its error. */
export type OperationWork = (report: ReportProgress, signal: AbortSignal) => Promise<string>;

interface Running {
  targetId: string;
  version: number;
  abort: AbortController;
  done: Promise<void>;
}

export class OperationRunner {
  private readonly running = new Map<string, Running>();
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly master: RunnerServices) {}

  /** Runs `work` for a queued operation (its row made in the request's transaction), in the background. */
  run(op: Operation, scope: Target, work: OperationWork): void {
    const entry: Running = { targetId: op.target_id, version: op.version, abort: new AbortController(), done: Promise.resolve() };
    this.running.set(op.id, entry);
    const update = async (changes: OperationChanges): Promise<void> => {
      const row = await repositories(this.master.store.db).operations.update(op.id, entry.version, changes);
      entry.version = row.version;
      this.master.events.publish({
        type: row.finished_at === null ? 'operation.progress' : 'operation.finished', resource: 'operation', id: row.id, scope,
        data: { kind: row.kind, targetKind: row.target_kind, targetId: row.target_id, state: row.state, progress: row.progress, message: row.message },
      });
      this.notify(op.id);
    };
    entry.done = (async () => {
      try {
        await update({ state: 'running', message: 'started' });
        const report: ReportProgress = (progress, message) => update({ progress: Math.min(1, Math.max(0, progress)), message });
        const message = await Promise.race([work(report, entry.abort.signal), abandoned(entry.abort.signal)]);
        await update({ state: 'succeeded', progress: 1, message, finished_at: new Date().toISOString() });
      } catch (e) {
        const error = e as Error & { kind?: unknown };
        const kind = typeof error.kind === 'string' ? error.kind : 'internal';
        await update({
          state: 'failed', message: error.message, finished_at: new Date().toISOString(),
          error: JSON.stringify({ type: `urn:vireo:problem:${kind}`, title: 'The operation failed', detail: error.message, kind }),
        }).catch((failure: unknown) => process.stderr.write(`vireo master: operation ${op.id}: cannot record its failure: ${(failure as Error).message}\n`));
      } finally {
        this.running.delete(op.id);
        this.notify(op.id);
      }
    })();
  }

  /** Whether an operation is under way on this target (a VM's id). */
  isBusy(targetId: string): boolean {
    for (const entry of this.running.values()) if (entry.targetId === targetId) return true;
    return false;
  }

  /** Resolves when the operation ends or `timeoutMs` pass, whichever is first; at once if it is not running here. */
  waitForEnd(id: string, timeoutMs: number): Promise<void> {
    if (!this.running.has(id) || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.waiters.get(id) ?? new Set<() => void>();
      this.waiters.set(id, waiters);
      const done = (): void => {
        if (!this.running.has(id)) finish();
      };
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      waiters.add(done);
    });
  }

  /** Abandons the operations under way (their agents' requests end) and waits for them to record it. */
  async close(): Promise<void> {
    const all = [...this.running.values()];
    for (const entry of all) entry.abort.abort(new Error('the master is shutting down'));
    await Promise.allSettled(all.map((entry) => entry.done));
  }

  private notify(id: string): void {
    for (const waiter of [...(this.waiters.get(id) ?? [])]) waiter();
  }
}

/** Rejects when the signal aborts, so work that ignores it cannot hold the master's shutdown. */
function abandoned(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}
