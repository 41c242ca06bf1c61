// The JSON shapes of the resource routes (stats, CPU cap, disk limits), declared once.

import type { JsonSchema } from './json-schema.js';

const count: JsonSchema = { type: 'integer', minimum: 0 };
const counts = (...names: string[]): Record<string, JsonSchema> => Object.fromEntries(names.map((n) => [n, count]));

export const VM_STATS: JsonSchema = {
  type: 'object',
  description: 'The VM process\'s use of the host and its devices\' counters since it started',
  required: ['uptimeMs', 'cpu', 'memory', 'disks', 'nics'],
  properties: {
    uptimeMs: { type: 'number', minimum: 0 },
    cpu: { type: 'object', required: ['userMicros', 'systemMicros', 'instructionsRetired'], properties: counts('userMicros', 'systemMicros', 'instructionsRetired') },
    memory: { type: 'object', required: ['rssBytes', 'heapUsedBytes', 'guestRamBytes', 'zeroPagesGivenBackBytes', 'mergedBytes'], properties: counts('rssBytes', 'heapUsedBytes', 'guestRamBytes', 'zeroPagesGivenBackBytes', 'mergedBytes') },
    disks: {
      type: 'array',
      items: { type: 'object', required: ['serial', 'readOps', 'writeOps', 'readBytes', 'writeBytes', 'flushOps'], properties: { serial: { type: 'string' }, ...counts('readOps', 'writeOps', 'readBytes', 'writeBytes', 'flushOps') } },
    },
    nics: {
      type: 'array',
      items: { type: 'object', required: ['mac', 'rxFrames', 'txFrames', 'rxBytes', 'txBytes', 'rxDropped', 'txDropped'], properties: { mac: { type: 'string' }, ...counts('rxFrames', 'txFrames', 'rxBytes', 'txBytes', 'rxDropped', 'txDropped') } },
    },
    balloon: {
      type: 'object',
      description: 'Free page reporting: bytes the guest reported free (each report counts), bytes of those and of inflated pages given back to the host, balloon pages in and out, refused requests',
      required: ['reportedBytes', 'discardedBytes', 'inflatedPages', 'deflatedPages', 'faults'],
      properties: counts('reportedBytes', 'discardedBytes', 'inflatedPages', 'deflatedPages', 'faults'),
    },
  },
};

const CAP: JsonSchema = { type: ['number', 'null'], minimum: 5, description: 'Percent of one host core, 5 to 100 per hart; null for no cap' };

export const CPU_STATUS: JsonSchema = {
  type: 'object',
  required: ['capPercent', 'usedPercent'],
  properties: { capPercent: CAP, usedPercent: { type: 'number', minimum: 0, description: 'CPU the VM process used over the last second (with no cap, since the newest earlier reading at least a second old), percent of one host core' } },
};

export const CPU_REQUEST: JsonSchema = {
  type: 'object',
  required: ['capPercent'],
  additionalProperties: false,
  properties: { capPercent: CAP },
};

const rate = (what: string): JsonSchema => ({ type: 'number', minimum: 0, description: `${what}; 0 or absent: unlimited` });

export const IO_LIMITS: JsonSchema = {
  type: 'object',
  description: 'A disk\'s I/O limits, per second; the ones given replace all the disk had',
  additionalProperties: false,
  properties: {
    iops: rate('Operations of all kinds'),
    iopsRead: rate('Reads'),
    iopsWrite: rate('Writes'),
    bps: rate('Bytes read and written'),
    bpsRead: rate('Bytes read'),
    bpsWrite: rate('Bytes written'),
    iopsBurst: rate('Operations that may pass at once after the disk was idle (default: one second\'s worth)'),
    bpsBurst: rate('Bytes that may pass at once after the disk was idle (default: one second\'s worth)'),
  },
};
