// The JSON shapes of the VM API, declared once for validation and for the OpenAPI document.

import type { JsonSchema } from './json-schema.js';
import { MIGRATION_TARGET_PATTERN } from './migration-target.js';
import type { RouteResponse } from './api-route.js';

export const VM_STATUS: JsonSchema = {
  type: 'object',
  description: 'The VM as it is now',
  required: ['state', 'config', 'instructionsRetired', 'uptimeMs'],
  properties: {
    state: { type: 'string', enum: ['running', 'paused', 'saving', 'migrating', 'stopped'] },
    config: { description: 'The VM\'s description (harts, memory, devices, disks, networks), as JSON' },
    instructionsRetired: { type: 'integer', minimum: 0 },
    uptimeMs: { type: 'number', minimum: 0 },
  },
};

const PROGRESS: JsonSchema = {
  type: ['object', 'null'],
  description: 'The last progress reported, null before the first: `done` of `total` units in `phase`',
  required: ['phase', 'done', 'total'],
  properties: { phase: { type: 'string' }, done: { type: 'number' }, total: { type: 'number' } },
};

const ERROR_DETAIL: JsonSchema = {
  type: 'object',
  required: ['kind', 'message'],
  properties: { kind: { type: 'string', description: 'Stable, for programs' }, message: { type: 'string', description: 'For people' } },
};

export const OPERATION: JsonSchema = {
  type: 'object',
  description: 'A long action (save, migrate) and how far it has got',
  required: ['id', 'kind', 'state', 'progress', 'revision', 'startedAt'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['save', 'migrate'] },
    state: { type: 'string', enum: ['running', 'succeeded', 'failed'] },
    progress: PROGRESS,
    revision: { type: 'integer', minimum: 0, description: 'Goes up on every change; pass it as `after` to wait for the next' },
    startedAt: { type: 'string', description: 'ISO 8601' },
    finishedAt: { type: 'string', description: 'ISO 8601, once finished' },
    result: { type: 'object', description: 'What the action reports once it has succeeded (sizes, times)' },
    error: ERROR_DETAIL,
  },
};

export const ERROR: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: { error: ERROR_DETAIL },
};

export const EMPTY_BODY: JsonSchema = { type: 'object', additionalProperties: false, properties: {} };

export const SAVE_REQUEST: JsonSchema = {
  type: 'object',
  required: ['path'],
  additionalProperties: false,
  properties: {
    path: { type: 'string', minLength: 1, description: 'The snapshot file to write, on the VM\'s host' },
    resume: { type: 'boolean', description: 'Continue the VM after saving (default: it stays paused)' },
  },
};

export const MIGRATE_REQUEST: JsonSchema = {
  type: 'object',
  required: ['target'],
  additionalProperties: false,
  properties: {
    target: { type: 'string', pattern: MIGRATION_TARGET_PATTERN, description: 'tcp:HOST:PORT of a `vireo run --incoming` (an IPv6 HOST in brackets)' },
  },
};

export const OPENAPI_DOCUMENT: JsonSchema = { type: 'object', description: 'This document' };

/** The error responses a route can give, by status. */
export function errorResponses(...statuses: number[]): Record<number, RouteResponse> {
  const reasons: Record<number, string> = {
    400: 'The body is not JSON or fails its schema, or a query parameter is invalid (the message names the field)',
    404: 'No such route or operation',
    405: 'The route does not take this method (see the Allow header)',
    409: 'The VM\'s state does not allow this, or a long operation is already running',
    413: 'The body is larger than 64 KiB',
    415: 'A body was sent that is not application/json',
    500: 'The VM failed to carry out the request',
  };
  return Object.fromEntries(statuses.map((s) => [s, { description: reasons[s] ?? 'An error', schema: ERROR }]));
}
