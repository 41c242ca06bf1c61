import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteWriter, CodeWriter, Op, ValType, WasmModuleBuilder } from './wasm-module-builder.js';

test('LEB128 encodings match the specification examples', () => {
  assert.deepEqual([...new ByteWriter().unsigned(624485).bytes], [0xe5, 0x8e, 0x26]);
  assert.deepEqual([...new ByteWriter().signed(-123456).bytes], [0xc0, 0xbb, 0x78]);
  assert.equal(new ByteWriter().signed64(-(1n << 63n)).length, 10);
  assert.deepEqual([...new ByteWriter().signed(64).bytes], [0xc0, 0x00], '64 needs a second byte so its sign bit reads 0');
  assert.deepEqual([...new ByteWriter().signed(0xffffffff).bytes], [...new ByteWriter().signed64(0xffffffffn).bytes], 'numbers past 32 bits encode as their BigInt does');
  assert.deepEqual([...new ByteWriter().signed(-(2 ** 40) - 3).bytes], [...new ByteWriter().signed64(-(2n ** 40n) - 3n).bytes]);
  const padded = new ByteWriter().unsignedPadded(0);
  padded.patchPadded(0, 624485);
  assert.deepEqual([...padded.bytes], [0xe5, 0x8e, 0xa6, 0x80, 0x00], 'a padded LEB128 keeps five bytes');
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
