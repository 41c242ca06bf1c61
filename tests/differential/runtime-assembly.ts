// The fixed part of every differential program: start-up, the M- and S-mode trap handlers that
// log each trap and step over the faulting instruction, and the routines that print the final
// architectural state on the UART. Generated blocks are placed after it (program-generator.ts).
//
// Register conventions shared with the generated code: gp (x3) always holds the save area's
// address (identity-mapped, so it is valid in M and S); tp (x4) is 0 except right before the
// `ecall` that ends a block (1) or reports a fatal trap from S (2). Generated code never
// writes either.

import {
  CODE_OFFSET, DATA_BYTES, DATA_PA, LOG_ENTRY, LOG_MAX, RAM_BASE, SAVE, SAVE_PA, SAVE_OFFSET,
  U_ALIAS_DELTA, WINDOW, hex,
} from './program-layout.js';

export interface DumpItem {
  tag: string;
  /** Instructions leaving the value in a1 (may clobber t0-t2); run after x/f regs are saved. */
  load: string[];
}

export interface RuntimeOptions {
  /** Seed of the xorshift that fills the data area. */
  dataSeed: bigint;
  /** Values printed after the registers (CSRs, PTEs). */
  extraDump: DumpItem[];
  /** Bytes hashed per printed line of the data area. */
  memoryChunk: number;
  /** M-mode code run after the data area is filled: PMP entries (may clobber t0, t1). */
  pmpSetup: string[];
}

const MSTATUS_FS = 3n << 13n;
const MSTATUS_MPRV = 1n << 17n;
/** Traps the handlers cannot step over: instruction misaligned/access/page faults. */
const FATAL_CAUSES = (1n << 0n) | (1n << 1n) | (1n << 12n);

