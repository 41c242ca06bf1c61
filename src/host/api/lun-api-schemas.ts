// The JSON shapes of the agent's physical LUN and volume routes, declared once for validation
// and for the OpenAPI document.

import type { JsonSchema } from '../../vm/api/json-schema.js';
import { MAX_DISK_MIB, VM_NAME_PATTERN } from '../vm-definition.js';

const bytes = (description: string): JsonSchema => ({ type: 'integer', minimum: 0, description });

export const PHYSICAL_LUN_USAGE: JsonSchema = {
  type: 'object',
  required: ['capacityBytes', 'overcommitRatio', 'provisionLimit', 'provisioned', 'allocated', 'free'],
  properties: {
    capacityBytes: bytes('What the images may take on the host, in total'),
    overcommitRatio: { type: 'number', description: 'Virtual sizes may add up to capacity times this' },
    provisionLimit: bytes('capacityBytes * overcommitRatio'),
    provisioned: bytes('The virtual sizes of its virtual LUNs, added up'),
    allocated: bytes('What the images take on the host'),
    free: bytes('capacityBytes - allocated (0 when over)'),
  },
};

export const PHYSICAL_LUN: JsonSchema = {
  type: 'object',
  required: ['name', 'path', 'usage', 'volumes'],
  properties: {
    name: { type: 'string', description: '`default` is the agent\'s own, DIR/luns' },
    path: { type: 'string', description: 'Its directory on this host' },
    usage: PHYSICAL_LUN_USAGE,
    volumes: { type: 'integer', minimum: 0, description: 'How many virtual LUNs it has' },
  },
};

export const PHYSICAL_LUN_LIST: JsonSchema = { type: 'object', required: ['luns'], properties: { luns: { type: 'array', items: PHYSICAL_LUN } } };

export const VOLUME: JsonSchema = {
  type: 'object',
  required: ['name', 'lun', 'path', 'sizeBytes', 'allocatedBytes', 'usedBy'],
  properties: {
    name: { type: 'string' },
    lun: { type: 'string', description: 'The physical LUN it is carved from' },
    path: { type: 'string', description: 'Its qcow2 image' },
    sizeBytes: bytes('The size the guest sees'),
    allocatedBytes: bytes('What its image takes on the host'),
    usedBy: { type: ['string', 'null'], description: 'The VM definition it is a disk of, or null' },
  },
};

export const VOLUME_LIST: JsonSchema = { type: 'object', required: ['volumes'], properties: { volumes: { type: 'array', items: VOLUME } } };

export const ADD_LUN_REQUEST: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'path'],
  properties: {
    name: { type: 'string', pattern: VM_NAME_PATTERN },
    path: { type: 'string', minLength: 1, description: 'An absolute directory outside the agent\'s data directory: a physical LUN\'s (adopted as it is), or an empty or missing one (made a new LUN)' },
    capacityBytes: { type: 'integer', minimum: 1, description: 'For a new LUN: what its images may take (default: the free space of its file system)' },
    overcommitRatio: { type: 'number', minimum: 0, description: 'For a new LUN: virtual sizes may add up to capacity times this (default 4); above 0' },
  },
};

export const CREATE_VOLUME_REQUEST: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'sizeMiB'],
  properties: {
    name: { type: 'string', pattern: VM_NAME_PATTERN },
    sizeMiB: { type: 'integer', minimum: 1, maximum: MAX_DISK_MIB, description: 'The size the guest sees; the image starts empty and grows as it is written' },
  },
};
