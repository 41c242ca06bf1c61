import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunArguments } from './run-arguments.js';
import { UsageError } from '../usage-error.js';

test('--net host and --net user with forwarding rules', () => {
  assert.equal(parseRunArguments([])!.net, undefined);
  assert.deepEqual(parseRunArguments(['--net', 'host'])!.net, { mode: 'host' });
  assert.deepEqual(parseRunArguments(['--net', 'user,hostfwd=tcp::0-:8080,guestfwd=tcp:10.0.2.2:80-127.0.0.1:8000,dns=127.0.0.1:5353'])!.net, {
    mode: 'user',
    user: {
      hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 8080 }],
      guestForwards: [{ protocol: 'tcp', guestPort: 80, hostAddress: '127.0.0.1', hostPort: 8000 }],
      dnsServers: [{ address: '127.0.0.1', port: 5353 }],
    },
  });
});

test('a bad --net is a usage error naming what is wrong', () => {
  for (const [text, message] of [['tap', /takes 'host'.*'user.*'switch:PATH'/], ['user,hostfwd=tcp:x', /hostfwd takes/], ['user,bogus', /unknown user networking option/]] as const) {
    assert.throws(() => parseRunArguments(['--net', text]), (e: unknown) => e instanceof UsageError && message.test(e.message), text);
  }
});

test('--net switch:PATH puts the NIC on a shared switch', () => {
  assert.deepEqual(parseRunArguments(['--net', 'switch:/run/sw.sock'])!.net, { mode: 'switch', path: '/run/sw.sock' });
  for (const bad of ['switch:', 'switch']) {
    assert.throws(() => parseRunArguments(['--net', bad]), (e: unknown) => e instanceof UsageError && /switch:PATH/.test(e.message), bad);
  }
});

test('--cpu-cap takes a percent of one core, from 5 to 100 per CPU', () => {
  assert.equal(parseRunArguments([])!.cpuCap, undefined);
  assert.equal(parseRunArguments(['--cpu-cap', '30'])!.cpuCap, 30);
  assert.equal(parseRunArguments(['--cpu-cap', '12.5'])!.cpuCap, 12.5);
  assert.equal(parseRunArguments(['--cpu-cap', '350'])!.cpuCap, 350);
  for (const bad of ['4', '801', '0', '30%', 'half', '']) {
    assert.throws(() => parseRunArguments(['--cpu-cap', bad]), (e: unknown) => e instanceof UsageError && /5 to 100 per CPU/.test(e.message), bad);
  }
});

test('--cpus takes 1 to 8', () => {
  assert.equal(parseRunArguments([])!.cpus, undefined);
  assert.equal(parseRunArguments(['--cpus', '4'])!.cpus, 4);
  for (const bad of ['0', '9', 'two', '1.5']) {
    assert.throws(() => parseRunArguments(['--cpus', bad]), (e: unknown) => e instanceof UsageError && /--cpus takes/.test(e.message), bad);
  }
});

test('--balloon is on by default and takes on or off; a restore brings its own', () => {
  assert.equal(parseRunArguments([])!.balloon, true);
  assert.equal(parseRunArguments(['--balloon', 'off'])!.balloon, false);
  assert.equal(parseRunArguments(['--balloon', 'on'])!.balloon, true);
  assert.throws(() => parseRunArguments(['--balloon', 'yes']), /--balloon takes on or off/);
  assert.throws(() => parseRunArguments(['--restore', 'x.vmstate', '--balloon', 'off']), /--balloon does not apply with --restore/);
});

test('--mem-merge is on by default and takes on or off; a restore brings its own', () => {
  assert.equal(parseRunArguments([])!.memMerge, true);
  assert.equal(parseRunArguments(['--mem-merge', 'off'])!.memMerge, false);
  assert.throws(() => parseRunArguments(['--mem-merge', 'no']), /--mem-merge takes on or off/);
  assert.throws(() => parseRunArguments(['--incoming', 'tcp:127.0.0.1:0', '--mem-merge', 'off']), /--mem-merge does not apply with --incoming/);
});

test('a disk image as the only argument boots through U-Boot; it combines with machine options, not with a kernel', () => {
  assert.equal(parseRunArguments([])!.image, undefined);
  const args = parseRunArguments(['-m', '1G', '--cpus', '2', '--disk', 'data.qcow2', '--net', 'user', 'debian.img'])!;
  assert.equal(args.image, 'debian.img');
  assert.equal(args.ramMiB, 1024);
  assert.equal(args.disks[0]?.path, 'data.qcow2');
  assert.equal(parseRunArguments(['debian.img', '--bios', 'fw.bin'])!.bios, 'fw.bin');
  assert.throws(() => parseRunArguments(['a.img', 'b.img']), (e: unknown) => e instanceof UsageError && /unexpected argument b\.img/.test(e.message));
  for (const [option, value] of [['--kernel', 'vmlinux'], ['--initrd', 'initrd.img'], ['--append', 'quiet']] as const) {
    assert.throws(() => parseRunArguments([option, value, 'debian.img']), (e: unknown) => e instanceof UsageError && /U-Boot takes the kernel/.test(e.message), option);
  }
  assert.throws(() => parseRunArguments(['--restore', 'x.vmstate', 'debian.img']), /--restore does not apply with a disk image/);
  assert.throws(() => parseRunArguments(['--bios', 'none', 'debian.img']), /--bios none does not apply/);
});
