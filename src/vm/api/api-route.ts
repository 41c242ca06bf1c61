// One route of the VM API, declared once: the server matches and validates requests with it,
// and the OpenAPI document is generated from it, so the two cannot drift apart.

import type { JsonSchema } from './json-schema.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description: string;
  /** Query values are converted to this schema's type (number, integer, boolean) before checking. */
  schema: JsonSchema;
}

export interface RouteResponse {
  description: string;
  schema?: JsonSchema;
}

export interface RouteRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  /** The parsed JSON body, checked against the route's body schema; undefined when none was sent. */
  body: unknown;
  /** Aborts when the client goes away, so long waits can end early. */
  signal: AbortSignal;
}

export interface RouteResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface ApiRoute {
  method: HttpMethod;
  /** An OpenAPI path template: /operations/{id}. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  parameters?: readonly RouteParameter[];
  /** The JSON body's schema; `required` says whether a body must be sent. */
  body?: { schema: JsonSchema; required: boolean };
  /** Every status the route answers with, errors included. */
  responses: Readonly<Record<number, RouteResponse>>;
  handle(request: RouteRequest): Promise<RouteResult>;
}
