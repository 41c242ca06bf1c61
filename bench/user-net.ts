// User-mode networking throughput, Vireo's --net user against qemu-system-riscv64's -netdev
// user in the same run: a booted Debian guest (same kernel, initrd and root disk) takes a
// DHCP lease, then pipes zeros through busybox nc to a sink the benchmark runs on the host's
// loopback (Vireo: through a guestfwd rule at 10.0.2.2; QEMU: 10.0.2.2 is the host's loopback),
// and receives as many from the host through a hostfwd rule into `nc -l` in the guest.
// Usage: npm run bench:net [-- --mib N]   (MiB each way, default 32, after one untimed MiB)

import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
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
import { sleep } from './vm-state-guest.js';
import type { VmKind } from './vm-process.js';

const GUEST_PORT = 5001;
const GUEST_LISTEN_PORT = 8080;
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

interface Throughput {
  /** MiB/s, guest to host and host to guest. */
  out: number;
  in: number;
}

/** A port that was free a moment ago (QEMU's hostfwd needs one named). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Sends `bytes` zeros to 127.0.0.1:`port` and resolves with the seconds until the guest closed the connection. */
function sendToGuest(port: number, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunk = Buffer.alloc(64 * 1024);
    let left = bytes;
    const pump = (): void => {
      while (left > 0) {
        left -= chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    socket.once('connect', pump);
    socket.resume();
    socket.once('error', (e) => reject(new BenchError('vm-failed', `sending to the guest: ${e.message}`)));
    socket.once('close', () => resolve((performance.now() - started) / 1000));
  });
}

/** Rejects after `ms` with `why`; the timer is cleared when `work` settles. */
async function within<T>(work: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new BenchError('vm-failed', why)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Boots `kind` with user networking, leases an address, sends `mib` MiB to the sink and receives as many from the host. */
async function measure(kind: VmKind, image: DebianImage, dir: string, sink: Sink, sinkPort: number, mib: number): Promise<Throughput> {
  const disk = await rootOverlay(image, dir, kind.replace(/\W/g, '-'));
  const [command, args] = vmCommand(kind, guestBoot(image, disk, MEMORY_MIB));
  const hostPort = await freePort();
  const net = kind === 'qemu'
    ? ['-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${hostPort}-:${GUEST_LISTEN_PORT}`, '-device', 'virtio-net-device,netdev=n0']
    : ['--net', `user,guestfwd=tcp:10.0.2.2:${GUEST_PORT}-127.0.0.1:${sinkPort},hostfwd=tcp:127.0.0.1:${hostPort}-:${GUEST_LISTEN_PORT}`];
  const vm = new VmProcess(kind, [command, [...args, ...net]]);
  try {
    await vm.waitFor(PROMPT, BOOT_TIMEOUT_MS);
    const lease = await vm.run('ip link set eth0 up; udhcpc -i eth0 -n -q -t 5 >/dev/null 2>&1; echo udhcpc=$?', 60_000);
    if (!/udhcpc=0/.test(lease)) throw new BenchError('vm-failed', `${kind}: udhcpc got no lease: ${lease.trim()}`);
    const port = kind === 'qemu' ? sinkPort : GUEST_PORT;
    // One untimed MiB first: the guest's network code is then translated (Vireo) and warm.
    const warm = sink.expect(MiB);
    vm.type(`dd if=/dev/zero bs=64k count=16 2>/dev/null | nc 10.0.2.2 ${port}`);
    await within(warm, 600_000, `${kind}: the sink did not get the warm-up MiB within 10 minutes`);
    await vm.run('true', 120_000);
    const done = sink.expect(mib * MiB);
    vm.type(`dd if=/dev/zero bs=64k count=${mib * 16} 2>/dev/null | nc 10.0.2.2 ${port}`);
    const outSeconds = await within(done, 600_000, `${kind}: the sink did not get ${mib} MiB within 10 minutes`);
    await vm.run('true', 120_000);
    // The guest listens and counts; the host sends and waits for the guest to close.
    const counted = vm.run(`nc -l -p ${GUEST_LISTEN_PORT} | wc -c`, 600_000);
    await sleep(2000);
    const inSeconds = await within(sendToGuest(hostPort, mib * MiB), 600_000, `${kind}: the guest did not take ${mib} MiB within 10 minutes`);
    const text = await counted;
    const received = Number(/(\d+)\s*$/.exec(text)?.[1]);
    if (received !== mib * MiB) throw new BenchError('wrong-result', `${kind}: the guest counted ${received} bytes, not ${mib * MiB}: ${JSON.stringify(text.slice(-500))}`);
    return { out: mib / outSeconds, in: mib / inSeconds };
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
    const reference = qemu ? await measure('qemu', image, dir, sink, sinkPort, mib) : null;
    console.log(`\nTCP through user-mode networking: ${mib} MiB of zeros each way, busybox nc in a Debian ${image.versions.kernelRelease} guest, one hart; ${qemu ?? `${QEMU} not installed`}`);
    const row = (label: string, pick: (t: Throughput) => number): string[] => [label, pick(vireo).toFixed(2), reference ? pick(reference).toFixed(2) : 'n/a', reference ? ratio(pick(vireo) / pick(reference)) : 'n/a'];
    console.log(formatTable(['', 'vireo', 'qemu', 'vireo/qemu'], [
      row('guest -> host, dd | nc to 10.0.2.2 (MiB/s)', (t) => t.out),
      row('host -> guest, hostfwd to nc -l (MiB/s)', (t) => t.in),
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
