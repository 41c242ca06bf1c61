// Runs a benchmark ELF on Vireo's bare-metal board in this process and times the run loop
// alone (the board is built and the image loaded before the clock starts).

import { Machine, type ExitReason, type TranslationMode } from '../src/machine/machine.js';

/** Guest RAM for the benchmarks: their largest (sort) needs under 1 MiB. */
const RAM_MIB = 32;

export interface VireoRun {
  reason: ExitReason;
  /** The guest's exit code when reason is 'fail'. */
  code: number;
  instructions: number;
  seconds: number;
  /** Everything the guest wrote to UART0. */
  output: string;
}

export interface VireoRunOptions {
  /** Stop after this many instructions (a warm-up run, or a guard against a runaway guest). */
  maxInstructions?: number;
  timeoutMs?: number;
  /** The translation tier's mode (default on). */
  translation?: TranslationMode;
}

export async function runOnVireo(kernel: Uint8Array, options: VireoRunOptions = {}): Promise<VireoRun> {
  const bytes: number[] = [];
  const machine = new Machine({
    kernel,
    ramMiB: RAM_MIB,
    serial: { write: (byte) => void bytes.push(byte) },
    ...(options.maxInstructions !== undefined ? { maxInstructions: options.maxInstructions } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    translation: options.translation ?? 'on',
  });
  const result = await machine.run();
  return {
    reason: result.reason,
    code: result.code,
    instructions: result.instructions,
    seconds: result.elapsedMs / 1000,
    output: String.fromCharCode(...bytes),
  };
}
