// Output left at exit: a reader that keeps reading gets all of it, but one that has stopped
// (a pipe nobody reads) must not keep the process alive once the guest has stopped.

import type { Writable } from 'node:stream';

export interface FlushOutputOptions {
  /** Give up after this long without the stream writing anything (default 2 s). */
  stallMs?: number;
  /** How often to look (default 50 ms). */
  pollMs?: number;
}

/** Resolves when `stream` has written everything it holds (true), or has stalled (false). */
export async function flushOutput(stream: Writable, options: FlushOutputOptions = {}): Promise<boolean> {
  const stallMs = options.stallMs ?? 2000;
  const pollMs = options.pollMs ?? 50;
  let left = stream.writableLength;
  let progressAt = performance.now();
  while (left > 0 && !stream.destroyed) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    const now = stream.writableLength;
    if (now < left) progressAt = performance.now();
    else if (performance.now() - progressAt >= stallMs) return false;
    left = now;
  }
  return true;
}
