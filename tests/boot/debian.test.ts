// Boots Debian's own riscv64 kernel, OpenSBI and userland (the default guest image, built from
// Debian's packages on first use) and drives it through the serial console like a user would.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage, type DebianImage } from '../../src/images/debian-image.js';
import { FileBlockBackend } from '../../src/storage/file-block-backend.js';
import { VirtualSwitch } from '../../src/net/virtual-switch.js';
import { IcmpResponder } from '../../src/net/icmp-responder.js';
import { macAddress, macToBytes } from '../../src/net/mac-address.js';
import { ipv4Address } from '../../src/net/ipv4.js';
import { GuestSession } from '../support/guest-session.js';
import { repoRoot } from '../support/riscv-toolchain.js';
import { wasmMemoryRss } from '../support/wasm-memory-rss.js';

const BOOT_MS = 300_000;
const PROMPT = /root@vireo:[^\n]*# $/;

let image: DebianImage | undefined;
async function debianImage(): Promise<DebianImage> {
  image ??= await ensureDebianImage();
  return image;
}

/** A private copy of the pristine root disk, so tests never change the cached image. */
function scratchDisk(base: string): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-boot-'));
  const path = join(dir, 'root.ext4');
  copyFileSync(base, path);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A Debian VM on the test's own copy of the root disk, optionally with a NIC on `hub`. */
function debianGuest(img: DebianImage, backend: FileBlockBackend, hub?: VirtualSwitch, hvc?: { text: string }): GuestSession {
  return new GuestSession({
    firmware: readFileSync(img.firmware),
    kernel: readFileSync(img.kernel),
    initrd: readFileSync(img.initrd),
    ramMiB: 512,
    bootargs: 'console=ttyS0 root=/dev/vda rw quiet',
    virtio: {
      disks: [{ backend, serial: 'vireo-root' }],
      nics: hub ? [{ port: hub.createPort({ name: 'guest' }), mac: macToBytes(macAddress('52:54:00:12:34:56')) }] : [],
      ...(hvc ? { console: { write: (byte: number) => { hvc.text += String.fromCharCode(byte); } } } : {}),
      balloon: true,
    },
  });
}

const MiB = 1 << 20;

/** Polls `check` every 500 ms until it holds; false after `ms`. */
async function within(ms: number, check: () => boolean): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 500))) if (check()) return true;
  return check();
}

