// `vireo host vm define NAME ...`: the spec of a new VM from options shaped like `vireo run`'s,
// or from a JSON file (`--spec FILE`, the body of POST /vms's spec).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDiskOption } from '../disk-option.js';
import { UsageError } from '../usage-error.js';

export const DEFINE_OPTIONS = {
  spec: { type: 'string' as const },
  kernel: { type: 'string' as const },
  bios: { type: 'string' as const },
  initrd: { type: 'string' as const },
  append: { type: 'string' as const },
  memory: { type: 'string' as const, short: 'm' },
  disk: { type: 'string' as const, multiple: true },
  'new-disk': { type: 'string' as const, multiple: true },
  net: { type: 'string' as const },
  console: { type: 'string' as const },
  jit: { type: 'string' as const },
  'cpu-weight': { type: 'string' as const },
  'cpu-cap': { type: 'string' as const },
  cpus: { type: 'string' as const },
  autostart: { type: 'boolean' as const },
};

export const DEFINE_HELP = `  define NAME             Define a VM, from --spec FILE (JSON) or from options:
      --kernel FILE [--bios FILE] [--initrd FILE] [--append ARGS] [-m MIB]
      [--disk FILE[,ro][,format=raw|qcow2][,iops=N,bps=N...]]...   an existing image
      [--new-disk SIZE[,ro][,iops=N...]]...   a new thin disk, SIZE in MiB or with M/G
      [--net host|user|network:NET] [--console ttyS0|hvc0] [--jit on|off] [--cpus N]
      [--cpu-weight 1..10000] [--cpu-cap PERCENT] [--autostart]
      (user: user-mode NAT through the host's sockets; network:NET puts the NIC on the
      agent's network NET, a switch only its VMs share)`;

type DefineValues = { [K in keyof typeof DEFINE_OPTIONS]?: (typeof DEFINE_OPTIONS)[K] extends { multiple: true } ? string[] : (typeof DEFINE_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** The POST /vms body for NAME; the agent checks it in full. */
export function defineRequest(name: string, values: DefineValues): Record<string, unknown> {
  const autostart = values.autostart === true;
  if (values.spec !== undefined) {
    let spec: unknown;
    try {
      spec = JSON.parse(readFileSync(values.spec, 'utf8'));
    } catch (e) {
      throw new UsageError('host', `define --spec: cannot read ${values.spec} as JSON: ${(e as Error).message}`);
    }
    return { name, autostart, spec };
  }
  if (values.kernel === undefined) throw new UsageError('host', 'define: give --kernel FILE (or --spec FILE)');
  const boot: Record<string, string> = { kernel: resolve(values.kernel) };
  if (values.bios !== undefined && values.bios !== 'none') boot['firmware'] = resolve(values.bios);
  if (values.initrd !== undefined) boot['initrd'] = resolve(values.initrd);
  if (values.append !== undefined) boot['bootargs'] = values.append;
  const disks: Array<Record<string, unknown>> = [];
  for (const text of values.disk ?? []) {
    const disk = parseDiskOption(text);
    disks.push({ path: resolve(disk.path), readOnly: disk.readOnly, limits: disk.limits, ...(disk.format ? { format: disk.format } : {}) });
  }
  for (const text of values['new-disk'] ?? []) {
    const [size, ...rest] = text.split(',');
    const disk = parseDiskOption(['new', ...rest].join(','));
    disks.push({ sizeMiB: mebibytes('--new-disk', size ?? ''), readOnly: disk.readOnly, limits: disk.limits });
  }
  const cpu: Record<string, number> = {};
  if (values['cpu-weight'] !== undefined) cpu['weight'] = Number(values['cpu-weight']);
  if (values['cpu-cap'] !== undefined) cpu['capPercent'] = Number(values['cpu-cap']);
  return {
    name, autostart,
    spec: {
      ramMiB: values.memory === undefined ? 128 : mebibytes('-m', values.memory),
      boot, disks,
      ...(values.net !== undefined ? { network: values.net.startsWith('network:') ? { name: values.net.slice('network:'.length) } : values.net } : {}),
      ...(values.cpus !== undefined ? { cpus: Number(values.cpus) } : {}),
      ...(values.console !== undefined ? { console: values.console } : {}),
      ...(values.jit !== undefined ? { jit: values.jit } : {}),
      cpu,
    },
  };
}

/** "512", "512M", "2G" as MiB. */
export function mebibytes(option: string, text: string): number {
  const m = /^(\d+)([MG]i?B?)?$/iu.exec(text);
  const mib = m ? Number(m[1]) * (m[2]?.[0]?.toUpperCase() === 'G' ? 1024 : 1) : NaN;
  if (!Number.isSafeInteger(mib) || mib < 1) throw new UsageError('host', `${option} takes a size in MiB, or with M or G (512M, 2G), got '${text}'`);
  return mib;
}
