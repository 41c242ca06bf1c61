// Where one hart's architectural state lives inside its block of guest memory. Indices are
// int32 word indices from the block start; a 64-bit value is two words, low then high.
// Keeping it all in guest memory lets translated code share it and makes save/restore a copy.

import { TLB_BYTES } from './tlb.js';

export const HART_STATE_BYTES = 4096;

/**
 * Each hart's block of guest memory: its architectural state (the first HART_STATE_BYTES,
 * what a snapshot saves), then its software TLBs (a cache, rebuilt after a restore), which
 * translated code probes in place.
 */
export const HART_BLOCK_BYTES = HART_STATE_BYTES + 3 * TLB_BYTES;
/** Byte offsets of the read, write and fetch TLBs inside a hart's block (TLB_BYTES each). */
export const READ_TLB = 4096;
export const WRITE_TLB = READ_TLB + TLB_BYTES;
export const FETCH_TLB = WRITE_TLB + TLB_BYTES;

/** x0..x31 at words 2i, 2i+1; index 32 is a sink that absorbs writes to x0. */
export const X = 0;
export const X_SINK = 32;
/** f0..f31 at words F + 2i, F + 2i + 1; single-precision values are NaN-boxed. */
export const F = 128;
/** The program counter (virtual address). */
export const PC = 192;
/** Current privilege mode: 0 = U, 1 = S, 3 = M. */
export const PRIV = 194;
/** fcsr: frm in bits 7:5, fflags in bits 4:0. */
export const FCSR = 195;
/** mstatus bits 31:0; the upper half (UXL, SXL, SD) is derived on read. */
export const MSTATUS = 196;
/** mie, mideleg, medeleg, the counter enables: 32 bits each. */
export const MIE = 197;
export const MIDELEG = 198;
export const MEDELEG = 199;
export const MCOUNTEREN = 200;
export const SCOUNTEREN = 201;
/** mip bits written by software (SSIP, STIP, SEIP) and bits driven by devices. */
export const MIP_SOFTWARE = 202;
export const MIP_DEVICES = 203;
/** 1 while the hart waits in WFI. */
export const WAITING = 204;
/** LR reservation: valid flag, then the physical address as a double at RESERVATION_ADDRESS. */
export const RESERVATION_VALID = 205;
/** The mode bits TLB entries are tagged with for data accesses and for fetches now (tlb.ts: tlbMode). */
export const TLB_MODE_DATA = 206;
export const TLB_MODE_FETCH = 207;
/** The value LR read (two words): with other harts on other threads, SC succeeds only if memory still holds it. */
export const RESERVATION_VALUE = 208;
/** A word only this hart touches, for the host atomic that makes FENCE a full fence on shared memory. */
export const FENCE_SCRATCH = 210;

/** 64-bit CSRs: two words each, from word 256. */
export const MTVEC = 256;
export const STVEC = 258;
export const MEPC = 260;
export const SEPC = 262;
export const MTVAL = 264;
export const STVAL = 266;
export const MSCRATCH = 268;
export const SSCRATCH = 270;
export const MCAUSE = 272;
export const SCAUSE = 274;
export const SATP = 276;
export const MENVCFG = 278;
export const SENVCFG = 280;
export const STIMECMP = 282;
/** pmpcfg0..15 as 16 bytes (4 words), then pmpaddr0..15 (two words each). */
export const PMPCFG = 284;
export const PMPADDR = 288;
export const PMP_ENTRIES = 16;

/** minstret = retired - offset and mcycle = retired - offset, modulo 2^64. */
export const MINSTRET_OFFSET = 320;
export const MCYCLE_OFFSET = 322;

/** Doubles (Float64 index = word index / 2). */
export const F64_INSTRET = 168; // word 336: instructions retired since reset
export const F64_RESERVATION_ADDRESS = 169; // physical address of the LR reservation
export const F64_STIMECMP = 170; // stimecmp as a double, for comparisons with time
