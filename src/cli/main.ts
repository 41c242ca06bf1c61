// The `vireo` command line: one handler per verb. main() returns the exit status and has no
// side effects on import, so tests and other front ends can call it.

import { runCommand } from './commands/run.js';
import { RUN_HELP } from './commands/run-arguments.js';
import { IMAGE_HELP, imageCommand } from './commands/image.js';
import { DISK_HELP, diskCommand } from './commands/disk.js';
import { VM_HELP, vmCommand } from './commands/vm.js';
import { SWITCH_HELP, switchCommand } from './commands/switch.js';
import { HOST_HELP, hostCommand } from './commands/host.js';
import { MASTER_HELP, masterCommand } from './commands/master.js';
import { LOGIN_HELP, LOGOUT_HELP, loginCommand, logoutCommand } from './commands/login.js';
import { AUDIT_HELP, auditCommand } from './commands/audit.js';
import { resourceCommand } from './master/resource-command.js';
import { LUN_HELP, lunCommand } from './commands/lun.js';
import { DATA_CENTERS, NETWORKS, TENANTS, USERS } from './master/resources.js';
import { UsageError } from './usage-error.js';

export const HELP = `Usage: vireo <command> [options]

Vireo is a virtualization platform with its own RISC-V (RV64GC) virtual chip.

Commands:
  run       Boot the default Debian guest, or a kernel or bare-metal program
  image     Build or verify the default Debian guest image, or (complete) a full Debian disk image
  disk      Create, inspect, convert and change raw and qcow2 disk images
  vm        Pause, resume, save, migrate or stop a running VM through its API socket
  switch    Serve a virtual switch that VM processes join with --net switch:PATH
  host      Run many VMs on this server, each in its own process, behind one API
  master    The control plane: data centers, hosts, VMs, LUNs and users, over HTTPS
  login     Log in to a master (then: dc, tenant, user, host, vm, lun, net, audit)
  logout    Revoke and forget the token of vireo login
  dc        The master's data centers: list, show, create, delete
  tenant    The master's tenants
  user      The master's users and their roles
  lun       A tenant's virtual LUNs, and (lun physical) the hosts' physical LUNs
  net       A tenant's networks for its VMs
  audit     The master's audit log, and a check of its hash chain

Run 'vireo <command> --help' for the options of a command.
`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  run: { run: runCommand, help: RUN_HELP },
  image: { run: imageCommand, help: IMAGE_HELP },
  disk: { run: diskCommand, help: DISK_HELP },
  vm: { run: vmCommand, help: VM_HELP },
  switch: { run: switchCommand, help: SWITCH_HELP },
  host: { run: hostCommand, help: HOST_HELP },
  master: { run: masterCommand, help: MASTER_HELP },
  login: { run: loginCommand, help: LOGIN_HELP },
  logout: { run: logoutCommand, help: LOGOUT_HELP },
  dc: resourceCommand(DATA_CENTERS),
  tenant: resourceCommand(TENANTS),
  user: resourceCommand(USERS),
  lun: { run: lunCommand, help: LUN_HELP },
  net: resourceCommand(NETWORKS),
  audit: { run: auditCommand, help: AUDIT_HELP },
};

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === '--help' || command === '-h' || command === 'help') {
      const topic = command === 'help' ? rest[0] : undefined;
      process.stdout.write(topic !== undefined && COMMANDS[topic] ? COMMANDS[topic].help : HELP);
      return 0;
    }
    if (command === undefined) throw new UsageError('', 'no command given');
    const handler = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (handler === undefined) throw new UsageError('', `unknown command '${command}'`);
    return await handler.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      const help = e.command === '' ? 'vireo --help' : `vireo ${e.command} --help`;
      process.stderr.write(`vireo${e.command ? ` ${e.command}` : ''}: ${e.message}\nRun '${help}' for usage.\n`);
      return 2;
    }
    const error = e as Error;
    process.stderr.write(`vireo: internal error: ${error.stack ?? String(e)}\n`);
    if (error.cause !== undefined) process.stderr.write(`caused by: ${(error.cause as Error).stack ?? String(error.cause)}\n`);
    return 70;
  }
}
