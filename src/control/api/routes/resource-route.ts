// Shapes the routes of every resource share: problems for errors, the id parameter, If-Match.

import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { PROBLEM_SCHEMA } from '../master-api-error.js';

export function problem(description: string) {
  return { description, content: { 'application/problem+json': { schema: PROBLEM_SCHEMA } } };
}

export function json<T extends z.ZodTypeAny>(description: string, schema: T) {
  return { description, content: { 'application/json': { schema } } };
}

export function body<T extends z.ZodTypeAny>(schema: T) {
  return { body: { required: true, content: { 'application/json': { schema } } } };
}

export const ID_PARAM = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'The resource\'s id' }) });

export const IF_MATCH = z.object({ 'if-match': z.string().optional().openapi({ description: 'The ETag last read; required for changes' }) });

/** The errors any route may answer, beside its own. */
export const COMMON_ERRORS = {
  400: problem('The request is not valid'),
  401: problem('Not logged in'),
  403: problem('The caller may not do this'),
  404: problem('No such resource'),
};

/** The {id} of the path, for a permission's target before the parameters are validated. */
export function pathId(c: Context): string {
  return c.req.param('id') ?? '';
}
