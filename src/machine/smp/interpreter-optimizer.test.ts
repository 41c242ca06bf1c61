import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { execute } from '../../core/interpreter.js';
import { runWarmUp, warmUpInterpreter } from '../../core/interpreter-warm-up.js';
import { optimizeInterpreter } from './interpreter-optimizer.js';

/** V8's optimization status bits of a function (OptimizationStatus in V8's runtime-test.cc: 16 is "optimized"). */
function optimizationStatus(f: unknown): number {
  setFlagsFromString('--allow-natives-syntax');
  try {
    return (new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number)(f);
  } finally {
    setFlagsFromString('--no-allow-natives-syntax');
  }
}

const OPTIMIZED = 16;

test('the interpreter runs optimized once optimizeInterpreter returns, and still runs every instruction alike', () => {
  warmUpInterpreter(true);
  assert.equal(optimizeInterpreter(), true);
  assert.ok((optimizationStatus(execute) & OPTIMIZED) !== 0, `status ${optimizationStatus(execute).toString(2)}`);
  const { hart, end } = runWarmUp(true);
  assert.equal(hart.pc, BigInt(end), 'the warm-up program ran through to its end on the optimized code');
});
