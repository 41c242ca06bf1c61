// A VM as the host agent keeps it: a name, a uuid and a spec (what `vireo run` boots: RAM, boot
// files, disks, network, console, CPU share and cap, per-disk I/O limits), versioned. The JSON
// schemas here check API requests and files read back alike, and appear in the OpenAPI document.

import { validate, type JsonSchema } from '../vm/api/json-schema.js';
import { checkIoLimits, type IoLimits } from '../storage/qos/io-limits.js';
import { HostError } from './host-error.js';

export const VM_DEFINITION_VERSION = 1;

/** Names are used in paths and URLs: lower case, digits and dashes. */
export const VM_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

/** RAM a VM may have; `vireo run -m` takes at most 4095 MiB. */
export const MAX_RAM_MIB = 4095;

/** Harts a VM may have (MAX_CPUS of the machine, which `vireo run --cpus` takes). */
export const MAX_CPUS = 8;

/** The largest new disk or volume, in MiB (16 TiB). */
export const MAX_DISK_MIB = 16 * 1024 * 1024;

export interface DiskSpec {
  /** The image on this host: given by the user, or the agent's thin LUN. */
  path: string;
  /** Set when the agent created the disk as a virtual LUN (and may delete it with the VM). */
  lun?: string;
  /** Set when the disk is an existing volume attached to the VM (never deleted with it). */
  volume?: VolumeRef;
  readOnly: boolean;
  format?: 'raw' | 'qcow2';
  limits: IoLimits;
}

/** A volume: virtual LUN `name` of the agent's physical LUN `lun`. */
export interface VolumeRef {
  lun: string;
  name: string;
}

export interface CpuSpec {
  /** Relative share of host CPU against other VMs (1 to 10000, default 100), as cgroup cpu.weight. */
  weight: number;
  /** At most this percent of one host core (5 or more), or null for no cap. */
  capPercent: number | null;
}

/** A virtual network of this host: a switch of its own that the VMs naming it share. */
export interface NetworkRef {
  name: string;
}

export interface VmSpec {
  ramMiB: number;
  /** Harts (vireo run --cpus); absent: 1. */
  cpus?: number;
  boot: { kernel: string; firmware?: string; initrd?: string; bootargs?: string };
  disks: DiskSpec[];
  network: 'none' | 'host' | 'user' | NetworkRef;
  console: 'ttyS0' | 'hvc0';
  cpu: CpuSpec;
  jit: 'on' | 'off';
}

export interface VmDefinition {
  version: typeof VM_DEFINITION_VERSION;
  name: string;
  uuid: string;
  /** Goes up on every change. */
  generation: number;
  autostart: boolean;
  spec: VmSpec;
}

/** The guest's name for disk `index` (virtio-blk serial), as `vireo run` assigns them. */
/** The VM's vCPU count. */
export function vcpusOf(spec: VmSpec): number {
  return spec.cpus ?? 1;
}

/** The name of the agent's network the VM is on, or null. */
export function networkOf(spec: VmSpec): string | null {
  return typeof spec.network === 'object' ? spec.network.name : null;
}

export function diskSerial(index: number): string {
  return `vireo-disk-${index}`;
}

const number = (minimum: number, maximum?: number, description?: string): JsonSchema => ({ type: 'number', minimum, ...(maximum === undefined ? {} : { maximum }), ...(description ? { description } : {}) });

export const IO_LIMITS_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Per second; absent or 0 is unlimited',
  properties: {
    iops: number(0), iopsRead: number(0), iopsWrite: number(0),
    bps: number(0), bpsRead: number(0), bpsWrite: number(0),
    iopsBurst: number(0), bpsBurst: number(0),
  },
};

export const CPU_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    weight: { type: 'integer', minimum: 1, maximum: 10000, description: 'Share of host CPU against other VMs (default 100)' },
    capPercent: { type: ['number', 'null'], minimum: 5, maximum: 100, description: 'Percent of one host core at most, null for none' },
  },
};

const BOOT_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kernel'],
  properties: {
    kernel: { type: 'string', minLength: 1, description: 'Linux Image or bare-metal ELF, a path on this host' },
    firmware: { type: 'string', minLength: 1, description: 'Firmware (OpenSBI fw_jump.bin); absent: none, the kernel runs by itself' },
    initrd: { type: 'string', minLength: 1 },
    bootargs: { type: 'string' },
  },
};

export const VOLUME_REF_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['lun', 'name'],
  description: 'Volume `name` of the agent\'s physical LUN `lun` (GET /luns/{lun}/volumes)',
  properties: { lun: { type: 'string', pattern: VM_NAME_PATTERN }, name: { type: 'string', pattern: VM_NAME_PATTERN } },
};

const DISK_REQUEST_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'An existing image (`path`), a new thin virtual LUN of `sizeMiB`, or an existing `volume`, attached (one VM at a time, never deleted with it)',
  properties: {
    path: { type: 'string', minLength: 1 },
    sizeMiB: { type: 'integer', minimum: 1, maximum: MAX_DISK_MIB },
    volume: VOLUME_REF_SCHEMA,
    readOnly: { type: 'boolean' },
    format: { type: 'string', enum: ['raw', 'qcow2'] },
    limits: IO_LIMITS_SCHEMA,
  },
};

