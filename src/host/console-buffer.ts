// A VM's serial console as the agent holds it: the last bytes it wrote, in a bounded ring, so a
// client that connects late sees the screen's tail, and the clients attached now.

/** Default size of the tail kept: a few screens. */
export const CONSOLE_TAIL_BYTES = 64 * 1024;

export type ConsoleListener = (bytes: Uint8Array) => void;

export class ConsoleBuffer {
  private readonly ring: Uint8Array;
  /** Total bytes ever written; the ring holds the last min(written, capacity). */
  private written = 0;
  private readonly listeners = new Set<ConsoleListener>();

  constructor(readonly capacity = CONSOLE_TAIL_BYTES) {
    this.ring = new Uint8Array(capacity);
  }

  /** Bytes the guest wrote: kept, and passed to every listener. */
  write(bytes: Uint8Array): void {
    const keep = bytes.subarray(Math.max(0, bytes.length - this.capacity));
    let at = (this.written + (bytes.length - keep.length)) % this.capacity;
    let from = 0;
    while (from < keep.length) {
      const n = Math.min(keep.length - from, this.capacity - at);
      this.ring.set(keep.subarray(from, from + n), at);
      from += n;
      at = (at + n) % this.capacity;
    }
    this.written += bytes.length;
    for (const listener of [...this.listeners]) listener(bytes);
  }

  /** How many bytes the guest has written in all. */
  get totalBytes(): number {
    return this.written;
  }

  /** The last bytes written, oldest first (at most `capacity`). */
  tail(): Uint8Array {
    const size = Math.min(this.written, this.capacity);
    const start = (this.written - size) % this.capacity;
    const out = new Uint8Array(size);
    const first = Math.min(size, this.capacity - start);
    out.set(this.ring.subarray(start, start + first));
    out.set(this.ring.subarray(0, size - first), first);
    return out;
  }

  /** Calls `listener` with every later write; returns the function that detaches it. */
  subscribe(listener: ConsoleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
