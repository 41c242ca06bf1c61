// User-mode networking throughput, Vireo's --net user against qemu-system-riscv64's -netdev
// user in the same run: a booted Debian guest (same kernel, initrd and root disk) takes a
// DHCP lease, then pipes zeros through busybox nc to a sink the benchmark runs on the host's
// loopback (Vireo: through a guestfwd rule at 10.0.2.2; QEMU: 10.0.2.2 is the host's loopback).
// Usage: npm run bench:net [-- --mib N]   (MiB sent per run, default 32)

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDebianImage } from '../src/images/debian-image.js';
import type { DebianImage } from '../src/images/debian-image.js';
import { BenchError } from './bench-error.js';
import { QEMU, qemuVersion } from './qemu-runner.js';
import { formatTable, ratio } from './report.js';
import { MiB, PROMPT, BOOT_TIMEOUT_MS, guestBoot, rootOverlay } from './vm-state-guest.js';
import { VmProcess, vmCommand } from './vm-process.js';
import type { VmKind } from './vm-process.js';

const GUEST_PORT = 5001;
const MEMORY_MIB = 512;

/** A host TCP server that counts what one connection sends, from its first byte to the last expected one. */
class Sink {
  private readonly server: Server;
  private resolveDone: ((seconds: number) => void) | null = null;
  private expected = 0;

  constructor() {
    this.server = createServer((socket) => {
      let bytes = 0;
      let first = 0;
      socket.on('data', (d) => {
        if (bytes === 0) first = performance.now();
        bytes += d.length;
        if (bytes >= this.expected && this.resolveDone) {
          this.resolveDone((performance.now() - first) / 1000);
          this.resolveDone = null;
          socket.end();
        }
      });
      socket.on('end', () => socket.end());
      socket.on('error', () => {});
    });
  }

  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as { port: number }).port;
  }

  /** Seconds from the first byte to the `bytes`-th. */
  expect(bytes: number): Promise<number> {
    this.expected = bytes;
    return new Promise((resolve) => (this.resolveDone = resolve));
  }

  close(): void {
    this.server.close();
  }
}

/** Boots `kind` with user networking, leases an address and sends `mib` MiB to the sink; MiB/s. */
async function measure(kind: VmKind, image: DebianImage, dir: string, sink: Sink, sinkPort: number, mib: number): Promise<number> {
  const disk = await rootOverlay(image, dir, kind.replace(/\W/g, '-'));
  const [command, args] = vmCommand(kind, guestBoot(image, disk, MEMORY_MIB));
  const net = kind === 'qemu'
    ? ['-netdev', 'user,id=n0', '-device', 'virtio-net-device,netdev=n0']
    : ['--net', `user,guestfwd=tcp:10.0.2.2:${GUEST_PORT}-127.0.0.1:${sinkPort}`];
  const vm = new VmProcess(kind, [command, [...args, ...net]]);
  try {
    await vm.waitFor(PROMPT, BOOT_TIMEOUT_MS);
    const lease = await vm.run('ip link set eth0 up; udhcpc -i eth0 -n -q -t 5 >/dev/null 2>&1; echo udhcpc=$?', 60_000);
    if (!/udhcpc=0/.test(lease)) throw new BenchError('vm-failed', `${kind}: udhcpc got no lease: ${lease.trim()}`);
    const port = kind === 'qemu' ? sinkPort : GUEST_PORT;
    const done = sink.expect(mib * MiB);
    vm.type(`dd if=/dev/zero bs=64k count=${mib * 16} 2>/dev/null | nc 10.0.2.2 ${port}`);
    let timer: NodeJS.Timeout | undefined;
    const seconds = await Promise.race([done, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new BenchError('vm-failed', `${kind}: the sink did not get ${mib} MiB within 10 minutes`)), 600_000)))]);
    clearTimeout(timer);
    return mib / seconds;
  } finally {
    await vm.kill();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { mib: { type: 'string' } } });
  const mib = Number(values.mib ?? 32);
  if (!Number.isInteger(mib) || mib < 1) throw new BenchError('usage', `--mib takes a whole number of MiB, got ${values.mib}`);
  const image = await ensureDebianImage();
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-net-'));
  const sink = new Sink();
  try {
    const sinkPort = await sink.listen();
    const qemu = qemuVersion();
    const vireo = await measure('vireo', image, dir, sink, sinkPort, mib);
    const reference = qemu ? await measure('qemu', image, dir, sink, sinkPort, mib) : NaN;
    console.log(`\nGuest -> host TCP through user-mode networking: ${mib} MiB of zeros, dd | busybox nc in a Debian ${image.versions.kernelRelease} guest, one hart; ${qemu ?? `${QEMU} not installed`}`);
    console.log(formatTable(['', 'vireo', 'qemu', 'vireo/qemu'], [
      ['throughput (MiB/s)', vireo.toFixed(2), qemu ? reference.toFixed(2) : 'n/a', qemu ? ratio(vireo / reference) : 'n/a'],
    ]));
  } finally {
    sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof BenchError ? `bench:net: ${e.message}` : e);
  process.exitCode = 1;
});