const STORED_DISK_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path', 'readOnly', 'limits'],
  properties: {
    path: { type: 'string', minLength: 1 },
    lun: { type: 'string', minLength: 1 },
    volume: VOLUME_REF_SCHEMA,
    readOnly: { type: 'boolean' },
    format: { type: 'string', enum: ['raw', 'qcow2'] },
    limits: IO_LIMITS_SCHEMA,
  },
};

function specSchema(disk: JsonSchema, complete: boolean): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    required: complete ? ['ramMiB', 'boot', 'disks', 'network', 'console', 'cpu', 'jit'] : ['ramMiB', 'boot'],
    properties: {
      ramMiB: { type: 'integer', minimum: 1, maximum: MAX_RAM_MIB },
      cpus: { type: 'integer', minimum: 1, maximum: MAX_CPUS, description: 'Harts, each on its own host thread (default 1)' },
      boot: BOOT_SCHEMA,
      disks: { type: 'array', items: disk },
      network: {
        type: ['string', 'object'], enum: ['none', 'host', 'user'], additionalProperties: false, required: ['name'],
        properties: { name: { type: 'string', pattern: VM_NAME_PATTERN } },
        description: 'host: a NIC on a switch of its own where the host answers ARP and ping at 10.0.2.2; user: a NIC with user-mode networking (DHCP, DNS, and NAT through the host\'s sockets, no port forwards); {"name": NET}: a NIC on the agent\'s network NET, a switch shared only by the VMs that name it',
      },
      console: { type: 'string', enum: ['ttyS0', 'hvc0'] },
      cpu: CPU_SCHEMA,
      jit: { type: 'string', enum: ['on', 'off'] },
    },
  };
}

/** POST /vms: a name and a spec whose absent fields take their defaults. */
export const DEFINE_REQUEST_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'spec'],
  properties: {
    name: { type: 'string', pattern: VM_NAME_PATTERN },
    autostart: { type: 'boolean', description: 'Start with the agent when it was running when the agent stopped, and restart after a crash' },
    spec: specSchema(DISK_REQUEST_SCHEMA, false),
  },
};

export const VM_DEFINITION_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'name', 'uuid', 'generation', 'autostart', 'spec'],
  properties: {
    version: { type: 'integer', minimum: VM_DEFINITION_VERSION, maximum: VM_DEFINITION_VERSION },
    name: { type: 'string', pattern: VM_NAME_PATTERN },
    uuid: { type: 'string', minLength: 1 },
    generation: { type: 'integer', minimum: 1 },
    autostart: { type: 'boolean' },
    spec: specSchema(STORED_DISK_SCHEMA, true),
  },
};

export interface DiskRequest {
  path?: string;
  sizeMiB?: number;
  volume?: VolumeRef;
  readOnly?: boolean;
  format?: 'raw' | 'qcow2';
  limits?: IoLimits;
}

export interface DefineRequest {
  name: string;
  autostart?: boolean;
  spec: Omit<Partial<VmSpec>, 'disks' | 'cpu'> & Pick<VmSpec, 'ramMiB' | 'boot'> & { disks?: DiskRequest[]; cpu?: Partial<CpuSpec> };
}

/** Checks a define request beyond its schema; returns it typed. Throws 'invalid-definition'. */
export function checkDefineRequest(value: unknown): DefineRequest {
  check(DEFINE_REQUEST_SCHEMA, value);
  const request = value as DefineRequest;
  for (const [i, disk] of (request.spec.disks ?? []).entries()) {
    const given = [disk.path, disk.sizeMiB, disk.volume].filter((v) => v !== undefined).length;
    if (given !== 1) {
      throw new HostError('invalid-definition', `body.spec.disks[${i}]: give one of path (an existing image), sizeMiB (a new disk) or volume (an existing volume), not ${given === 0 ? 'none' : 'several'}`, { field: `spec.disks[${i}]` });
    }
    if (disk.path === undefined && disk.format === 'raw') {
      throw new HostError('invalid-definition', `body.spec.disks[${i}]: a new disk or a volume is a thin qcow2 virtual LUN; drop format raw`, { field: `spec.disks[${i}]` });
    }
  }
  return request;
}

/** Checks a stored definition (read back from a file); throws 'invalid-definition' naming the field. */
export function checkVmDefinition(value: unknown): VmDefinition {
  check(VM_DEFINITION_SCHEMA, value, 'definition');
  const definition = value as VmDefinition;
  for (const disk of definition.spec.disks) checkIoLimits(disk.limits);
  return definition;
}

function check(schema: JsonSchema, value: unknown, where = 'body'): void {
  const problem = validate(schema, value, where);
  if (problem !== null) throw new HostError('invalid-definition', problem, {});
}
