// An agent operation's progress forwarded to the master's operation: each change becomes a
// report, made one after another because each update of the row needs the version the last left.

import type { AgentOperation } from '../hosts/agent-api-types.js';
import type { ReportProgress } from './operation-runner.js';

export interface ProgressForwarder {
  /** For HostAgentClient's `onProgress`. */
  onProgress: (op: AgentOperation) => void;
  /** Resolves once every report made so far is recorded. */
  settled: () => Promise<void>;
}

/** Maps the agent's done/total onto [from, to] of the master's operation. */
export function forwardProgress(report: ReportProgress, what: string, from: number, to: number): ProgressForwarder {
  let chain = Promise.resolve();
  return {
    onProgress: (op) => {
      const p = op.progress;
      if (p === null) return;
      const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
      const message = `${what}: ${p.phase}${p.total > 0 ? ` ${Math.round(fraction * 100)}%` : ''}`;
      chain = chain.then(() => report(from + (to - from) * fraction, message)).catch(() => {});
    },
    settled: () => chain,
  };
}
