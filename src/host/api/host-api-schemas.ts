// The JSON shapes of the host agent's API that are not VM definitions (those are in
// ../vm-definition.ts), declared once for validation and for the OpenAPI document.

import type { JsonSchema } from '../../vm/api/json-schema.js';
import { MIGRATION_TARGET_PATTERN } from '../../vm/api/migration-target.js';
import { CPU_SCHEMA, MAX_RAM_MIB, VM_DEFINITION_SCHEMA, VM_NAME_PATTERN } from '../vm-definition.js';

const STATE: JsonSchema = { type: 'string', enum: ['defined', 'starting', 'running', 'paused', 'stopping', 'stopped', 'crashed'] };

const EXIT: JsonSchema = {
  type: ['object', 'null'],
  description: 'How the VM\'s process last ended, null if it never has',
  required: ['at', 'code', 'signal', 'reason'],
  properties: { at: { type: 'string' }, code: { type: ['integer', 'null'] }, signal: { type: ['string', 'null'] }, reason: { type: 'string' } },
};

export const VM_INFO: JsonSchema = {
  type: 'object',
  required: ['name', 'uuid', 'state', 'pid', 'autostart', 'restarts', 'lastExit', 'definition'],
  properties: {
    name: { type: 'string' }, uuid: { type: 'string' }, state: STATE,
    pid: { type: ['integer', 'null'] }, autostart: { type: 'boolean' },
    restarts: { type: 'integer', minimum: 0, description: 'Restarts after crashes' },
    lastExit: EXIT, definition: VM_DEFINITION_SCHEMA,
  },
};

export const VM_LIST: JsonSchema = { type: 'object', required: ['vms'], properties: { vms: { type: 'array', items: VM_INFO } } };

export const VM_STATS: JsonSchema = {
  type: 'object',
  required: ['name', 'state', 'pid', 'restarts', 'lastExit', 'uptimeMs', 'rssBytes', 'chargedMiB', 'consoleBytes', 'status', 'vm', 'cpu', 'diskLimits'],
  properties: {
    cpu: {
      type: 'object', required: ['weight', 'capPercent', 'effectiveCapPercent', 'usedPercent'],
      description: 'The VM\'s CPU slice: its weight and user cap, the cap the agent has in force, and the CPU its process used over the last second (percent of one core)',
      properties: { weight: { type: 'integer' }, capPercent: { type: ['number', 'null'] }, effectiveCapPercent: { type: ['number', 'null'] }, usedPercent: { type: ['number', 'null'] } },
    },
    diskLimits: { type: ['object', 'null'], description: 'By disk serial, the limits in force: the disk\'s own, or with a host disk budget its share of it; null when not running' },
    name: { type: 'string' }, state: STATE, pid: { type: ['integer', 'null'] },
    restarts: { type: 'integer' }, lastExit: EXIT,
    uptimeMs: { type: ['number', 'null'], description: 'Since the agent started the process' },
    rssBytes: { type: ['integer', 'null'], description: 'Resident memory of the VM\'s process' },
    chargedMiB: { type: 'integer', description: 'What the VM counts against the memory budget when running' },
    consoleBytes: { type: 'integer', description: 'Console output so far' },
    status: { type: ['object', 'null'], description: 'The VM API\'s GET /vm (state, instructionsRetired, uptimeMs), or {error}' },
    vm: { type: ['object', 'null'], description: 'The VM API\'s GET /vm/stats (cpu, memory, disks, nics), or {error}' },
  },
};

export const NETWORK_INFO: JsonSchema = {
  type: 'object',
  required: ['name', 'socket', 'ports', 'macs'],
  properties: {
    name: { type: 'string' },
    socket: { type: 'string', description: 'The switch\'s Unix socket (vireo run --net switch:PATH)' },
    ports: { type: 'integer', description: 'VM processes joined now' },
    macs: { type: 'array', items: { type: 'string' }, description: 'MAC addresses the switch has learned' },
  },
};

export const HOST_INFO: JsonSchema = {
  type: 'object',
  required: ['cores', 'memory', 'storage', 'vms', 'cpu', 'diskBudget', 'networks'],
  properties: {
    cpu: { type: 'object', description: 'capacityPercent: the CPU the VMs share, 100 per core' },
    diskBudget: { type: 'object', description: 'iops and bps all VMs\' disks share by weight, null for none' },
    networks: { type: 'array', items: NETWORK_INFO },
    cores: { type: 'integer' },
    memory: { type: 'object', description: 'totalBytes, freeBytes, budgetMiB, chargedMiB (by the VMs started), vmRssBytes' },
    storage: { type: 'object', description: 'The physical LUN `default` (DIR/luns), where the agent makes new disks: capacity, provisioned, allocated, free' },
    vms: { type: 'object', description: 'total, and the count by state' },
  },
};

export const STOP_REQUEST: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    force: { type: 'boolean', description: 'Kill the process (SIGKILL) at once' },
    timeoutSeconds: { type: 'number', minimum: 0, maximum: 3600, description: 'How long a graceful stop waits before killing (default 30)' },
  },
};

export const SNAPSHOT_REQUEST: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: { type: 'string', minLength: 1, description: 'The snapshot file on this host (default: DIR/vms/NAME/snapshots/TIME.vmsnap)' },
    resume: { type: 'boolean', description: 'Continue the VM afterwards (default true)' },
  },
};

export const MIGRATE_REQUEST: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['target'],
  properties: { target: { type: 'string', pattern: MIGRATION_TARGET_PATTERN, description: 'The `target` a destination agent\'s POST /vms/incoming answered' } },
};

export const INCOMING_REQUEST: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'ramMiB'],
  properties: {
    name: { type: 'string', pattern: VM_NAME_PATTERN },
    ramMiB: { type: 'integer', minimum: 1, maximum: MAX_RAM_MIB, description: 'The VM\'s RAM, charged against the budget' },
    listenHost: { type: 'string', minLength: 1, description: 'Where the source connects (default 127.0.0.1)' },
    autostart: { type: 'boolean' },
    cpu: CPU_SCHEMA,
  },
};

export const INCOMING_ANSWER: JsonSchema = {
  type: 'object',
  required: ['name', 'target'],
  properties: { name: { type: 'string' }, target: { type: 'string', description: 'Give it to the source agent\'s POST /vms/{name}/migrate' } },
};

export const LIMITS_ANSWER: JsonSchema = {
  type: 'object',
  required: ['vm', 'applied'],
  properties: { vm: VM_INFO, applied: { type: 'object', description: 'Per limit: applied, stored (the VM is not running) or not applied: why' } },
};
