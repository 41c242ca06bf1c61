// I/O QoS for one virtual disk: limits on operations and bytes per second, for reads, writes
// or both, as token buckets. The device awaits admit() before starting each request, in the
// order the guest queued them; a guest over its limit is slowed down, never failed.
//
// Accounting: a read or write costs one operation in the total IOPS bucket and in its own
// kind's bucket, and its length in the total and its kind's bandwidth buckets. Flush and
// discard ('other') cost one operation in the total IOPS bucket only. A request waits until
// every bucket it uses holds its cost (or is full, when the cost is larger than the bucket),
// then takes the whole cost, going into debt if needed: so a request larger than the burst
// passes after the bucket refilled, and the requests after it pay for it.

import { checkIoLimits } from './io-limits.js';
import type { IoLimits } from './io-limits.js';
import { QosError } from './qos-error.js';
import { TokenBucket } from './token-bucket.js';

export type IoKind = 'read' | 'write' | 'other';

export interface ThrottleClock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: ThrottleClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Which limit a bucket enforces, what it counts, and which kinds of request it applies to. */
interface BucketSpec {
  rate: keyof IoLimits;
  burst: 'iopsBurst' | 'bpsBurst';
  unit: 'ops' | 'bytes';
  kinds: readonly IoKind[];
}

const BUCKETS: readonly BucketSpec[] = [
  { rate: 'iops', burst: 'iopsBurst', unit: 'ops', kinds: ['read', 'write', 'other'] },
  { rate: 'iopsRead', burst: 'iopsBurst', unit: 'ops', kinds: ['read'] },
  { rate: 'iopsWrite', burst: 'iopsBurst', unit: 'ops', kinds: ['write'] },
  { rate: 'bps', burst: 'bpsBurst', unit: 'bytes', kinds: ['read', 'write'] },
  { rate: 'bpsRead', burst: 'bpsBurst', unit: 'bytes', kinds: ['read'] },
  { rate: 'bpsWrite', burst: 'bpsBurst', unit: 'bytes', kinds: ['write'] },
];

interface Waiter {
  kind: IoKind;
  bytes: number;
  resolve: () => void;
}

export class IoThrottle {
  private current: IoLimits = {};
  private readonly buckets = new Map<BucketSpec, TokenBucket>();
  private readonly queue: Waiter[] = [];
  private pumping = false;
  /** Cuts the head waiter's sleep short (new limits, close). */
  private wake: (() => void) | null = null;

  constructor(limits: IoLimits, private readonly clock: ThrottleClock = realClock) {
    this.setLimits(limits);
  }

  get limits(): IoLimits {
    return { ...this.current };
  }

  /** Requests waiting to start. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * New limits from now on; waiting requests are judged again against them. Tokens (or debt)
   * in a bucket whose limit stays are kept, up to its new size; a newly limited bucket starts full.
   */
  setLimits(limits: IoLimits): void {
    checkIoLimits(limits);
    const now = this.clock.now();
    for (const spec of BUCKETS) {
      const rate = limits[spec.rate] ?? 0;
      const bucket = this.buckets.get(spec);
      if (rate <= 0) {
        this.buckets.delete(spec);
        continue;
      }
      const burst = limits[spec.burst] ?? 0;
      const capacity = burst > 0 ? burst : spec.unit === 'ops' ? Math.max(1, rate) : rate;
      if (bucket) bucket.retune(rate, capacity, now);
      else this.buckets.set(spec, new TokenBucket(rate, capacity, now));
    }
    this.current = { ...limits };
    this.wake?.();
  }

  /** Resolves when a request of `kind` and `bytes` may start; requests start in the order admitted. */
  admit(kind: IoKind, bytes: number): Promise<void> {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      return Promise.reject(new QosError('bad-request', `cannot throttle a ${kind} request of ${bytes} bytes: the length must be an integer >= 0`, 'admit'));
    }
    const now = this.clock.now();
    if (this.queue.length === 0 && this.delay(kind, bytes, now) === 0) {
      this.take(kind, bytes, now);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.queue.push({ kind, bytes, resolve });
      void this.pump();
    });
  }

  /**
   * Lets every waiting request start now, without charging it (device reset or shutdown).
   * Later requests are throttled as before, so a guest cannot reset its way past its limits.
   */
  close(): void {
    for (const w of this.queue.splice(0)) w.resolve();
    this.wake?.();
  }

  private cost(spec: BucketSpec, kind: IoKind, bytes: number): number {
    if (!spec.kinds.includes(kind)) return 0;
    return spec.unit === 'ops' ? 1 : bytes;
  }

  /** Milliseconds until every bucket the request uses allows it. */
  private delay(kind: IoKind, bytes: number, now: number): number {
    let ms = 0;
    for (const [spec, bucket] of this.buckets) ms = Math.max(ms, bucket.delay(this.cost(spec, kind, bytes), now));
    return ms;
  }

  private take(kind: IoKind, bytes: number, now: number): void {
    for (const [spec, bucket] of this.buckets) {
      const cost = this.cost(spec, kind, bytes);
      if (cost > 0) bucket.take(cost, now);
    }
  }

  /** Starts waiting requests in order, sleeping until the head one fits; one loop at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
        const now = this.clock.now();
        const ms = this.delay(head.kind, head.bytes, now);
        if (ms === 0) {
          this.take(head.kind, head.bytes, now);
          this.queue.shift();
          head.resolve();
          continue;
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.clock.sleep(ms).then(resolve, resolve);
        });
        this.wake = null;
      }
    } finally {
      this.pumping = false;
    }
  }
}
