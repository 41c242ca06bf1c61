// The first page: how many data centers, hosts (up or not) and VMs (by state) there are.

import { listAll } from '../api.js';
import { h, table } from '../dom.js';

function countBy(rows, key) {
  const counts = new Map();
  for (const row of rows) counts.set(row[key], (counts.get(row[key]) ?? 0) + 1);
  return [...counts].map(([value, count]) => ({ value, count }));
}

export async function overviewView(root) {
  const [dcs, hosts, vms] = await Promise.all([listAll('/data-centers'), listAll('/hosts').catch(() => []), listAll('/vms')]);
  root.replaceChildren(h('h1', {}, 'Overview'),
    h('p', {}, `${dcs.length} data centers, ${hosts.length} hosts, ${vms.length} VMs.`),
    h('h2', {}, 'Hosts by state'), table(countBy(hosts, 'state'), [{ title: 'State', value: (r) => r.value }, { title: 'Hosts', value: (r) => String(r.count) }]),
    h('h2', {}, 'VMs by state'), table(countBy(vms, 'state'), [{ title: 'State', value: (r) => r.value }, { title: 'VMs', value: (r) => String(r.count) }]));
}
