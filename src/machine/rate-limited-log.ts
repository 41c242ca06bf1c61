// Log lines a guest can provoke (device faults), thinned so that a guest cannot flood the
// host's log: each key (a device and a fault kind) prints a few lines per time window; the
// rest are counted and reported in one line when the key next logs, or on flush().

export interface RateLimitedLogOptions {
  /** Lines each key prints per window (default 5). */
  burst?: number;
  /** Window length in milliseconds (default 10 s). */
  windowMs?: number;
  /** A monotonic millisecond clock (default performance.now); tests substitute one. */
  now?: () => number;
}

interface KeyState {
  windowStart: number;
  printed: number;
  suppressed: number;
}

const DEFAULT_BURST = 5;
const DEFAULT_WINDOW_MS = 10_000;
/** Keys remembered at most; the keys come from code, but a bound costs nothing. */
const MAX_KEYS = 1024;

export class RateLimitedLog {
  private readonly out: (line: string) => void;
  private readonly burst: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly keys = new Map<string, KeyState>();

  constructor(out: (line: string) => void, options: RateLimitedLogOptions = {}) {
    this.out = out;
    this.burst = options.burst ?? DEFAULT_BURST;
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.now = options.now ?? (() => performance.now());
  }

  /** Prints `text` unless `key` has used its budget for this window; returns whether it printed. */
  line(key: string, text: string): boolean {
    const now = this.now();
    let state = this.keys.get(key);
    if (state === undefined || now - state.windowStart >= this.windowMs) {
      if (state !== undefined) this.report(key, state);
      else if (this.keys.size >= MAX_KEYS) this.forgetOldest();
      state = { windowStart: now, printed: 0, suppressed: 0 };
      this.keys.set(key, state);
    }
    if (state.printed < this.burst) {
      state.printed++;
      this.out(text);
      return true;
    }
    state.suppressed++;
    return false;
  }

  /** Reports every key's suppressed lines now (e.g. when the machine stops). */
  flush(): void {
    for (const [key, state] of this.keys) this.report(key, state);
  }

  private report(key: string, state: KeyState): void {
    if (state.suppressed === 0) return;
    this.out(`${key}: ${state.suppressed} similar line${state.suppressed === 1 ? '' : 's'} suppressed`);
    state.suppressed = 0;
  }

  private forgetOldest(): void {
    const [key, state] = this.keys.entries().next().value as [string, KeyState];
    this.report(key, state);
    this.keys.delete(key);
  }
}
