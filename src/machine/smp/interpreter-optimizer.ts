// Compiles the interpreter's dispatch function with V8's optimizing compiler on a hart thread
// before the hart runs. Left to V8, each thread compiled it twice while the guest ran (once
// on-stack, once for the next call), at about half a second of a host core each: with two harts
// on two cores that came out of the guest's time. Compiled here, from the warm-up's feedback,
// it is compiled once per thread, while the board starts.

import { setFlagsFromString } from 'node:v8';
import { execute } from '../../core/interpreter.js';
import { runTierWarmUp, runWarmUp } from '../../core/interpreter-warm-up.js';

type Intrinsic = (f: unknown) => void;

/**
 * Optimizes `execute` now, on this thread, for harts on shared memory; call it after the
 * thread's hart is built (so the objects the code sees have their final shapes) and after
 * `warmUpInterpreter(true)`. False when this V8 does not let it (the thread then runs as V8 decides).
 */
export function optimizeInterpreter(): boolean {
  const optimizeOnNextCall = intrinsic('OptimizeFunctionOnNextCall');
  if (optimizeOnNextCall === null) return false;
  optimizeOnNextCall(execute);
  // The next call compiles it; the warm-up's calls then refresh its feedback.
  runWarmUp(true);
  runTierWarmUp(true);
  return true;
}

/** A V8 intrinsic as a function, or null: natives syntax is on only while the function is parsed. */
function intrinsic(name: string): Intrinsic | null {
  try {
    setFlagsFromString('--allow-natives-syntax');
    return new Function('f', `%${name}(f)`) as Intrinsic;
  } catch {
    return null;
  } finally {
    setFlagsFromString('--no-allow-natives-syntax');
  }
}
