// What `vireo dc|tenant|user|host|vm|lun|net` show and send: one spec per resource of the master.

import { readFile } from 'node:fs/promises';
import { UsageError } from '../usage-error.js';
import type { ResourceSpec } from './resource-command.js';

const text = (key: string) => (row: Record<string, unknown>) => (row[key] === null || row[key] === undefined ? '' : String(row[key]));

function required(command: string, values: Record<string, string | boolean | undefined>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(command, `create needs --${name}`);
  return value;
}

/** Data centers and tenants alike: a name and a description. */
function scopeSpec(command: string, path: string, noun: string): ResourceSpec {
  return {
    command, path, noun,
    columns: [['NAME', text('name')], ['DESCRIPTION', text('description')], ['ID', text('id')]],
    create: {
      usage: '--name NAME [--description TEXT]',
      options: { name: { type: 'string' }, description: { type: 'string' } },
      body: async (v) => ({ name: required(command, v, 'name'), ...(typeof v['description'] === 'string' ? { description: v['description'] } : {}) }),
    },
  };
}

export const DATA_CENTERS = scopeSpec('dc', '/data-centers', 'data center');
export const TENANTS = scopeSpec('tenant', '/tenants', 'tenant');

export const USERS: ResourceSpec = {
  command: 'user', path: '/users', noun: 'user',
  columns: [['NAME', text('name')], ['TENANT', (r) => (r['tenantId'] === null ? 'staff' : String(r['tenantId']))], ['DISABLED', (r) => (r['disabled'] === true ? 'yes' : '')], ['ID', text('id')]],
  create: {
    usage: '--name NAME --password-file FILE [--tenant NAME|ID] [--role ROLE[:dc=NAME|:tenant=NAME]]',
    options: { name: { type: 'string' }, 'password-file': { type: 'string' }, tenant: { type: 'string' }, role: { type: 'string' } },
    body: async (v, resolve) => {
      const password = (await readFile(required('user', v, 'password-file'), 'utf8')).split('\n')[0]!;
      const tenantId = typeof v['tenant'] === 'string' ? await resolve('/tenants', v['tenant']) : undefined;
      const roles = typeof v['role'] === 'string' ? [await roleBinding(v['role'], resolve)] : undefined;
      return { name: required('user', v, 'name'), password, ...(tenantId === undefined ? {} : { tenantId }), ...(roles === undefined ? {} : { roles }) };
    },
  },
};

async function roleBinding(text: string, resolve: (path: string, nameOrId: string) => Promise<string>): Promise<Record<string, unknown>> {
  const [role, scope] = text.split(':');
  if (scope === undefined) return { role, scopeKind: 'global', scopeId: null };
  const [kind, name] = scope.split('=');
  if (kind === 'dc' && name) return { role, scopeKind: 'data-center', scopeId: await resolve('/data-centers', name) };
  if (kind === 'tenant' && name) return { role, scopeKind: 'tenant', scopeId: await resolve('/tenants', name) };
  throw new UsageError('user', `--role ROLE, ROLE:dc=NAME or ROLE:tenant=NAME, not ${text}`);
}

export const HOSTS: ResourceSpec = {
  command: 'host', path: '/hosts', noun: 'host',
  columns: [['NAME', text('name')], ['STATE', text('state')], ['CPUS', text('cpus')], ['MEMORY MIB', text('memoryMiB')], ['LAST HEARTBEAT', text('lastHeartbeatAt')], ['WHY', text('stateReason')]],
  create: {
    usage: '--dc NAME|ID --name NAME --url tcp:HOST:PORT --token-file FILE',
    options: { dc: { type: 'string' }, name: { type: 'string' }, url: { type: 'string' }, 'token-file': { type: 'string' } },
    body: async (v, resolve) => ({
      dataCenterId: await resolve('/data-centers', required('host', v, 'dc')), name: required('host', v, 'name'), url: required('host', v, 'url'),
      token: (await readFile(required('host', v, 'token-file'), 'utf8')).split('\n')[0]!.trim(),
    }),
  },
};

