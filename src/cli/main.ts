// The `vireo` command line: one handler per verb. main() returns the exit status and has no
// side effects on import, so tests and other front ends can call it.

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

interface Command {
  run: (argv: string[]) => Promise<number>;
  help: string;
}

// Each verb's modules load when it runs: `vireo run` need not load the control plane (loading
// every command took about a second before a VM started).
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => {
    const [{ runCommand }, { RUN_HELP }] = await Promise.all([import('./commands/run.js'), import('./commands/run-arguments.js')]);
    return { run: runCommand, help: RUN_HELP };
  },
  image: async () => { const m = await import('./commands/image.js'); return { run: m.imageCommand, help: m.IMAGE_HELP }; },
  disk: async () => { const m = await import('./commands/disk.js'); return { run: m.diskCommand, help: m.DISK_HELP }; },
  vm: async () => { const m = await import('./commands/vm.js'); return { run: m.vmCommand, help: m.VM_HELP }; },
  switch: async () => { const m = await import('./commands/switch.js'); return { run: m.switchCommand, help: m.SWITCH_HELP }; },
  host: async () => { const m = await import('./commands/host.js'); return { run: m.hostCommand, help: m.HOST_HELP }; },
  master: async () => { const m = await import('./commands/master.js'); return { run: m.masterCommand, help: m.MASTER_HELP }; },
  login: async () => { const m = await import('./commands/login.js'); return { run: m.loginCommand, help: m.LOGIN_HELP }; },
  logout: async () => { const m = await import('./commands/login.js'); return { run: m.logoutCommand, help: m.LOGOUT_HELP }; },
  dc: () => masterResource('DATA_CENTERS'),
  tenant: () => masterResource('TENANTS'),
  user: () => masterResource('USERS'),
  lun: async () => { const m = await import('./commands/lun.js'); return { run: m.lunCommand, help: m.LUN_HELP }; },
  net: () => masterResource('NETWORKS'),
  audit: async () => { const m = await import('./commands/audit.js'); return { run: m.auditCommand, help: m.AUDIT_HELP }; },
};

/** The verb for one of the master's resources (vireo dc, tenant, user, net). */
async function masterResource(name: 'DATA_CENTERS' | 'TENANTS' | 'USERS' | 'NETWORKS'): Promise<Command> {
  const [{ resourceCommand }, resources] = await Promise.all([import('./master/resource-command.js'), import('./master/resources.js')]);
  return resourceCommand(resources[name]);
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === '--help' || command === '-h' || command === 'help') {
      const topic = command === 'help' ? rest[0] : undefined;
      const load = topic !== undefined && Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic] : undefined;
      process.stdout.write(load ? (await load()).help : HELP);
      return 0;
    }
    if (command === undefined) throw new UsageError('', 'no command given');
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (load === undefined) throw new UsageError('', `unknown command '${command}'`);
    return await (await load()).run(rest);
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
