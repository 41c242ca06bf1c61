import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodeWriter, Op, ValType, WasmModuleBuilder, pushSigned32, pushSigned64, pushUnsigned } from './wasm-module-builder.js';

test('LEB128 encodings match the specification examples', () => {
  const u: number[] = [];
  pushUnsigned(u, 624485);
  assert.deepEqual(u, [0xe5, 0x8e, 0x26]);
  const s: number[] = [];
  pushSigned32(s, -123456);
  assert.deepEqual(s, [0xc0, 0xbb, 0x78]);
  const big: number[] = [];
  pushSigned64(big, -(1n << 63n));
  assert.equal(big.length, 10);
  const edge: number[] = [];
  pushSigned32(edge, 64);
  assert.deepEqual(edge, [0xc0, 0x00], '64 needs a second byte so its sign bit reads 0');
});

test('a module over imported memory and table runs, calls imports and fills the table', () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const table = new WebAssembly.Table({ initial: 4, element: 'anyfunc' });
  const b = new WasmModuleBuilder();
  b.importMemory('env', 'memory', 1);
  b.importTable('env', 'table', 4);
  const hostType = b.type([ValType.I32], [ValType.I32]);
  const host = b.importFunction('env', 'twice', hostType);
  const fnType = b.type([], [ValType.I32]);
  // mem[8] (i64) = mem[0] + mem[16] + 0x1_0000_0000; returns twice(7).
  const code = new CodeWriter()
    .i32(0)
    .i32(0).mem(Op.I64Load, 0, 3)
    .i32(0).mem(Op.I64Load, 16, 3)
    .op(Op.I64Add)
    .i64(0x1_0000_0000n).op(Op.I64Add)
    .mem(Op.I64Store, 8, 3)
    .i32(7).call(host);
  const f = b.addFunction(fnType, [ValType.I64], code);
  b.exportFunction('f', f);
  b.setElements(2, [f]);
  const module = new WebAssembly.Module(b.build());
  const instance = new WebAssembly.Instance(module, { env: { memory, table, twice: (x: number) => 2 * x } });
  const view = new BigInt64Array(memory.buffer);
  view[0] = 5n;
  view[2] = -1n;
  assert.equal((instance.exports.f as () => number)(), 14);
  assert.equal(view[1], 0x1_0000_0004n);
  assert.equal((table.get(2) as () => number)(), 14, 'the element segment placed f in the shared table');
});
