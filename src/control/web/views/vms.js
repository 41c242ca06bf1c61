// VMs: the list with a create form, and one VM's page: its state, start and stop, and its
// serial console in an xterm.js terminal over a WebSocket.

import { api, listAll, waitOperation } from '../api.js';
import { errorText, h, stateLabel, table } from '../dom.js';
import { createForm } from './resources.js';

export async function vmsView(root) {
  const draw = async () => {
    const [rows, dcs, tenants, freeLuns, networks] = await Promise.all([
      listAll('/vms'), listAll('/data-centers'), listAll('/tenants'), listAll('/virtual-luns?attached=false'), listAll('/networks'),
    ]);
    const none = { value: '', title: 'none' };
    root.replaceChildren(h('h1', {}, 'VMs'),
      table(rows, [
        { title: 'Name', value: (r) => h('a', { href: `#/vms/${r.id}` }, r.name) }, { title: 'State', value: (r) => stateLabel(r.state) },
        { title: 'CPUs', value: (r) => String(r.cpus) }, { title: 'Memory (MiB)', value: (r) => String(r.memoryMiB) },
        { title: 'Host', value: (r) => r.hostName ?? r.hostId ?? '' },
      ]),
      createForm('Create VM', '/vms', [
        { name: 'tenantId', title: 'Tenant', options: tenants.map((t) => ({ value: t.id, title: t.name })) },
        { name: 'dataCenterId', title: 'Data center', options: dcs.map((d) => ({ value: d.id, title: d.name })) },
        { name: 'name', title: 'Name' },
        { name: 'cpus', title: 'CPUs', type: 'number', value: '1' },
        { name: 'memoryMiB', title: 'Memory (MiB)', type: 'number', value: '256' },
        { name: 'kernel', title: 'Kernel (path on the host)' },
        { name: 'firmware', title: 'Firmware', optional: true },
        { name: 'initrd', title: 'Initramfs', optional: true },
        { name: 'bootargs', title: 'Kernel command line', optional: true },
        { name: 'virtualLunId', title: 'Virtual LUN', options: [none, ...freeLuns.map((l) => ({ value: l.id, title: l.name }))] },
        { name: 'networkId', title: 'Network', options: [none, ...networks.map((n) => ({ value: n.id, title: n.name }))] },
      ], draw, ({ kernel, firmware, initrd, bootargs, virtualLunId, ...vm }) => ({
        ...vm, boot: { kernel, ...(firmware ? { firmware } : {}), ...(initrd ? { initrd } : {}), ...(bootargs ? { bootargs } : {}) },
        ...(virtualLunId ? { disks: [{ virtualLunId }] } : {}),
      })));
  };
  await draw();
}

export async function vmView(root, id, cleanup) {
  const status = h('p');
  const message = h('div');
  const terminalBox = h('div', { class: 'console-screen', 'aria-label': 'Serial console' });
  const action = (verb, body) => h('button', {
    onclick: async () => {
      message.replaceChildren();
      try {
        const { data } = await api('POST', `/vms/${id}/${verb}`, body);
        await waitOperation(data, (op) => { status.textContent = `${verb}: ${op.state} ${Math.round((op.progress ?? 0) * 100)}% ${op.message ?? ''}`; });
        await draw();
      } catch (error) {
        message.replaceChildren(errorText(error));
      }
    },
  }, verb === 'stop' && body?.force ? 'Power off' : verb[0].toUpperCase() + verb.slice(1));
  const heading = h('h1');
  const details = h('div');
  const draw = async () => {
    const [{ data: vm }, luns] = await Promise.all([api('GET', `/vms/${id}`), listAll(`/virtual-luns?vmId=${id}`)]);
    const network = vm.networkId === null ? null : (await api('GET', `/networks/${vm.networkId}`)).data;
    heading.textContent = vm.name;
    const lunName = new Map(luns.map((lun) => [lun.id, lun.name]));
    const disks = vm.disks.map((disk) => (disk.virtualLunId ? `virtual LUN ${lunName.get(disk.virtualLunId) ?? disk.virtualLunId}` : `new ${disk.sizeGiB} GiB disk`));
    details.replaceChildren(h('p', {}, 'State: ', stateLabel(vm.state), vm.stateReason ? ` (${vm.stateReason})` : ''),
      h('p', {}, `${vm.cpus} CPU, ${vm.memoryMiB} MiB`),
      h('p', {}, `Disks: ${disks.length === 0 ? 'none' : disks.join(', ')}; network: ${network?.name ?? 'none'}`));
  };
  root.replaceChildren(heading, details, h('div', {}, action('start'), ' ', action('stop'), ' ', action('stop', { force: true })), status, message,
    h('h2', {}, 'Console'), h('button', { onclick: () => openConsole(id, terminalBox, message, cleanup) }, 'Connect'), terminalBox);
  await draw();
}

async function openConsole(id, box, message, cleanup) {
  const [{ Terminal }, { FitAddon }] = await Promise.all([import('/assets/xterm/xterm.mjs'), import('/assets/xterm/addon-fit.mjs')]);
  box.replaceChildren();
  const terminal = new Terminal({ convertEol: false, scrollback: 5000 });
  const fit = new FitAddon();
  terminal.loadAddon(fit);
  terminal.open(box);
  fit.fit();
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/vms/${id}/console`);
  socket.binaryType = 'arraybuffer';
  socket.addEventListener('message', (event) => terminal.write(new Uint8Array(event.data)));
  socket.addEventListener('close', (event) => terminal.write(`\r\n[console closed: ${event.reason || event.code}]\r\n`));
  socket.addEventListener('error', () => message.replaceChildren(errorText(new Error('the console connection failed'))));
  const encoder = new TextEncoder();
  terminal.onData((text) => { if (socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(text)); });
  terminal.focus();
  cleanup(() => { socket.close(); terminal.dispose(); });
}