export const VMS: ResourceSpec = {
  command: 'vm', path: '/vms', noun: 'VM',
  columns: [['NAME', text('name')], ['STATE', text('state')], ['CPUS', text('cpus')], ['MEMORY MIB', text('memoryMiB')], ['HOST', (r) => String(r['hostName'] ?? r['hostId'] ?? '')], ['ID', text('id')]],
  create: {
    usage: '--tenant NAME|ID --dc NAME|ID --name NAME --kernel PATH [--firmware PATH] [--initrd PATH]\n' +
      '         [--append ARGS] [--cpus N] [--memory MIB] [--disk GIB]... [--lun NAME|ID]... [--net NAME|ID]\n' +
      '         [--host NAME|ID]   (paths on the host; --disk makes a disk deleted with the VM, --lun attaches a virtual LUN)',
    options: {
      tenant: { type: 'string' }, dc: { type: 'string' }, name: { type: 'string' }, cpus: { type: 'string' }, memory: { type: 'string' }, host: { type: 'string' },
      kernel: { type: 'string' }, firmware: { type: 'string' }, initrd: { type: 'string' }, append: { type: 'string' }, disk: { type: 'string', multiple: true },
      lun: { type: 'string', multiple: true }, net: { type: 'string' },
    },
    body: async (v, resolve) => {
      const optional = (key: string, as: string) => (typeof v[key] === 'string' ? { [as]: v[key] } : {});
      const made = (v['disk'] as unknown as string[] | undefined ?? []).map((gib) => ({ sizeGiB: Number(gib) }));
      const attached = await Promise.all((v['lun'] as unknown as string[] | undefined ?? []).map(async (lun) => ({ virtualLunId: await resolve('/virtual-luns', lun) })));
      const disks = [...attached, ...made];
      return {
        tenantId: await resolve('/tenants', required('vm', v, 'tenant')), dataCenterId: await resolve('/data-centers', required('vm', v, 'dc')),
        name: required('vm', v, 'name'), cpus: Number(v['cpus'] ?? 1), memoryMiB: Number(v['memory'] ?? 256),
        boot: { kernel: required('vm', v, 'kernel'), ...optional('firmware', 'firmware'), ...optional('initrd', 'initrd'), ...optional('append', 'bootargs') },
        ...(disks.length === 0 ? {} : { disks }),
        ...(typeof v['net'] === 'string' ? { networkId: await resolve('/networks', v['net']) } : {}),
        ...(typeof v['host'] === 'string' ? { hostId: await resolve('/hosts', v['host']) } : {}),
      };
    },
  },
  actions: {
    start: { options: {}, body: () => ({}) },
    stop: { options: { force: { type: 'boolean' } }, usage: '[--force]', body: (v) => ({ force: v['force'] === true }) },
    snapshot: { options: { name: { type: 'string' } }, usage: '[--name LABEL]   (saved where its host agent names it)', body: (v) => (typeof v['name'] === 'string' ? { name: v['name'] } : {}) },
    migrate: {
      options: { host: { type: 'string' } }, usage: '--host NAME|ID   (live, to a host of its data center)',
      body: async (v, resolve) => {
        if (typeof v['host'] !== 'string' || v['host'] === '') throw new UsageError('vm', 'migrate needs --host NAME|ID');
        return { hostId: await resolve('/hosts', v['host']) };
      },
    },
  },
};

export const VIRTUAL_LUNS: ResourceSpec = {
  command: 'lun', path: '/virtual-luns', noun: 'virtual LUN',
  columns: [['NAME', text('name')], ['SIZE GIB', (r) => String(Number(r['sizeBytes']) / 2 ** 30)], ['VM', text('vmId')], ['HOST', text('hostId')], ['ID', text('id')]],
  create: {
    usage: '--tenant NAME|ID --dc NAME|ID --name NAME --size GIB [--physical NAME|ID]',
    options: { tenant: { type: 'string' }, dc: { type: 'string' }, name: { type: 'string' }, size: { type: 'string' }, physical: { type: 'string' } },
    body: async (v, resolve) => ({
      tenantId: await resolve('/tenants', required('lun', v, 'tenant')), dataCenterId: await resolve('/data-centers', required('lun', v, 'dc')),
      name: required('lun', v, 'name'), sizeGiB: Number(required('lun', v, 'size')),
      ...(typeof v['physical'] === 'string' ? { physicalLunId: await resolve('/physical-luns', v['physical']) } : {}),
    }),
  },
};

export const PHYSICAL_LUNS: ResourceSpec = {
  command: 'lun physical', path: '/physical-luns', noun: 'physical LUN',
  columns: [['NAME', text('name')], ['HOST', text('hostId')], ['PATH', text('path')], ['CAPACITY GIB', (r) => (Number(r['capacityBytes']) / 2 ** 30).toFixed(1)],
    ['PROVISIONED GIB', (r) => (Number(r['provisionedBytes']) / 2 ** 30).toFixed(1)], ['ID', text('id')]],
  create: {
    usage: '--host NAME|ID --name NAME [--path DIR [--capacity GIB]]   (no --path: the agent\'s own, named default)',
    options: { host: { type: 'string' }, name: { type: 'string' }, path: { type: 'string' }, capacity: { type: 'string' } },
    body: async (v, resolve) => ({
      hostId: await resolve('/hosts', required('lun physical', v, 'host')), name: required('lun physical', v, 'name'),
      ...(typeof v['path'] === 'string' ? { path: v['path'] } : {}),
      ...(typeof v['capacity'] === 'string' ? { capacityBytes: Math.round(Number(v['capacity']) * 2 ** 30) } : {}),
    }),
  },
};

export const NETWORKS: ResourceSpec = {
  command: 'net', path: '/networks', noun: 'network',
  columns: [['NAME', text('name')], ['KIND', text('kind')], ['TENANT', text('tenantId')], ['DATA CENTER', text('dataCenterId')], ['ID', text('id')]],
  create: {
    usage: '--tenant NAME|ID --dc NAME|ID --name NAME --kind switch|user',
    options: { tenant: { type: 'string' }, dc: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string' } },
    body: async (v, resolve) => ({
      tenantId: await resolve('/tenants', required('net', v, 'tenant')), dataCenterId: await resolve('/data-centers', required('net', v, 'dc')),
      name: required('net', v, 'name'), kind: required('net', v, 'kind'),
    }),
  },
};