test('Debian boots to a shell; entropy and network work; a reboot restarts it; a file survives power off', { timeout: 900_000 }, async () => {
  const img = await debianImage();
  const disk = scratchDisk(img.rootDisk);
  const backend = FileBlockBackend.open(disk.path);
  const hub = new VirtualSwitch();
  const host = new IcmpResponder(hub, { mac: macAddress('52:54:00:00:02:02'), ip: ipv4Address('10.0.2.2'), delivery: 'microtask' });
  const token = `vireo-${Date.now()}`;
  const hvc = { text: '' };
  let guest = debianGuest(img, backend, hub, hvc);
  try {
    await guest.waitFor(PROMPT, BOOT_MS);

    assert.match(await guest.run('uname -a'), /^Linux vireo 6\.\d+\.\d+\S*-riscv64 .* riscv64 GNU\/Linux$/m);
    const cpuinfo = await guest.run('cat /proc/cpuinfo');
    assert.match(cpuinfo, /^isa\s+: rv64imafdc/m);
    assert.match(cpuinfo, /^mmu\s+: sv48$/m);
    assert.match(await guest.run('cat /proc/mounts'), /^\/dev\/vda \/ ext4 rw/m);

    // virtio-rng: 64 bytes from the host's CSPRNG, not all the same.
    const random = (await guest.run('head -c 64 /dev/hwrng | od -An -tx1 | tr -d " \\n"')).trim();
    assert.match(random, /^[0-9a-f]{128}$/);
    assert.ok(new Set(random.match(/../g)).size > 8, `hwrng bytes look constant: ${random}`);

    // virtio-console: what the guest writes to hvc0 reaches the host's sink.
    await guest.run('echo vireo-hvc-check > /dev/hvc0');
    assert.match(hvc.text, /vireo-hvc-check/);

    // virtio-net through the virtual switch to the host endpoint, which answers ARP and ping.
    await guest.run('ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0');
    assert.match(await guest.run('ping -c 3 -W 5 10.0.2.2'), /3 packets transmitted, 3 (packets )?received/);
    assert.ok(host.counters.echoRepliesSent >= 3, 'the host endpoint answered the pings');

    // virtio-balloon: 64 MiB the guest writes in tmpfs and then frees is reported (Linux waits
    // about 2 s, then reports whole free 2 MiB blocks) and leaves the host's memory.
    assert.match(await guest.run('ls /sys/bus/virtio/drivers/virtio_balloon'), /virtio\d/);
    const balloon = guest.machine.virtio.balloon!;
    await guest.run('head -c 64M /dev/zero > /dev/shm/fill');
    const filledRss = wasmMemoryRss();
    const discardedBefore = balloon.counters.discardedBytes;
    await guest.run('rm /dev/shm/fill');
    const reported = await within(30_000, () => balloon.counters.discardedBytes - discardedBefore >= 48 * MiB);
    const freedRss = filledRss - wasmMemoryRss();
    assert.ok(reported, `the guest gave back ${(balloon.counters.discardedBytes - discardedBefore) / MiB} MiB of the 64 it freed`);
    // The guest goes on running meanwhile and reuses some of what it freed: half is a sure floor.
    assert.ok(freedRss >= 32 * MiB, `guest RAM's host RSS fell by ${(freedRss / MiB).toFixed(1)} MiB after the guest freed 64 MiB`);
    assert.equal(balloon.counters.faults, 0);
    assert.match(await guest.run('head -c 16M /dev/zero > /dev/shm/again && md5sum /dev/shm/again && rm /dev/shm/again'), /^2c7ab85a893283e98c931e9511add182 /m, 'discarded pages are usable again');

    // Write a file to the ext4 root disk and sync it.
    await guest.run(`echo ${token} > /root/persist.txt && sync`);

    // reboot: the board resets and the guest boots again.
    const before = guest.output.length;
    guest.type('reboot -f');
    await guest.waitFor(/OpenSBI v\d/, BOOT_MS, before);
    await guest.waitFor(PROMPT, BOOT_MS, before);

    // poweroff ends the run as a pass (exit status 0 for vireo run).
    guest.type('poweroff -f');
    const result = await guest.exit(120_000);
    assert.equal(result.reason, 'pass');
    assert.equal(result.resets, 1);

    // A new VM on the same disk reads the file back.
    guest = debianGuest(img, backend);
    await guest.waitFor(PROMPT, BOOT_MS);
    assert.equal((await guest.run('cat /root/persist.txt')).trim(), token);
    guest.type('poweroff -f');
    assert.equal((await guest.exit(120_000)).reason, 'pass');
  } finally {
    await guest.stop();
    await backend.close();
    disk.cleanup();
  }
});

test('vireo run boots the Debian guest on a terminal-less console and exits 0 on poweroff', { timeout: 600_000 }, async () => {
  const img = await debianImage();
  const disk = scratchDisk(img.rootDisk);
  try {
    const child = spawn(process.execPath, [
      join(repoRoot(), 'bin', 'vireo.js'), 'run', '--kernel', img.kernel, '--initrd', img.initrd,
      '--disk', disk.path, '--append', 'console=ttyS0 root=/dev/vda rw quiet',
    ], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + BOOT_MS;
    while (!PROMPT.test(output)) {
      if (Date.now() > deadline) throw new Error(`no shell prompt; output:\n${output.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.stdin.write('poweroff -f\n');
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 120_000).unref())]);
    if (code === 'timeout') child.kill('SIGKILL');
    assert.equal(code, 0, output.slice(-3000));
    assert.match(output, /reboot: Power down/);
  } finally {
    disk.cleanup();
  }
});

test('the first 500 million instructions of a Debian boot agree in lockstep: every translated block checked against the interpreter', { timeout: 900_000 }, async () => {
  // A whole boot in lockstep takes over ten minutes here; these instructions run OpenSBI and
  // the kernel through its early setup (earlycon prints it) to unpacking the initramfs.
  const img = await debianImage();
  const disk = scratchDisk(img.rootDisk);
  try {
    const r = spawnSync(process.execPath, [
      join(repoRoot(), 'bin', 'vireo.js'), 'run', '--kernel', img.kernel, '--initrd', img.initrd,
      '--disk', disk.path, '--append', 'console=ttyS0 earlycon=sbi root=/dev/vda rw', '--jit', 'lockstep',
      '--max-instructions', '500000000',
    ], { encoding: 'utf8', input: '', timeout: 800_000 });
    const output = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 124, `expected the instruction limit, not a divergence (status 3); output:\n${output.slice(-3000)}`);
    assert.match(output, /Linux version/);
    assert.match(output, /Trying to unpack rootfs image as initramfs/);
    assert.doesNotMatch(output, /lockstep:/);
  } finally {
    disk.cleanup();
  }
});
