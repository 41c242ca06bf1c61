// Test support: the master's /api/v1/events read as a client would, with a MasterClient's
// session, collecting the server-sent events as they come.

import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import type { MasterClient } from './master-client.js';

export interface StreamedEvent {
  event: string;
  data: { type: string; resource: string; id: string; data: Record<string, unknown> };
}

export class EventStream {
  readonly events: StreamedEvent[] = [];
  /** Everything received, comments included. */
  text = '';
  status = 0;
  private req: ClientRequest | undefined;

  /** Resolves once the response has begun. */
  static open(client: MasterClient, ca: string): Promise<EventStream> {
    const stream = new EventStream();
    const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return new Promise((resolve, reject) => {
      stream.req = request(new URL('/api/v1/events', client.url), { headers: { cookie, accept: 'text/event-stream' }, ca }, (res) => {
        stream.status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        let pending = '';
        res.on('data', (chunk: string) => {
          stream.text += chunk;
          pending += chunk;
          let end: number;
          while ((end = pending.indexOf('\n\n')) >= 0) {
            stream.parse(pending.slice(0, end));
            pending = pending.slice(end + 2);
          }
        });
        res.on('error', () => {});
        resolve(stream);
      });
      stream.req.on('error', reject);
      stream.req.end();
    });
  }

  close(): void {
    this.req?.destroy();
  }

  private parse(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (data.length > 0) this.events.push({ event, data: JSON.parse(data.join('\n')) as StreamedEvent['data'] });
  }
}
