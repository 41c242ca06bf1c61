// The dispatcher: a WebAssembly loop that finds the translation for the current pc and calls
// it, block after block, without returning to JavaScript. It stops when the pc's page is not
// in the fetch TLB, the block is not translated, the budget cannot fit the next block, or a
// block asks for the interpreter.

import { FETCH_TLB, PC, TLB_MODE_FETCH } from '../hart-state.js';
import { TLB_BASE, TLB_INDEX_MASK, TLB_TAG_HI } from '../tlb.js';
import { BLOCK_PARAMS, EXIT } from './block-translator.js';
import { CodeWriter, Op, sharedMaximumOf, ValType, WasmModuleBuilder } from './wasm-module-builder.js';
import { ENTRY_BYTES, FUNCTION_FIELD, KEY_FIELD, LENGTH_FIELD, WAYS, type EntryTable } from './entry-table.js';

export type DispatchFunction = (state: number, budget: number) => number;

/** Builds the dispatcher over `table` (block functions) and the entry table in `memory`. */
export function createDispatcher(memory: WebAssembly.Memory, table: WebAssembly.Table, entries: EntryTable): DispatchFunction {
  const b = new WasmModuleBuilder();
  b.importMemory('env', 'memory', 1, sharedMaximumOf(memory));
  b.importTable('env', 'table', 1);
  const blockType = b.type(BLOCK_PARAMS, [ValType.I32]);
  const runType = b.type([ValType.I32, ValType.I32], [ValType.I32]);
  const STATE = 0, BUDGET = 1, RETIRED = 2, PC_LO = 3, SLOT = 4, KEY = 5, ENTRY = 6, RESULT = 7;
  const pc = PC * 4;
  const c = new CodeWriter();
  c.open(Op.Block).open(Op.Loop);
  // The pc's page must be in the fetch TLB for this privilege (so it is executable RAM for it).
  c.local(Op.LocalGet, STATE).mem(Op.I32Load, pc, 2).local(Op.LocalSet, PC_LO);
  c.local(Op.LocalGet, PC_LO).i32(10).op(Op.I32ShrU).i32(TLB_INDEX_MASK << 2).op(Op.I32And).local(Op.LocalGet, STATE).op(Op.I32Add).local(Op.LocalSet, SLOT);
  c.local(Op.LocalGet, SLOT).mem(Op.I32Load, FETCH_TLB, 2).local(Op.LocalGet, PC_LO).i32(0xfffff000 | 0).op(Op.I32And);
  c.local(Op.LocalGet, STATE).mem(Op.I32Load, 4 * TLB_MODE_FETCH, 2).op(Op.I32Or).op(Op.I32Ne).br(Op.BrIf, 1);
  c.local(Op.LocalGet, SLOT).mem(Op.I32Load, FETCH_TLB + TLB_TAG_HI, 2).local(Op.LocalGet, STATE).mem(Op.I32Load, pc + 4, 2).op(Op.I32Ne).br(Op.BrIf, 1);
  // key = the code's guest-memory offset; one of its bucket's entries must hold it.
  c.local(Op.LocalGet, SLOT).mem(Op.I32Load, FETCH_TLB + TLB_BASE, 2).local(Op.LocalGet, PC_LO).i32(0xfff).op(Op.I32And).op(Op.I32Add).local(Op.LocalSet, KEY);
  entries.emitBucket(c, KEY, ENTRY);
  c.open(Op.Block);
  for (let way = 0; way < WAYS; way++) {
    if (way > 0) c.local(Op.LocalGet, ENTRY).i32(ENTRY_BYTES).op(Op.I32Add).local(Op.LocalSet, ENTRY);
    c.local(Op.LocalGet, ENTRY).mem(Op.I32Load, entries.offset + KEY_FIELD, 2).local(Op.LocalGet, KEY).op(Op.I32Eq).br(Op.BrIf, 0);
  }
  c.br(Op.Br, 2);
  c.end();
  // Stop where the block might overrun the budget; the interpreter finishes exactly.
  c.local(Op.LocalGet, BUDGET).local(Op.LocalGet, RETIRED).op(Op.I32Sub);
  c.local(Op.LocalGet, ENTRY).mem(Op.I32Load, entries.offset + LENGTH_FIELD, 2).op(Op.I32LtS).br(Op.BrIf, 1);
  c.local(Op.LocalGet, STATE).local(Op.LocalGet, STATE).mem(Op.I64Load, pc, 3).local(Op.LocalGet, RETIRED).local(Op.LocalGet, BUDGET);
  c.local(Op.LocalGet, ENTRY).mem(Op.I32Load, entries.offset + FUNCTION_FIELD, 2).callIndirect(blockType).local(Op.LocalSet, RESULT);
  c.local(Op.LocalGet, RESULT).i32(~EXIT).op(Op.I32And).local(Op.LocalSet, RETIRED);
  c.local(Op.LocalGet, RESULT).i32(EXIT).op(Op.I32And).br(Op.BrIf, 1);
  c.br(Op.Br, 0);
  c.end().end();
  c.local(Op.LocalGet, RETIRED);
  const run = b.addFunction(runType, [ValType.I32, ValType.I32, ValType.I32, ValType.I32, ValType.I32, ValType.I32], c);
  b.exportFunction('run', run);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(b.build()), { env: { memory, table } });
  return instance.exports.run as DispatchFunction;
}
