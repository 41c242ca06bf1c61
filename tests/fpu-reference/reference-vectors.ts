// Expected results for the FPU from the host's IEEE 754 implementation: generates operand
// tuples, runs them through the compiled reference program and parses its answers.

import { spawnSync } from 'node:child_process';
import { FpuReferenceError } from './fpu-reference-error.js';
import { buildReferenceBinary } from './reference-binary.js';
import { vectorInputs } from './vector-inputs.js';
import type { InputOptions, VectorInput } from './vector-inputs.js';

export interface ReferenceVector extends VectorInput {
  /** Result bit pattern (integers as unsigned two's complement of their width). */
  readonly result: bigint;
  /** Expected fflags. */
  readonly flags: number;
}

/** Runs the given inputs through the reference program. */
export function computeReference(inputs: readonly VectorInput[]): ReferenceVector[] {
  const binary = buildReferenceBinary();
  const lines = inputs.map((v) => `${v.op} ${v.rm} ${v.a.toString(16)} ${v.b.toString(16)} ${v.c.toString(16)}\n`);
  const run = spawnSync(binary, [], { input: lines.join(''), encoding: 'utf8', maxBuffer: 1 << 30 });
  if (run.error !== undefined || run.status !== 0) {
    throw new FpuReferenceError('run-failed', binary, `reference program failed (status ${run.status}): ${run.stderr}`, {
      cause: run.error,
    });
  }
  const out = run.stdout.split('\n');
  if (out.length - 1 !== inputs.length) {
    throw new FpuReferenceError('run-failed', binary, `expected ${inputs.length} results, got ${out.length - 1}`);
  }
  return inputs.map((v, i) => {
    const [result, flags] = out[i]!.split(' ');
    return { ...v, result: BigInt('0x' + result), flags: Number(flags) };
  });
}

export const DEFAULT_INPUT_OPTIONS: InputOptions = { seed: 0x5eed_f00d, randomPerOp: 2500 };

/** Reference vectors for every operation and rounding mode. */
export function referenceVectors(options: InputOptions = DEFAULT_INPUT_OPTIONS): ReferenceVector[] {
  return computeReference(vectorInputs(options));
}
