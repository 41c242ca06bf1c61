// A switch port driven by host code rather than a NIC: send frames to guests, and take the
// frames they send by polling, through handlers, or as an async iterator.

import type { VirtualSwitch, SwitchPort, SwitchPortCounters } from './virtual-switch.js';

export interface HostEndpointOptions {
  name?: string;
  queueCapacity?: number;
  /**
   * 'poll' (default): queued frames reach handlers only when `poll()` is called, e.g. by the
   * board between run slices. 'microtask': `poll()` runs by itself in a microtask after a frame
   * arrives, so the handlers run after the sender's current synchronous step, never inside it.
   */
  delivery?: 'poll' | 'microtask';
}

export type FrameHandler = (frame: Uint8Array) => void;

export class HostEndpoint {
  readonly port: SwitchPort;
  private readonly handlers = new Set<FrameHandler>();
  private readonly waiters: Array<() => void> = [];
  private pollScheduled = false;
  private closed = false;

  constructor(sw: VirtualSwitch, options: HostEndpointOptions = {}) {
    this.port = sw.createPort({ name: options.name ?? 'host', ...(options.queueCapacity !== undefined && { queueCapacity: options.queueCapacity }) });
    const delivery = options.delivery ?? 'poll';
    this.port.onReceive(() => {
      for (const wake of this.waiters.splice(0)) wake();
      if (delivery === 'microtask' && !this.pollScheduled) {
        this.pollScheduled = true;
        queueMicrotask(() => {
          this.pollScheduled = false;
          this.poll();
        });
      }
    });
  }

  /** Sends a frame to the switch; false when it was dropped (see the port counters). */
  send(frame: Uint8Array): boolean {
    return this.port.send(frame);
  }

  /** The oldest frame received and not yet taken, or undefined. */
  receive(): Uint8Array | undefined {
    return this.port.receive();
  }

  get pending(): number {
    return this.port.pending;
  }

  get counters(): SwitchPortCounters {
    return this.port.counters;
  }

  /** Handlers see every frame `poll()` takes from the queue. Returns a function that removes the handler. */
  onFrame(handler: FrameHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Passes every queued frame to the handlers (frames are dropped if there are none). Returns how many. */
  poll(): number {
    let count = 0;
    for (let frame = this.port.receive(); frame !== undefined; frame = this.port.receive()) {
      count++;
      for (const handler of this.handlers) handler(frame);
    }
    return count;
  }

  /**
   * Yields frames as they arrive until the endpoint is closed or `signal` aborts. Use either
   * this or `poll()`/handlers on one endpoint: they take from the same queue.
   */
  async *frames(signal?: AbortSignal): AsyncGenerator<Uint8Array, void, undefined> {
    while (!this.closed && !signal?.aborted) {
      const frame = this.port.receive();
      if (frame !== undefined) {
        yield frame;
        continue;
      }
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  /** Detaches the port and ends any `frames()` iteration. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.detach();
    for (const wake of this.waiters.splice(0)) wake();
  }
}
