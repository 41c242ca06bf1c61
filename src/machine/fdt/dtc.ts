// Runs the host's dtc (device-tree-compiler) to decompile a blob: an independent check of
// what the writer produces. Used by tests and diagnostics, never on the boot path.

import { spawnSync } from 'node:child_process';
import { FdtError } from './fdt-node.js';

export interface Decompiled {
  /** The blob as DTS source. */
  dts: string;
  /** dtc's warnings (empty when it had nothing to say). */
  warnings: string;
}

/** Decompiles a blob with `dtc -I dtb -O dts`. Throws FdtError if dtc is missing or rejects the blob. */
export function decompileDtb(blob: Uint8Array): Decompiled {
  const result = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', '-'], { input: blob, encoding: 'utf8' });
  if (result.error) {
    throw new FdtError(`cannot run dtc (${result.error.message}); install it: apt-get install device-tree-compiler`, { cause: result.error });
  }
  if (result.status !== 0) throw new FdtError(`dtc rejected the devicetree blob (exit ${result.status}):\n${result.stderr}`);
  return { dts: result.stdout, warnings: result.stderr };
}
