// The contract between the bus and a memory-mapped device, and the tiny interfaces a device is
// given instead of the machine (so each device can be tested on its own).

/**
 * Width of one MMIO access in bytes. An aligned 8-byte access reaches a device as read64/write64
 * when it has them (a 64-bit counter read in two halves could tear), otherwise as two 4-byte
 * accesses, low word first.
 */
export type AccessSize = 1 | 2 | 4;

/**
 * A device on the system bus. Offsets are relative to the device's own base: a device never
 * learns where it is mapped. Every offset inside the mapped window answers (unimplemented
 * registers read as zero and ignore writes), so guest mistakes never become host exceptions.
 */
export interface MmioDevice {
  /** The register value at `offset`, zero-extended to `size` bytes. */
  read(offset: number, size: AccessSize): number;
  write(offset: number, size: AccessSize, value: number): void;
  /** An aligned 8-byte read as one access: [low word, high word], each unsigned 32-bit. */
  read64?(offset: number): readonly [number, number];
  /** An aligned 8-byte write as one access. */
  write64?(offset: number, lo: number, hi: number): void;
}

/** One level-triggered interrupt wire, from a device to an interrupt controller or a hart's mip bit. */
export interface IrqLine {
  set(level: boolean): void;
}

/**
 * Where a device sends the bytes it transmits (a terminal, a log, a test buffer). A sink that
 * can back up (a pipe nobody reads) says so through `ready()`; devices then hold bytes in
 * their own bounded buffers or drop them, so a guest cannot make the host buffer grow.
 */
export interface ByteSink {
  /** Takes one byte. A sink may drop (and count) bytes written while it is not ready. */
  write(byte: number): void;
  /** False while the sink cannot take more now. Absent: always ready. */
  ready?(): boolean;
  /** Calls `listener` when the sink becomes ready again. Returns a function that removes it. */
  onReady?(listener: () => void): () => void;
}

/** Whether `sink` takes bytes now (sinks without flow control always do). */
export function sinkReady(sink: ByteSink): boolean {
  return sink.ready?.() ?? true;
}

/** A monotonic tick counter (the board's mtime, in timebase ticks). */
export interface TickClock {
  now(): number;
}
