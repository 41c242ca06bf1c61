// Routes of the /operations resource: read a long action, or wait for it to change or end.

import type { ApiRoute } from './api-route.js';
import { errorResponses, OPERATION } from './api-schemas.js';
import type { OperationRegistry } from './operation-registry.js';
import { VmApiError } from './vm-api-error.js';

/** The longest one long-poll may wait; clients poll again after it. */
export const MAX_WAIT_SECONDS = 300;

/**
 * `operations` is the registry, or (the host agent's, one registry per VM) a function that finds
 * the registry holding an operation id.
 */
export function operationRoutes(operations: OperationRegistry | ((id: string) => OperationRegistry | undefined)): ApiRoute[] {
  const find = typeof operations === 'function' ? operations : () => operations;
  return [
    {
      method: 'GET',
      path: '/operations/{id}',
      operationId: 'getOperation',
      summary: 'A long operation: its state, progress, and result or error',
      description: 'With `wait`, answers once the operation has finished (or, with `after`, once its revision is past `after`), or when `wait` seconds have passed, whichever is first.',
      parameters: [
        { name: 'id', in: 'path', required: true, description: 'The operation\'s id, from the 202 answer that started it', schema: { type: 'string' } },
        { name: 'wait', in: 'query', required: false, description: `Seconds to wait for a change (0 to ${MAX_WAIT_SECONDS}, fractions allowed)`, schema: { type: 'number', minimum: 0, maximum: MAX_WAIT_SECONDS } },
        { name: 'after', in: 'query', required: false, description: 'With wait: answer as soon as the revision is past this one (progress or end)', schema: { type: 'integer', minimum: 0 } },
      ],
      responses: { 200: { description: 'The operation', schema: OPERATION }, ...errorResponses(400, 404, 413, 415) },
      async handle({ params, query, signal }) {
        const id = params['id']!;
        const wait = query['wait'] as number | undefined;
        const op = await find(id)?.wait(id, (wait ?? 0) * 1000, query['after'] as number | undefined, signal);
        if (op === undefined) throw new VmApiError('not-found', `no operation ${id}: it never existed or was forgotten (the last 32 finished ones are kept)`, { operation: id });
        return { status: 200, body: op };
      },
    },
  ];
}
