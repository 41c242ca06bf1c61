// Storage and networks: a tenant's virtual LUNs and networks, each with the form that adds one,
// and, for the data center's staff, the hosts' physical LUNs the virtual ones are carved from.

import { ApiError, listAll } from '../api.js';
import { h, table } from '../dom.js';
import { createForm } from './resources.js';

const GIB = 2 ** 30;
const gib = (bytes) => (bytes / GIB).toFixed(2);

/** The rows of `path`, or null when the caller may not list them. */
async function listIfAllowed(path) {
  try {
    return await listAll(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return null;
    throw error;
  }
}

const scopeFields = (tenants, dcs) => [
  { name: 'tenantId', title: 'Tenant', options: tenants.map((t) => ({ value: t.id, title: t.name })) },
  { name: 'dataCenterId', title: 'Data center', options: dcs.map((d) => ({ value: d.id, title: d.name })) },
];

export async function lunsView(root) {
  const draw = async () => {
    const [luns, physical, tenants, dcs, hosts, vms] = await Promise.all([
      listAll('/virtual-luns'), listIfAllowed('/physical-luns'), listAll('/tenants'), listAll('/data-centers'), listIfAllowed('/hosts'), listAll('/vms'),
    ]);
    const vmName = new Map(vms.map((vm) => [vm.id, vm.name]));
    const hostName = new Map((hosts ?? []).map((host) => [host.id, host.name]));
    const parts = [h('h1', {}, 'Virtual LUNs'),
      table(luns, [
        { title: 'Name', value: (r) => r.name }, { title: 'Size (GiB)', value: (r) => gib(r.sizeBytes) },
        { title: 'Attached to', value: (r) => (r.vmId === null ? 'free' : vmName.get(r.vmId) ?? r.vmId) },
        { title: 'Host', value: (r) => hostName.get(r.hostId) ?? r.hostId },
      ]),
      createForm('Create virtual LUN', '/virtual-luns', [...scopeFields(tenants, dcs), { name: 'name', title: 'Name' }, { name: 'sizeGiB', title: 'Size (GiB)', type: 'number', value: '1' }], draw)];
    if (physical !== null) {
      parts.push(h('h2', {}, 'Physical LUNs'),
        table(physical, [
          { title: 'Name', value: (r) => r.name }, { title: 'Host', value: (r) => hostName.get(r.hostId) ?? r.hostId }, { title: 'Path', value: (r) => r.path },
          { title: 'Capacity (GiB)', value: (r) => gib(r.capacityBytes) }, { title: 'Provisioned (GiB)', value: (r) => gib(r.provisionedBytes) },
        ]),
        createForm('Add physical LUN', '/physical-luns', [
          { name: 'hostId', title: 'Host', options: (hosts ?? []).map((host) => ({ value: host.id, title: host.name })) },
          { name: 'name', title: 'Name', value: 'default' }, { name: 'path', title: 'Directory on the host (empty: the agent\'s own)', optional: true },
        ], draw));
    }
    root.replaceChildren(...parts);
  };
  await draw();
}

export async function networksView(root) {
  const draw = async () => {
    const [networks, tenants, dcs] = await Promise.all([listAll('/networks'), listAll('/tenants'), listAll('/data-centers')]);
    root.replaceChildren(h('h1', {}, 'Networks'),
      table(networks, [{ title: 'Name', value: (r) => r.name }, { title: 'Kind', value: (r) => (r.kind === 'user' ? 'NAT to the outside' : 'private switch') }]),
      createForm('Create network', '/networks', [
        ...scopeFields(tenants, dcs), { name: 'name', title: 'Name' },
        { name: 'kind', title: 'Kind', options: [{ value: 'switch', title: 'Private switch' }, { value: 'user', title: 'NAT to the outside' }] },
      ], draw));
  };
  await draw();
}
