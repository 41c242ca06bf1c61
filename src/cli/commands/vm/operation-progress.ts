// Progress of a VM operation on stderr: "save: ram 45%", one line per change of phase or whole
// percent, or one line rewritten in place on a terminal.

import type { Operation } from '../../../vm/api/operation-registry.js';
import type { DiskIo as CommandIo } from '../disk/disk-io.js';

/** A callback for VmApiClient.follow that reports `label`'s progress; call `end()` once it is over. */
export function operationProgress(io: CommandIo, label: string): { onChange(op: Operation): void; end(): void } {
  let last = '';
  let width = 0;
  return {
    onChange(op) {
      if (op.progress === null) return;
      const { phase, done, total } = op.progress;
      const line = total > 0 ? `${label}: ${phase} ${Math.min(100, Math.floor((done / total) * 100))}%` : `${label}: ${phase}`;
      if (line === last) return;
      last = line;
      if (io.stderrIsTty) {
        io.err(`\r${line.padEnd(width)}`);
        width = line.length;
      } else {
        io.err(`${line}\n`);
      }
    },
    end() {
      if (io.stderrIsTty && width > 0) io.err('\n');
    },
  };
}
