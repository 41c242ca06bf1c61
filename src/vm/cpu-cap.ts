// A VM process's CPU cap: the share of one host core its harts may use. The board's
// cpuThrottle sleeps after every run slice, but a slice is a fraction of a millisecond and a
// timer is not, so any throttle at all holds the guest near a floor of a few percent. The cap
// therefore alternates, every 100 ms, between running free and holding at the strongest
// throttle, for the share of the period the cap asks; that share is then corrected from the
// process's measured CPU use (device work, timers and the collector use its time too).
// With no cap in force nothing runs: the use is sampled when it is read, so an idle VM without
// a cap is not woken four times a second for a figure nobody asked for.

import { UsageWindow } from './usage-window.js';

export const MIN_CAP_PERCENT = 5;
/** How often the use is sampled; usedPercent covers the last WINDOW_MS. */
const SAMPLE_MS = 250;
const WINDOW_MS = 1000;
const PERIOD_MS = 100;
/** Machine.cpuThrottle's strongest hold, and roughly the share of a core a guest still gets under it. */
const HOLD_THROTTLE = 0.95;
const HOLD_SHARE = 0.06;
/** How much of the error one correction takes out, and how far it may stray from the first guess. */
const GAIN = 0.5;
const STRAY = 0.3;
/**
 * A guest using less than this share of its cap cannot reach the cap before the next sample
 * shows it busy: the cap then rests, with no hold and no timers (an idle VM under a cap would
 * otherwise wake twice every period for nothing).
 */
const RESTING_SHARE = 0.5;

export class CpuCapError extends Error {
  readonly kind = 'bad-cap';
}

/** What the cap drives: Machine's cpuThrottle (0..0.95). */
export interface Throttled {
  cpuThrottle: number;
}

export interface CpuCapOptions {
  /** The VM's harts: the cap may go up to 100 per hart. */
  harts: number;
  /** Microseconds of CPU the process has used (default: process.cpuUsage()). */
  cpuMicros?: () => number;
  /** Milliseconds, monotonic (default: performance.now()). */
  now?: () => number;
}

export class CpuCap {
  readonly maxPercent: number;
  private cap: number | null = null;
  /** The share of each period the guest runs free, corrected from measurements. */
  private free = 1;
  private held = false;
  private rest = false;
  private readonly samples = new UsageWindow(WINDOW_MS);
  private sampler: NodeJS.Timeout | null = null;
  private started = false;
  private phase: NodeJS.Timeout | null = null;
  private readonly cpuMicros: () => number;
  private readonly now: () => number;

  constructor(private readonly target: Throttled, options: CpuCapOptions) {
    this.maxPercent = options.harts * 100;
    this.cpuMicros = options.cpuMicros ?? (() => {
      const u = process.cpuUsage();
      return u.user + u.system;
    });
    this.now = options.now ?? (() => performance.now());
    this.sample();
  }

  get capPercent(): number | null {
    return this.cap;
  }

  /** Whether the cap rests because the guest uses far less than it (see RESTING_SHARE). */
  get resting(): boolean {
    return this.rest;
  }

  /** The share of each period the guest now runs free (1 without a cap). */
  get freeShare(): number {
    return this.cap === null ? 1 : this.free;
  }

  /**
   * CPU used over the last second (or since the start, when younger), percent of one host core.
   * With no cap in force the use is sampled only here, so the figure spans from the newest
   * earlier reading at least a second old: the last second, or longer when read rarely.
   */
  get usedPercent(): number {
    if (this.sampler === null) this.sample();
    const first = this.samples.oldest!;
    const ms = this.now() - first.ms;
    if (ms <= 0) return 0;
    return Math.round(((this.cpuMicros() - first.value) / 10 / ms) * 10) / 10;
  }

  /** Puts a cap in force at once (null: none); throws CpuCapError outside 5..100 per hart. */
  set(capPercent: number | null): void {
    if (capPercent !== null && !(Number.isFinite(capPercent) && capPercent >= MIN_CAP_PERCENT && capPercent <= this.maxPercent)) {
      throw new CpuCapError(`a CPU cap of ${capPercent}% is out of range: give ${MIN_CAP_PERCENT} to ${this.maxPercent} (percent of one host core, 100 per hart), or null for none`);
    }
    this.cap = capPercent;
    this.free = this.firstGuess();
    this.rest = false;
    this.updateSampler();
    this.applyPhase();
  }

  /** Runs the cap from now on (sampling the process's use while one is in force); the timers do not hold the process up. */
  start(): void {
    this.started = true;
    this.updateSampler();
    this.applyPhase();
  }

  stop(): void {
    this.started = false;
    this.updateSampler();
    if (this.phase !== null) clearTimeout(this.phase);
    this.phase = null;
  }

  /** Whether the periodic sampler runs: only while started with a cap in force. */
  get sampling(): boolean {
    return this.sampler !== null;
  }

  private updateSampler(): void {
    const wanted = this.started && this.cap !== null;
    if (wanted && this.sampler === null) {
      // Readings taken while no cap ran may be far apart: within a second the window spans one second again.
      this.sample();
      this.sampler = setInterval(() => this.tick(), SAMPLE_MS);
      this.sampler.unref();
    } else if (!wanted && this.sampler !== null) {
      clearInterval(this.sampler);
      this.sampler = null;
    }
  }

  /**
   * While something else drives the throttle (migration's auto-converge, which raises it from
   * the value in force), the cap leaves it alone; release() puts the cap back.
   */
  hold(): void {
    this.held = true;
    // Auto-converge starts from the value in force: let it start from the hold.
    if (this.cap !== null) this.target.cpuThrottle = HOLD_THROTTLE * (1 - this.free);
  }

  release(): void {
    this.held = false;
    this.applyPhase();
  }

  /** One sample; with a cap in force, the free share moves toward the one that gives the cap. */
  tick(): void {
    this.sample();
    if (this.cap === null || this.held || this.samples.size < 2) return;
    const rest = this.usedPercent < this.cap * RESTING_SHARE;
    if (rest !== this.rest) {
      this.rest = rest;
      this.applyPhase();
    }
    if (rest) return;
    const base = this.firstGuess();
    const error = (this.cap - this.usedPercent) / this.maxPercent;
    // An idle guest uses less than its cap whatever the share: the share only strays so far.
    this.free = Math.min(1, base + STRAY, Math.max(0, base - STRAY, this.free + GAIN * error));
  }

  private firstGuess(): number {
    if (this.cap === null) return 1;
    return Math.min(1, Math.max(0, (this.cap / this.maxPercent - HOLD_SHARE) / (1 - HOLD_SHARE)));
  }

  /** Sets the throttle for where in the period we are, and wakes at the next change. */
  private applyPhase(): void {
    if (this.phase !== null) clearTimeout(this.phase);
    this.phase = null;
    if (this.held) return;
    if (this.cap === null || this.free >= 1 || this.rest) {
      this.target.cpuThrottle = 0;
      return;
    }
    const at = this.now() % PERIOD_MS;
    const freeMs = this.free * PERIOD_MS;
    this.target.cpuThrottle = at < freeMs ? 0 : HOLD_THROTTLE;
    if (this.sampler === null) return;
    this.phase = setTimeout(() => this.applyPhase(), Math.max(1, (at < freeMs ? freeMs : PERIOD_MS) - at));
    this.phase.unref();
  }

  private sample(): void {
    this.samples.add(this.now(), this.cpuMicros());
  }
}
