// Query parameters as a route declares them: converted to the declared type, checked against
// their schema, and unknown ones refused, so a typo is a 400 and not silently ignored.

import type { RouteParameter } from './api-route.js';
import { validate } from './json-schema.js';
import { VmApiError } from './vm-api-error.js';

export function parseQuery(parameters: readonly RouteParameter[], search: URLSearchParams): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  for (const [name, text] of search) {
    const parameter = parameters.find((p) => p.in === 'query' && p.name === name);
    if (parameter === undefined) throw new VmApiError('invalid-query', `unknown query parameter ${name}`, { field: name });
    const type = parameter.schema.type;
    const value: unknown = type === 'number' || type === 'integer' ? (text.trim() === '' ? NaN : Number(text)) : type === 'boolean' ? text === 'true' : text;
    const problem = validate(parameter.schema, value, `query ${name}`);
    if (problem !== null) throw new VmApiError('invalid-query', problem, { field: name });
    query[name] = value;
  }
  return query;
}