export function runtimeAssembly(o: RuntimeOptions): string {
  const L: string[] = [];
  const e = (...lines: string[]) => L.push(...lines);

  e(
    '        .option norelax',
    '        .section .text.init, "ax", @progbits',
    '        .globl _start',
    '_start:',
    `        li      gp, ${hex(SAVE_PA)}`,
    '        li      tp, 0',
    '        la      t0, rt_mtrap',
    '        csrw    mtvec, t0',
    '        la      t0, rt_strap',
    '        csrw    stvec, t0',
    // Fill the data area from an xorshift64 sequence.
    `        li      t0, ${hex(DATA_PA)}`,
    `        li      t1, ${hex(DATA_PA + BigInt(DATA_BYTES))}`,
    `        li      t2, ${hex(o.dataSeed | 1n)}`,
    '1:      slli    t3, t2, 13',
    '        xor     t2, t2, t3',
    '        srli    t3, t2, 7',
    '        xor     t2, t2, t3',
    '        slli    t3, t2, 17',
    '        xor     t2, t2, t3',
    '        sd      t2, 0(t0)',
    '        addi    t0, t0, 8',
    '        bltu    t0, t1, 1b',
    ...o.pmpSetup.map((l) => `        ${l}`),
    `        li      t0, ${hex(1n << 13n)}`,
    '        csrs    mstatus, t0',
    '        j       gen_main',
  );

  // ---------------------------------------------------------------- M-mode trap handler
  e(
    '        .balign 64',
    'rt_mtrap:',
    `        sd      t0, ${SAVE.mScratch}(gp)`,
    `        sd      t1, ${SAVE.mScratch + 8}(gp)`,
    `        sd      t2, ${SAVE.mScratch + 16}(gp)`,
    `        sd      t3, ${SAVE.mScratch + 24}(gp)`,
    `        ld      t0, ${SAVE.inMHandler}(gp)`,
    '        bnez    t0, rt_nested',
    '        li      t0, 1',
    `        sd      t0, ${SAVE.inMHandler}(gp)`,
    '        csrr    t0, mcause',
    '        beqz    tp, rt_mlog',
    // An ecall with tp set is the end of a block (tp = 1) or a fatal trap seen by S (tp = 2).
    '        li      t1, 8',
    '        beq     t0, t1, 1f',
    '        li      t1, 9',
    '        beq     t0, t1, 1f',
    '        li      t1, 11',
    '        bne     t0, t1, rt_mlog',
    '1:      li      t1, 2',
    '        beq     tp, t1, rt_mfatal',
    '        li      tp, 0',
    `        ld      t1, ${SAVE.continuation}(gp)`,
    '        csrw    mepc, t1',
    `        li      t1, ${hex(3n << 11n)}`,
    '        csrs    mstatus, t1',
    // MRET leaves MPP = U: with MPRV still set, the driver's own stores would be U's.
    `        li      t1, ${hex(MSTATUS_MPRV)}`,
    '        csrc    mstatus, t1',
    '        j       rt_mreturn',
    'rt_mlog:',
    ...logTrap('m', 0),
    // Fetch faults and interrupts have no instruction to step over: stop the program.
    '        bltz    t0, rt_mfatal',
    `        li      t1, ${hex(FATAL_CAUSES)}`,
    '        srl     t1, t1, t0',
    '        andi    t1, t1, 1',
    '        bnez    t1, rt_mfatal',
    '        csrr    t0, mepc',
    '        addi    t0, t0, 2',
    '        andi    t2, t2, 3',
    '        li      t3, 3',
    '        bne     t2, t3, 1f',
    '        addi    t0, t0, 2',
    '1:      csrw    mepc, t0',
    'rt_mreturn:',
    `        sd      zero, ${SAVE.inMHandler}(gp)`,
    `        ld      t0, ${SAVE.mScratch}(gp)`,
    `        ld      t1, ${SAVE.mScratch + 8}(gp)`,
    `        ld      t2, ${SAVE.mScratch + 16}(gp)`,
    `        ld      t3, ${SAVE.mScratch + 24}(gp)`,
    '        mret',
    'rt_mfatal:',
    `        sd      zero, ${SAVE.inMHandler}(gp)`,
    // The dump's own loads and stores must not be translated (MPRV may be set with MPP = U).
    `        li      t0, ${hex(MSTATUS_MPRV)}`,
    '        csrc    mstatus, t0',
    `        ld      t0, ${SAVE.mScratch}(gp)`,
    `        ld      t1, ${SAVE.mScratch + 8}(gp)`,
    `        ld      t2, ${SAVE.mScratch + 16}(gp)`,
    `        ld      t3, ${SAVE.mScratch + 24}(gp)`,
    '        li      tp, 0',
    '        j       rt_finish',
    // A trap inside a handler: the state is not trustworthy any more; say so and stop.
    'rt_nested:',
    '        la      a0, rt_msg_nested',
    '        csrr    a1, mcause',
    '        csrr    a2, mepc',
    '        csrr    a3, mtval',
    '        sd      a1, 0(gp)',
    '        sd      a2, 8(gp)',
    '        sd      a3, 16(gp)',
    '        mv      a1, gp',
    '        li      a2, 3',
    '        call    rt_dump',
    '        li      t0, 0x100000',
    '        li      t1, 0x23333',
    '        sw      t1, 0(t0)',
    '1:      j       1b',
  );

  // ---------------------------------------------------------------- S-mode trap handler
  e(
    '        .balign 64',
    'rt_strap:',
    `        sd      t0, ${SAVE.sScratch}(gp)`,
    `        sd      t1, ${SAVE.sScratch + 8}(gp)`,
    `        sd      t2, ${SAVE.sScratch + 16}(gp)`,
    `        sd      t3, ${SAVE.sScratch + 24}(gp)`,
    `        ld      t0, ${SAVE.inSHandler}(gp)`,
    '        bnez    t0, rt_snested',
    '        li      t0, 1',
    `        sd      t0, ${SAVE.inSHandler}(gp)`,
    '        csrr    t0, scause',
    '        beqz    tp, rt_slog',
    '        li      t1, 8',
    '        bne     t0, t1, rt_slog',
    // A U-mode block ended with its ecall delegated here: pass it on to M.
    `        sd      zero, ${SAVE.inSHandler}(gp)`,
    ...restore('s'),
    '        ecall',
    'rt_slog:',
    ...logTrap('s', 1),
    '        bltz    t0, rt_sfatal',
    `        li      t1, ${hex(FATAL_CAUSES)}`,
    '        srl     t1, t1, t0',
    '        andi    t1, t1, 1',
    '        bnez    t1, rt_sfatal',
    '        csrr    t0, sepc',
    '        addi    t0, t0, 2',
    '        andi    t2, t2, 3',
    '        li      t3, 3',
    '        bne     t2, t3, 1f',
    '        addi    t0, t0, 2',
    '1:      csrw    sepc, t0',
    `        sd      zero, ${SAVE.inSHandler}(gp)`,
    ...restore('s'),
    '        sret',
    'rt_sfatal:',
    `        sd      zero, ${SAVE.inSHandler}(gp)`,
    ...restore('s'),
    '        li      tp, 2',
    '        ecall',
    'rt_snested:',
    '        li      tp, 2',
    '        ecall',
  );

  // ---------------------------------------------------------------- printing
  e(
    // rt_putc(a0): one byte to UART0 once THR is empty (LSR bit 5). Clobbers t0, t1.
    'rt_putc:',
    '        li      t0, 0x10000000',
    '1:      lbu     t1, 5(t0)',
    '        andi    t1, t1, 0x20',
    '        beqz    t1, 1b',
    '        sb      a0, 0(t0)',
    '        ret',
    // rt_dump(a0 = tag, a1 = pointer, a2 = count): "tag v0 v1 ..." in hex, one line.
    // Clobbers a0-a7, t0-t2.
    'rt_dump:',
    '        mv      a7, ra',
    '        mv      a3, a0',
    '1:      lbu     a0, 0(a3)',
    '        beqz    a0, 2f',
    '        call    rt_putc',
    '        addi    a3, a3, 1',
    '        j       1b',
    '2:      beqz    a2, 5f',
    '        li      a0, 0x20',
    '        call    rt_putc',
    '        ld      a4, 0(a1)',
    '        li      a5, 60',
    '3:      srl     a0, a4, a5',
    '        andi    a0, a0, 15',
    '        addi    a0, a0, 48',
    '        li      t2, 57',
    '        ble     a0, t2, 4f',
    '        addi    a0, a0, 39',
    '4:      call    rt_putc',
    '        addi    a5, a5, -4',
    '        bgez    a5, 3b',
    '        addi    a1, a1, 8',
    '        addi    a2, a2, -1',
    '        j       2b',
    '5:      li      a0, 10',
    '        call    rt_putc',
    '        mv      ra, a7',
    '        ret',
  );

  // ---------------------------------------------------------------- checkpoint (trace mode)
  // rt_checkpoint: prints x1..x31 (x1 from its save slot, stored by the caller), the trap
  // count, mstatus and fcsr, then restores every register but ra.
  e('rt_checkpoint:');
  for (let r = 2; r < 32; r++) if (r !== 3) e(`        sd      x${r}, ${SAVE.dump + 8 * (r - 1)}(gp)`);
  e(
    `        ld      t0, ${SAVE.ra}(gp)`,
    `        sd      t0, ${SAVE.dump}(gp)`,
    `        sd      gp, ${SAVE.dump + 16}(gp)`,
    `        ld      t0, ${SAVE.trapCount}(gp)`,
    `        sd      t0, ${SAVE.dump + 8 * 31}(gp)`,
    `        sd      ra, ${SAVE.checkpoint}(gp)`,
    // mstatus and fcsr too (fcsr read with the FPU on for a moment, then mstatus restored).
    '        csrr    s1, mstatus',
    `        sd      s1, ${SAVE.dump + 8 * 32}(gp)`,
    `        li      t0, ${hex(1n << 13n)}`,
    '        csrs    mstatus, t0',
    '        csrr    t0, fcsr',
    `        sd      t0, ${SAVE.dump + 8 * 33}(gp)`,
    '        csrw    mstatus, s1',
    '        la      a0, rt_msg_checkpoint',
    `        addi    a1, gp, ${SAVE.dump}`,
    '        li      a2, 34',
    '        call    rt_dump',
    `        ld      ra, ${SAVE.checkpoint}(gp)`,
  );
  for (let r = 2; r < 32; r++) if (r !== 3) e(`        ld      x${r}, ${SAVE.dump + 8 * (r - 1)}(gp)`);
  e('        ret');

  // ---------------------------------------------------------------- final dump
  e('rt_finish:');
  for (let r = 1; r < 32; r++) e(`        sd      x${r}, ${SAVE.dump + 8 * (r - 1)}(gp)`);
  e(
    '        csrr    t0, mstatus',
    `        sd      t0, ${SAVE.dump + 8 * 31}(gp)`,
    `        li      t1, ${hex(MSTATUS_FS)}`,
    '        csrs    mstatus, t1',
  );
  for (let r = 0; r < 32; r++) e(`        fsd     f${r}, ${SAVE.dump + 8 * (32 + r)}(gp)`);
  for (let r = 1; r < 32; r++) {
    e(`        la      a0, rt_tag_x${r}`, `        addi    a1, gp, ${SAVE.dump + 8 * (r - 1)}`, '        li      a2, 1', '        call    rt_dump');
  }
  e('        la      a0, rt_tag_mstatus', `        addi    a1, gp, ${SAVE.dump + 8 * 31}`, '        li      a2, 1', '        call    rt_dump');
  for (let r = 0; r < 32; r++) {
    e(`        la      a0, rt_tag_f${r}`, `        addi    a1, gp, ${SAVE.dump + 8 * (32 + r)}`, '        li      a2, 1', '        call    rt_dump');
  }
  o.extraDump.forEach((item, i) => {
    e(...item.load.map((l) => `        ${l}`));
    e(`        sd      a1, ${SAVE.print}(gp)`, `        la      a0, rt_tag_extra${i}`, `        addi    a1, gp, ${SAVE.print}`, '        li      a2, 1', '        call    rt_dump');
  });
  // Trap log: the count, then one line per logged trap.
  e(
    '        la      a0, rt_msg_traps',
    `        addi    a1, gp, ${SAVE.trapCount}`,
    '        li      a2, 1',
    '        call    rt_dump',
    `        ld      s1, ${SAVE.trapCount}(gp)`,
    `        li      t0, ${LOG_MAX}`,
    '        bleu    s1, t0, 1f',
    '        mv      s1, t0',
    `1:      li      s2, ${SAVE.log}`,
    '        add     s2, s2, gp',
    '2:      beqz    s1, 3f',
    '        la      a0, rt_msg_trap',
    '        mv      a1, s2',
    '        li      a2, 6',
    '        call    rt_dump',
    `        addi    s2, s2, ${LOG_ENTRY}`,
    '        addi    s1, s1, -1',
    '        j       2b',
    '3:',
  );
  // The data area: one FNV-1a-style hash of 32-bit words per chunk. 32-bit loads: PMP regions
  // have a 4-byte grain, so none is only partly covered (that fails even in M, Priv. 3.7.1).
  e(
    `        li      s1, ${hex(DATA_PA)}`,
    `        li      s2, ${hex(DATA_PA + BigInt(DATA_BYTES))}`,
    '        li      s4, 0x100000001b3',
    '4:      li      s3, -3750763034362895579',
    `        addi    s5, s1, ${o.memoryChunk}`,
    `        li      t1, ${hex(DATA_PA)}`,
    '        sub     t0, s1, t1',
    `        sd      t0, ${SAVE.print}(gp)`,
    '5:      lwu     t0, 0(s1)',
    '        xor     s3, s3, t0',
    '        mul     s3, s3, s4',
    '        addi    s1, s1, 4',
    '        bltu    s1, s5, 5b',
    `        sd      s3, ${SAVE.print + 8}(gp)`,
    '        la      a0, rt_msg_mem',
    `        addi    a1, gp, ${SAVE.print}`,
    '        li      a2, 2',
    '        call    rt_dump',
    '        bltu    s1, s2, 4b',
    // Not compared: how many instructions this run retired (for campaign statistics).
    '        csrr    t0, minstret',
    `        sd      t0, ${SAVE.print}(gp)`,
    '        la      a0, rt_msg_instret',
    `        addi    a1, gp, ${SAVE.print}`,
    '        li      a2, 1',
    '        call    rt_dump',
    '        li      t0, 0x100000',
    '        li      t1, 0x5555',
    '        sw      t1, 0(t0)',
    '6:      j       6b',
  );

  // ---------------------------------------------------------------- strings
  e('        .pushsection .rodata');
  for (let r = 1; r < 32; r++) e(`rt_tag_x${r}: .asciz "x${r}"`);
  e('rt_tag_mstatus: .asciz "mstatus"');
  for (let r = 0; r < 32; r++) e(`rt_tag_f${r}: .asciz "f${r}"`);
  o.extraDump.forEach((item, i) => e(`rt_tag_extra${i}: .asciz "${item.tag}"`));
  e(
    'rt_msg_traps: .asciz "traps"',
    'rt_msg_trap: .asciz "trap"',
    'rt_msg_mem: .asciz "mem"',
    'rt_msg_instret: .asciz "info instret"',
    'rt_msg_checkpoint: .asciz "checkpoint"',
    'rt_msg_nested: .asciz "nested trap"',
    '        .popsection',
    `        .org ${hex(SAVE_OFFSET)}`,
    `        .org ${hex(CODE_OFFSET)}`,
  );
  return L.join('\n') + '\n';
}

