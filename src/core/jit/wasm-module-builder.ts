// A small WebAssembly binary encoder (WebAssembly Core Specification 2.0, chapter 5): just
// what the translation tier emits. Modules import the guest memory, the shared function
// table and a few host functions; their functions go into the table through an active
// element segment, so every module's blocks are reachable from the one dispatcher.

export const enum ValType {
  I32 = 0x7f,
  I64 = 0x7e,
  F64 = 0x7c,
}

/** Opcodes used by the tier (section 5.4). */
export const enum Op {
  Unreachable = 0x00,
  Block = 0x02,
  Loop = 0x03,
  If = 0x04,
  Else = 0x05,
  End = 0x0b,
  Br = 0x0c,
  BrIf = 0x0d,
  Return = 0x0f,
  Call = 0x10,
  CallIndirect = 0x11,
  ReturnCall = 0x12,
  Drop = 0x1a,
  Select = 0x1b,
  LocalGet = 0x20,
  LocalSet = 0x21,
  LocalTee = 0x22,
  I32Load = 0x28,
  I64Load = 0x29,
  F64Load = 0x2b,
  I32Load8S = 0x2c,
  I32Load8U = 0x2d,
  I32Load16S = 0x2e,
  I32Load16U = 0x2f,
  I64Load8S = 0x30,
  I64Load8U = 0x31,
  I64Load16S = 0x32,
  I64Load16U = 0x33,
  I64Load32S = 0x34,
  I64Load32U = 0x35,
  I32Store = 0x36,
  I64Store = 0x37,
  F64Store = 0x39,
  I32Store8 = 0x3a,
  I32Store16 = 0x3b,
  I64Store8 = 0x3c,
  I64Store16 = 0x3d,
  I64Store32 = 0x3e,
  I32Const = 0x41,
  I64Const = 0x42,
  F64Const = 0x44,
  I32Eqz = 0x45,
  I32Eq = 0x46,
  I32Ne = 0x47,
  I32LtS = 0x48,
  I32LtU = 0x49,
  I32GtS = 0x4a,
  I32GtU = 0x4b,
  I32LeS = 0x4c,
  I32GeS = 0x4e,
  I32GeU = 0x4f,
  I64Eqz = 0x50,
  I64Eq = 0x51,
  I64Ne = 0x52,
  I64LtS = 0x53,
  I64LtU = 0x54,
  I64GtS = 0x55,
  I64GtU = 0x56,
  I64LeS = 0x57,
  I64LeU = 0x58,
  I64GeS = 0x59,
  I64GeU = 0x5a,
  I32Add = 0x6a,
  I32Sub = 0x6b,
  I32Mul = 0x6c,
  I32DivS = 0x6d,
  I32DivU = 0x6e,
  I32RemS = 0x6f,
  I32RemU = 0x70,
  I32And = 0x71,
  I32Or = 0x72,
  I32Xor = 0x73,
  I32Shl = 0x74,
  I32ShrS = 0x75,
  I32ShrU = 0x76,
  I64Add = 0x7c,
  I64Sub = 0x7d,
  I64Mul = 0x7e,
  I64DivS = 0x7f,
  I64DivU = 0x80,
  I64RemS = 0x81,
  I64RemU = 0x82,
  I64And = 0x83,
  I64Or = 0x84,
  I64Xor = 0x85,
  I64Shl = 0x86,
  I64ShrS = 0x87,
  I64ShrU = 0x88,
  F64Add = 0xa0,
  I32WrapI64 = 0xa7,
  I64ExtendI32S = 0xac,
  I64ExtendI32U = 0xad,
  F64ConvertI32S = 0xb7,
  F64Eq = 0x61,
  F64ConvertI64U = 0xba,
}

/** The block type of a block, loop or if with no result. */
export const VOID = 0x40;

/** A growable byte buffer with the encodings of section 5.2. */
export class ByteWriter {
  private buffer: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  length = 0;

  /** The bytes written so far (a view, valid until the next write). */
  get bytes(): Uint8Array<ArrayBuffer> {
    return this.buffer.subarray(0, this.length);
  }

  byte(b: number): this {
    if (this.length === this.buffer.length) this.grow(1);
    this.buffer[this.length++] = b;
    return this;
  }

