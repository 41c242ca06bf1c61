// Changes the master makes, published to whoever listens (the event stream, the web console's
// live status). Each event says where its resource lives so a listener sees only what it may read.

import type { Target } from '../security/permissions.js';

export interface MasterEvent {
  /** e.g. 'vm.updated', 'host.down', 'operation.progress'. */
  type: string;
  /** The resource kind and id the event is about. */
  resource: string;
  id: string;
  scope: Target;
  at: string;
  data: Record<string, unknown>;
}

export type EventListener = (event: MasterEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  publish(event: Omit<MasterEvent, 'at'>): void {
    const full: MasterEvent = { ...event, at: new Date().toISOString() };
    for (const listener of this.listeners) {
      try {
        listener(full);
      } catch {
        // A listener's failure (a closed stream) must not stop the others.
      }
    }
  }

  /** Returns the function that stops listening. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