/**
 * Logs the trap (who, cause, epc, tval, status, instruction bits) if the log has room and
 * counts it. On entry t0 = cause; on exit t0 = cause and t2 = the instruction bits.
 */
function logTrap(x: 'm' | 's', who: number): string[] {
  return [
    `        csrr    t1, ${x}epc`,
    // U-mode code runs at its alias; read the instruction through the identity mapping.
    `        li      t2, ${hex(RAM_BASE)}`,
    '        bgeu    t1, t2, 1f',
    `        li      t2, ${hex(U_ALIAS_DELTA)}`,
    '        add     t1, t1, t2',
    '1:      li      t2, 0',
    // Fetch faults: the pc may not be readable.
    '        bltz    t0, 2f',
    `        li      t3, ${hex(FATAL_CAUSES)}`,
    '        srl     t3, t3, t0',
    '        andi    t3, t3, 1',
    '        bnez    t3, 2f',
    '        lhu     t2, 0(t1)',
    '        andi    t3, t2, 3',
    '        addi    t3, t3, -3',
    '        bnez    t3, 2f',
    '        lhu     t3, 2(t1)',
    '        slli    t3, t3, 16',
    '        or      t2, t2, t3',
    `2:      ld      t1, ${SAVE.trapCount}(gp)`,
    `        li      t3, ${LOG_MAX}`,
    '        bgeu    t1, t3, 3f',
    '        slli    t3, t1, 6',
    '        add     t3, t3, gp',
    `        li      t1, ${SAVE.log}`,
    '        add     t3, t3, t1',
    `        li      t1, ${who}`,
    '        sd      t1, 0(t3)',
    '        sd      t0, 8(t3)',
    `        csrr    t1, ${x}epc`,
    '        sd      t1, 16(t3)',
    `        csrr    t1, ${x}tval`,
    '        sd      t1, 24(t3)',
    `        csrr    t1, ${x}status`,
    '        sd      t1, 32(t3)',
    '        sd      t2, 40(t3)',
    `        ld      t1, ${SAVE.trapCount}(gp)`,
    '3:      addi    t1, t1, 1',
    `        sd      t1, ${SAVE.trapCount}(gp)`,
    ...noteAmoFault(x),
  ];
}