  append(bytes: Uint8Array): this {
    if (this.length + bytes.length > this.buffer.length) this.grow(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  /** Unsigned LEB128 (section 5.2.2). */
  unsigned(value: number): this {
    let v = value >>> 0;
    do {
      let byte = v & 0x7f;
      v >>>= 7;
      if (v !== 0) byte |= 0x80;
      this.byte(byte);
    } while (v !== 0);
    return this;
  }

  /** Unsigned LEB128 padded to five bytes, so it can be patched in place later (section 5.2.2 allows padding). */
  unsignedPadded(value: number): this {
    for (let i = 0; i < 4; i++) this.byte(((value >>> (7 * i)) & 0x7f) | 0x80);
    return this.byte((value >>> 28) & 0x0f);
  }

  /** Rewrites a padded LEB128 written at `at`. */
  patchPadded(at: number, value: number): void {
    for (let i = 0; i < 4; i++) this.buffer[at + i] = ((value >>> (7 * i)) & 0x7f) | 0x80;
    this.buffer[at + 4] = (value >>> 28) & 0x0f;
  }

  /** Signed LEB128 of an integer: 32-bit values, or any exactly representable one for i64. */
  signed(value: number): this {
    let v = value;
    if (v === (v | 0)) {
      for (;;) {
        const byte = v & 0x7f;
        v >>= 7;
        if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) return this.byte(byte);
        this.byte(byte | 0x80);
      }
    }
    for (;;) {
      const byte = ((v % 128) + 128) % 128;
      v = Math.floor(v / 128);
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) return this.byte(byte);
      this.byte(byte | 0x80);
    }
  }

  /** Signed LEB128 of a 64-bit value. */
  signed64(value: bigint): this {
    let v = BigInt.asIntN(64, value);
    if (v >= -(2n ** 53n) && v <= 2n ** 53n) return this.signed(Number(v));
    for (;;) {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)) return this.byte(byte);
      this.byte(byte | 0x80);
    }
  }

  /** A name: its UTF-8 length, then the bytes. */
  name(text: string): this {
    const bytes = new TextEncoder().encode(text);
    return this.unsigned(bytes.length).append(bytes);
  }

  private grow(needed: number): void {
    const bigger = new Uint8Array(Math.max(2 * this.buffer.length, this.length + needed));
    bigger.set(this.bytes);
    this.buffer = bigger;
  }
}

/** For importing `memory`: its size in pages when shared between threads (an import of a shared memory names its maximum), else undefined. */
export function sharedMaximumOf(memory: WebAssembly.Memory): number | undefined {
  const buffer = memory.buffer as ArrayBufferLike;
  return buffer instanceof SharedArrayBuffer ? buffer.byteLength / 65536 : undefined;
}

/** The instructions of one function body. */
export class CodeWriter extends ByteWriter {
  op(code: Op): this {
    return this.byte(code);
  }

  /** A block, loop or if with no result. */
  open(code: Op.Block | Op.Loop | Op.If): this {
    return this.byte(code).byte(VOID);
  }

  end(): this {
    return this.byte(Op.End);
  }

  /** atomic.fence (threads proposal: prefix 0xfe, opcode 0x03, a zero flags byte). */
  atomicFence(): this {
    return this.byte(0xfe).byte(0x03).byte(0x00);
  }

  br(code: Op.Br | Op.BrIf, depth: number): this {
    return this.byte(code).unsigned(depth);
  }

  local(code: Op.LocalGet | Op.LocalSet | Op.LocalTee, index: number): this {
    return this.byte(code).unsigned(index);
  }

  i32(value: number): this {
    return this.byte(Op.I32Const).signed(value | 0);
  }

  i64(value: bigint | number): this {
    this.byte(Op.I64Const);
    return typeof value === 'number' && Number.isSafeInteger(value) ? this.signed(value) : this.signed64(BigInt(value));
  }

  /** A load or store with a static byte offset; alignment hint log2(align). */
  mem(code: Op, offset: number, alignLog2: number): this {
    return this.byte(code).unsigned(alignLog2).unsigned(offset);
  }

  call(functionIndex: number): this {
    return this.byte(Op.Call).unsigned(functionIndex);
  }

  callIndirect(typeIndex: number, tableIndex = 0): this {
    return this.byte(Op.CallIndirect).unsigned(typeIndex).unsigned(tableIndex);
  }
}

export interface FunctionType {
  params: ValType[];
  results: ValType[];
}

interface FunctionDef {
  type: number;
  locals: ValType[];
  code: CodeWriter;
}

/**
 * Builds one module. Imports come first in the function index space (section 2.5.1): add
 * every imported function before defining any, or indices shift.
 */
export class WasmModuleBuilder {
  private readonly types: FunctionType[] = [];
  private readonly importedFunctions: Array<{ module: string; name: string; type: number }> = [];
  private memoryImport: { module: string; name: string; pages: number; sharedMaximum?: number } | null = null;
  private tableImport: { module: string; name: string; size: number } | null = null;
  private readonly functions: FunctionDef[] = [];
  private readonly exports: Array<{ name: string; functionIndex: number }> = [];
  private elements: { tableOffset: number; functionIndices: number[] } | null = null;

