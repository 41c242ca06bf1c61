// The error answers of the agent's routes for the OpenAPI document: the VM API's, and the
// statuses only the agent gives.

import type { RouteResponse } from '../../vm/api/api-route.js';
import { ERROR, errorResponses } from '../../vm/api/api-schemas.js';

const AGENT_REASONS: Record<number, string> = {
  401: 'Over TCP: no `Authorization: Bearer TOKEN`, or the wrong token',
  404: 'No such route, VM, disk, physical LUN, volume or operation',
  409: 'The VM\'s state does not allow this (or a volume is attached, or a LUN has volumes), the name or path is taken, the memory or storage budget would be exceeded, or an operation is running',
  426: 'The console is a WebSocket: send an Upgrade request',
  502: 'The VM\'s process failed to carry out the request or does not answer',
};

/** Every answer carries 400, 401, 413 and 415 (body and authentication checks) besides `statuses`. */
export function hostErrors(...statuses: number[]): Record<number, RouteResponse> {
  const all = [...new Set([400, 401, 413, 415, ...statuses])];
  const responses = errorResponses(...all);
  for (const status of all) if (AGENT_REASONS[status] !== undefined) responses[status] = { description: AGENT_REASONS[status]!, schema: ERROR };
  return responses;
}