/**
 * Sets the bit of the virtual window page where an AMO (or SC) faulted, logged or not: the
 * comparison needs every such page (see output-compare.ts, QEMU's AMO A bit). Keeps t0, t2.
 */
function noteAmoFault(x: 'm' | 's'): string[] {
  return [
    '        andi    t1, t2, 0x7f',
    '        li      t3, 0x2f',
    '        bne     t1, t3, 9f',
    `        li      t1, ${hex((1n << 5n) | (1n << 7n) | (1n << 13n) | (1n << 15n))}`,
    '        srl     t1, t1, t0',
    '        andi    t1, t1, 1',
    '        beqz    t1, 9f',
    `        csrr    t1, ${x}tval`,
    `        li      t3, ${hex(WINDOW.low)}`,
    '        sub     t1, t1, t3',
    '        srli    t1, t1, 12',
    `        li      t3, ${WINDOW.lowPages}`,
    '        bltu    t1, t3, 8f',
    `        csrr    t1, ${x}tval`,
    `        li      t3, ${hex(WINDOW.high)}`,
    '        bltu    t1, t3, 7f',
    '        li      t1, 16',
    '        j       8f',
    '7:      srli    t3, t1, 30',
    `        li      t1, ${hex(WINDOW.giga >> 30n)}`,
    '        sub     t3, t3, t1',
    '        li      t1, 18',
    '        bnez    t3, 8f',
    '        li      t1, 17',
    '8:      li      t3, 1',
    '        sll     t3, t3, t1',
    `        ld      t1, ${SAVE.amoFaultPages}(gp)`,
    '        or      t1, t1, t3',
    `        sd      t1, ${SAVE.amoFaultPages}(gp)`,
    '9:',
  ];
}

function restore(x: 'm' | 's'): string[] {
  const base = x === 'm' ? SAVE.mScratch : SAVE.sScratch;
  return [0, 1, 2, 3].map((i) => `        ld      t${i}, ${base + 8 * i}(gp)`);
}
