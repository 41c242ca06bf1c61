// /events: the master's changes as server-sent events, each only to callers who may read the
// resource it is about (`<resource>.read` on the event's scope), with a keep-alive comment so
// proxies keep an idle stream open.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { ACTIONS, authorize, type Action } from '../../security/permissions.js';
import type { Caller } from '../caller.js';
import type { MasterEvent } from '../event-bus.js';
import type { MasterEnv } from '../master-env.js';
import { securedRoute } from '../secured-route.js';
import { COMMON_ERRORS } from './resource-route.js';

export const KEEP_ALIVE_MS = 15_000;
/** Events a slow reader has not taken yet; past this it is disconnected rather than buffered without end. */
const MAX_QUEUED = 1000;

export const EVENT = z.object({
  type: z.string().openapi({ description: 'e.g. vm.state, host.down, operation.progress' }),
  resource: z.string(), id: z.string(), at: z.string(), data: z.record(z.string(), z.unknown()),
}).openapi('MasterEvent');

export function mayReadEvent(caller: Caller, event: MasterEvent): boolean {
  const action = `${event.resource}.read`;
  if (!Object.hasOwn(ACTIONS, action)) return false;
  return authorize(caller, action as Action, event.scope).allowed;
}

export function eventRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/events', tags: ['events'], summary: 'Server-sent events of the changes the caller may read',
    responses: { 200: { description: 'A text/event-stream; each event\'s data is a MasterEvent', content: { 'text/event-stream': { schema: EVENT } } }, ...COMMON_ERRORS },
  }), { action: 'session.read' }), (c) => {
    const caller = c.get('caller')!;
    const events = c.get('master').events;
    return streamSSE(c, async (stream) => {
      const queue: MasterEvent[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = events.subscribe((event) => {
        if (!mayReadEvent(caller, event)) return;
        if (queue.length >= MAX_QUEUED) void stream.abort();
        queue.push(event);
        wake?.();
      });
      const keepAlive = setInterval(() => { void stream.write(': keep-alive\n\n'); }, KEEP_ALIVE_MS);
      stream.onAbort(() => {
        unsubscribe();
        clearInterval(keepAlive);
        wake?.();
      });
      try {
        await stream.write(': connected\n\n');
        while (!stream.aborted && !stream.closed) {
          const event = queue.shift();
          if (event === undefined) {
            await new Promise<void>((resolve) => { wake = resolve; });
            wake = undefined;
            continue;
          }
          const { scope: _, ...visible } = event;
          await stream.writeSSE({ event: event.type, id: `${event.at}:${event.id}`, data: JSON.stringify(visible) });
        }
      } finally {
        unsubscribe();
        clearInterval(keepAlive);
      }
    }) as never;
  });

  return app;
}
