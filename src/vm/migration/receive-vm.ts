// The destination side of live migration: waits for one source, builds the board from its
// description (boot files checked, disks awaited), takes RAM pages as they come, and at the
// handover opens the disks, restores the machine state and says the VM runs here. A source
// that goes away or sends nonsense ends the wait with an error; nothing has run here then.

import { createServer, type Server, type Socket } from 'node:net';
import { decodePages } from '../snapshot/page-chunk.js';
import { checkVmDescription } from '../vm-description.js';
import { VirtualMachine, type VmIo } from '../virtual-machine.js';
import { readBootFiles, type BootRole } from '../boot-files.js';
import { MessageType, MigrationChannel, MigrationError } from './migration-channel.js';
import { helloProblem, type FinalMessage, type HelloMessage } from './migration-protocol.js';
import { awaitedDisk } from './awaited-disk.js';
import { round1 } from './send-vm.js';
import { applyDiskData } from './disk-mirror.js';
import { createCopies, type DiskCopies } from './disk-copies.js';

const SOURCE_TIMEOUT_MS = 60_000;
/** A destination no source reaches in this time gives up, so one left behind by a failed migration does not wait forever. */
const ACCEPT_TIMEOUT_MS = 600_000;

export interface IncomingOptions {
  readBoot: (role: BootRole, path: string) => Uint8Array;
  io: VmIo;
  /** Told the address once listening (with the port chosen when 0 was asked for). */
  onListening?: (address: string) => void;
  /**
   * This host does not see the source's disks: keep copies here, made during the migration
   * (qcow2, thin), and run the VM on them.
   */
  diskDir?: string;
  /** How long to wait for the source to connect (default 10 minutes). */
  acceptTimeoutMs?: number;
}

export interface ArrivedVm {
  vm: VirtualMachine;
  /** Where the destination's part of the pause went: opening the disks, restoring the state. */
  handover: { disksMs: number; stateMs: number };
}

export async function receiveVm(listen: { host: string; port: number }, options: IncomingOptions): Promise<ArrivedVm> {
  const socket = await acceptOne(listen, options.acceptTimeoutMs ?? ACCEPT_TIMEOUT_MS, options.onListening);
  const channel = new MigrationChannel(socket, 'the migration source');
  let vm: VirtualMachine | null = null;
  let handover = { disksMs: 0, stateMs: 0 };
  let copies: DiskCopies | null = null;
  try {
    const hello = await channel.receiveJson<HelloMessage>(MessageType.HELLO, SOURCE_TIMEOUT_MS);
    const problem = helloProblem(hello);
    if (problem) throw new MigrationError(`cannot take this VM: ${problem}`);
    const description = checkVmDescription(hello.description);
    if (hello.ramSize !== description.ramMiB * 1024 * 1024 || hello.disks.length !== description.disks.length) {
      throw new MigrationError('cannot take this VM: its RAM or disks do not match its description');
    }
    const boot = readBootFiles(description, options.readBoot);
    vm = await VirtualMachine.create(description, boot, options.io, {
      openDisk: async (disk, i) => awaitedDisk(disk.path, disk.format ?? 'raw', hello.disks[i]!),
      emptyRam: true, // the source sends every page that is not zero
      readBoot: options.readBoot,
    });
    const ram = vm.machine.ram;
    if (options.diskDir !== undefined) copies = await createCopies(options.diskDir, description.disks, hello.disks);
    await channel.send(MessageType.READY, { copyDisks: copies !== null });

    for (;;) {
      const message = await channel.receive(SOURCE_TIMEOUT_MS);
      if (message.type === MessageType.PAGES) await decodePages(message.payload, ram);
      else if (message.type === MessageType.DISK_DATA && copies) await applyDiskData(message.payload, copies.images);
      else if (message.type === MessageType.ROUND_END) await channel.send(MessageType.ROUND_APPLIED, {});
      else if (message.type === MessageType.FINAL) {
        const started = performance.now();
        const final = JSON.parse(Buffer.from(message.payload).toString('utf8')) as FinalMessage;
        const handed = checkVmDescription(final.description);
        await vm.takeOverDisks(copies ? await copies.finish(handed.disks) : handed.disks);
        const disksAt = performance.now();
        vm.machine.restoreState(final.state);
        handover = { disksMs: round1(disksAt - started), stateMs: round1(performance.now() - disksAt) };
        break;
      } else {
        const why = message.type === MessageType.ABORT ? 'the source gave up' : `the source sent message ${message.type} out of turn`;
        throw new MigrationError(`migration failed: ${why}; nothing ran here`);
      }
    }
    await channel.send(MessageType.RUNNING, {});
    socket.end();
    return { vm, handover };
  } catch (e) {
    await channel.send(MessageType.ABORT, { error: (e as Error).message }).catch(() => {});
    channel.close();
    await vm?.close();
    await copies?.discard();
    throw e instanceof MigrationError ? e : new MigrationError(`migration failed: ${(e as Error).message}; nothing ran here`, { cause: e });
  }
}

function acceptOne(listen: { host: string; port: number }, timeoutMs: number, onListening?: (address: string) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      server.close();
      reject(new MigrationError(`no migration source connected within ${timeoutMs / 1000} s; nothing ran here`));
    }, timeoutMs);
    const server: Server = createServer({ pauseOnConnect: false }, (socket) => {
      clearTimeout(timer);
      server.close();
      resolve(socket);
    });
    server.once('error', (e) => {
      clearTimeout(timer);
      reject(new MigrationError(`cannot listen on tcp:${listen.host}:${listen.port}: ${e.message}`));
    });
    server.listen(listen.port, listen.host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : listen.port;
      onListening?.(`tcp:${listen.host}:${port}`);
    });
  });
}
