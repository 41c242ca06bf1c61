// `vireo lun`: a tenant's virtual LUNs on the master, and `vireo lun physical`: the hosts'
// physical LUNs they are carved from (for the data center's staff).

import { type DiskIo as CommandIo, processIo } from './disk/disk-io.js';
import { resourceHelp, runResource } from '../master/resource-command.js';
import { PHYSICAL_LUNS, VIRTUAL_LUNS } from '../master/resources.js';

export const LUN_HELP = `${resourceHelp(VIRTUAL_LUNS)}
${resourceHelp(PHYSICAL_LUNS)}`;

export function lunCommand(argv: string[]): Promise<number> {
  return runLun(argv, processIo);
}

export function runLun(argv: readonly string[], io: CommandIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'physical') return runResource(PHYSICAL_LUNS, rest, io);
  if (first === '--help' || first === '-h' || first === 'help') {
    io.out(LUN_HELP);
    return Promise.resolve(0);
  }
  return runResource(VIRTUAL_LUNS, argv, io);
}