  /** The index of a function type, shared with identical ones. */
  type(params: ValType[], results: ValType[]): number {
    const key = `${params.join(',')}>${results.join(',')}`;
    const found = this.types.findIndex((t) => `${t.params.join(',')}>${t.results.join(',')}` === key);
    if (found >= 0) return found;
    this.types.push({ params, results });
    return this.types.length - 1;
  }

  /** Imports a memory of at least `pages`; a shared one (threads) must also give its maximum. */
  importMemory(module: string, name: string, pages: number, sharedMaximum?: number): void {
    this.memoryImport = { module, name, pages, ...(sharedMaximum !== undefined ? { sharedMaximum } : {}) };
  }

  importTable(module: string, name: string, size: number): void {
    this.tableImport = { module, name, size };
  }

  /** Imports a host function; returns its function index. */
  importFunction(module: string, name: string, type: number): number {
    if (this.functions.length > 0) throw new Error('wasm-module-builder: import functions before defining any');
    this.importedFunctions.push({ module, name, type });
    return this.importedFunctions.length - 1;
  }

  /** Defines a function; returns its function index. */
  addFunction(type: number, locals: ValType[], code: CodeWriter): number {
    this.functions.push({ type, locals, code });
    return this.importedFunctions.length + this.functions.length - 1;
  }

  exportFunction(name: string, functionIndex: number): void {
    this.exports.push({ name, functionIndex });
  }

  /** Places functions in the imported table from `tableOffset` on, when the module is instantiated. */
  setElements(tableOffset: number, functionIndices: number[]): void {
    this.elements = { tableOffset, functionIndices };
  }

  build(): Uint8Array<ArrayBuffer> {
    const out = new ByteWriter().append(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    const section = (id: number, count: number, write: (body: ByteWriter) => void) => {
      const body = new ByteWriter().unsigned(count);
      write(body);
      out.byte(id).unsigned(body.length).append(body.bytes);
    };

    section(1, this.types.length, (w) => {
      for (const t of this.types) {
        w.byte(0x60).unsigned(t.params.length);
        for (const p of t.params) w.byte(p);
        w.unsigned(t.results.length);
        for (const r of t.results) w.byte(r);
      }
    });

    const importCount = (this.memoryImport ? 1 : 0) + (this.tableImport ? 1 : 0) + this.importedFunctions.length;
    if (importCount > 0) {
      section(2, importCount, (w) => {
        const memory = this.memoryImport;
        if (memory) {
          w.name(memory.module).name(memory.name).byte(0x02);
          // Limits: 0x00 min, or 0x03 min max for a shared memory (threads proposal).
          if (memory.sharedMaximum === undefined) w.byte(0x00).unsigned(memory.pages);
          else w.byte(0x03).unsigned(memory.pages).unsigned(memory.sharedMaximum);
        }
        if (this.tableImport) w.name(this.tableImport.module).name(this.tableImport.name).byte(0x01).byte(0x70).byte(0x00).unsigned(this.tableImport.size);
        for (const f of this.importedFunctions) w.name(f.module).name(f.name).byte(0x00).unsigned(f.type);
      });
    }

    section(3, this.functions.length, (w) => {
      for (const f of this.functions) w.unsigned(f.type);
    });

    if (this.exports.length > 0) {
      section(7, this.exports.length, (w) => {
        for (const e of this.exports) w.name(e.name).byte(0x00).unsigned(e.functionIndex);
      });
    }

    const elements = this.elements;
    if (elements) {
      // Active segment for table 0: flags 0, offset expression, function indices.
      section(9, 1, (w) => {
        w.byte(0x00).byte(Op.I32Const).signed(elements.tableOffset).byte(Op.End).unsigned(elements.functionIndices.length);
        for (const i of elements.functionIndices) w.unsigned(i);
      });
    }

    section(10, this.functions.length, (w) => {
      const body = new ByteWriter();
      for (const f of this.functions) {
        body.length = 0;
        // Locals as runs of one type.
        const runs: Array<[number, ValType]> = [];
        for (const t of f.locals) {
          const last = runs[runs.length - 1];
          if (last && last[1] === t) last[0]++;
          else runs.push([1, t]);
        }
        body.unsigned(runs.length);
        for (const [count, t] of runs) body.unsigned(count).byte(t);
        body.append(f.code.bytes).byte(Op.End);
        w.unsigned(body.length).append(body.bytes);
      }
    });

    return out.bytes.slice();
  }
}
