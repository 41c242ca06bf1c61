// The lists of the model: data centers, hosts, users and the audit log, each with the form
// that adds to it where the caller may.

import { api, listAll } from '../api.js';
import { errorText, h, stateLabel, table } from '../dom.js';

/** A form whose fields become the JSON body of a POST; `refresh` runs after it succeeds. */
export function createForm(label, path, fields, refresh, shape = (values) => values) {
  const message = h('div');
  const form = h('form', { class: 'inline', 'aria-label': label },
    fields.map((f) => h('label', {}, f.title, f.options
      ? h('select', { name: f.name }, f.options.map((o) => h('option', { value: o.value }, o.title)))
      : h('input', { name: f.name, type: f.type ?? 'text', required: f.optional ? false : true, value: f.value }))),
    h('button', { type: 'submit' }, label), message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = Object.fromEntries([...new FormData(form)].filter(([, v]) => v !== ''));
    for (const f of fields) if (f.type === 'number' && values[f.name] !== undefined) values[f.name] = Number(values[f.name]);
    try {
      await api('POST', path, shape(values));
      form.reset();
      message.replaceChildren();
      await refresh();
    } catch (error) {
      message.replaceChildren(errorText(error));
    }
  });
  return form;
}

export async function dataCentersView(root) {
  const draw = async () => {
    const rows = await listAll('/data-centers');
    root.replaceChildren(h('h1', {}, 'Data centers'),
      table(rows, [{ title: 'Name', value: (r) => r.name }, { title: 'Description', value: (r) => r.description }]),
      createForm('Create data center', '/data-centers', [{ name: 'name', title: 'Name' }, { name: 'description', title: 'Description', optional: true }], draw));
  };
  await draw();
}

export async function hostsView(root) {
  const draw = async () => {
    const [rows, dcs] = await Promise.all([listAll('/hosts'), listAll('/data-centers')]);
    const dcName = new Map(dcs.map((d) => [d.id, d.name]));
    root.replaceChildren(h('h1', {}, 'Hosts'),
      table(rows, [
        { title: 'Name', value: (r) => r.name }, { title: 'Data center', value: (r) => dcName.get(r.dataCenterId) ?? r.dataCenterId },
        { title: 'State', value: (r) => stateLabel(r.state) }, { title: 'Why', value: (r) => r.stateReason ?? '' },
        { title: 'CPUs', value: (r) => String(r.cpus) }, { title: 'Memory (MiB)', value: (r) => String(r.memoryMiB) },
        { title: 'Last heartbeat', value: (r) => r.lastHeartbeatAt ?? 'never' },
      ]),
      createForm('Register host', '/hosts', [
        { name: 'dataCenterId', title: 'Data center', options: dcs.map((d) => ({ value: d.id, title: d.name })) },
        { name: 'name', title: 'Name' }, { name: 'url', title: 'Agent (tcp:HOST:PORT)' }, { name: 'token', title: 'Agent token', type: 'password' },
      ], draw));
  };
  await draw();
}

export async function usersView(root) {
  const draw = async () => {
    const rows = await listAll('/users');
    root.replaceChildren(h('h1', {}, 'Users'),
      table(rows, [{ title: 'Name', value: (r) => r.name }, { title: 'Tenant', value: (r) => r.tenantId ?? 'staff' }, { title: 'Disabled', value: (r) => (r.disabled ? 'yes' : '') }]));
  };
  await draw();
}

export async function auditView(root) {
  const [{ data: page }, { data: verdict }] = await Promise.all([api('GET', '/audit?limit=100'), api('GET', '/audit/verification')]);
  root.replaceChildren(h('h1', {}, 'Audit log'),
    h('p', { class: verdict.ok ? 'state-up' : 'error' }, verdict.ok ? `The hash chain of ${verdict.entries} entries is intact.` : `Tampering found at entry ${verdict.seq}: ${verdict.reason}`),
    table(page.items, [
      { title: '#', value: (r) => String(r.seq) }, { title: 'When', value: (r) => r.at }, { title: 'Who', value: (r) => r.actorName },
      { title: 'Action', value: (r) => r.action }, { title: 'Target', value: (r) => r.target }, { title: 'Outcome', value: (r) => r.outcome },
      { title: 'From', value: (r) => r.sourceIp },
    ]));
}
