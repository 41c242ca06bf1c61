import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withSavedPowerButton } from './restore-vm.js';
import { checkVmDescription, VM_DESCRIPTION_VERSION, VmDescriptionError, type VmDescription } from './vm-description.js';

const GOOD: VmDescription = {
  version: VM_DESCRIPTION_VERSION,
  ramMiB: 512,
  boot: { kernel: { path: '/k', sha256: 'ab' }, initrd: { path: '/i' }, bootargs: 'console=ttyS0' },
  disks: [{ path: '/d.qcow2', format: 'qcow2', readOnly: false, serial: 'vireo-disk-0', limits: { iops: 100 } }],
  network: { mac: '52:54:00:12:34:56' },
  shares: [{ root: '/s', tag: 'data', readOnly: true }],
  console: 'ttyS0',
  translation: 'on',
};

test('a description read from a snapshot is checked field by field before a board is built from it', () => {
  assert.deepEqual(checkVmDescription(JSON.parse(JSON.stringify(GOOD))), GOOD);
  const shared = { ...GOOD, network: { mac: '52:54:00:12:34:57', switch: '/run/sw.sock' }, cpu: { capPercent: 30 } };
  assert.deepEqual(checkVmDescription(JSON.parse(JSON.stringify(shared))), shared);
  const bad: Array<[unknown, RegExp]> = [
    [null, /not an object/],
    [{ ...GOOD, version: 2 }, /version 2/],
    [{ ...GOOD, ramMiB: -1 }, /memory size/],
    [{ ...GOOD, boot: {} }, /no kernel/],
    [{ ...GOOD, disks: [{ ...GOOD.disks[0], limits: null }] }, /malformed disks/],
    [{ ...GOOD, disks: [{ ...GOOD.disks[0], limits: { iops: -5 } }] }, /bad I\/O limits for \/d\.qcow2/],
    [{ ...GOOD, disks: [{ ...GOOD.disks[0], format: 'vmdk' }] }, /malformed disks/],
    [{ ...GOOD, network: { mac: 7 } }, /malformed network/],
    [{ ...GOOD, network: { mac: '52:54:00:12:34:56', switch: 5 } }, /malformed network/],
    [{ ...GOOD, cpu: { capPercent: 2 } }, /CPU cap/],
    [{ ...GOOD, cpu: {} }, /CPU cap/],
    [{ ...GOOD, network: { mac: 'm', mode: 'tap' } }, /unknown network mode tap/],
    [{ ...GOOD, network: { mac: 'm', mode: 'user' } }, /user networking without its options/],
    [{ ...GOOD, network: { mac: 'm', mode: 'user', user: { hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 99999, guestPort: 22 }], guestForwards: [] } } }, /bad user networking options: hostfwd/],
    [{ ...GOOD, shares: [{ root: '/s', tag: 'x' }] }, /malformed shares/],
    [{ ...GOOD, console: 'tty9' }, /unknown console/],
    [{ ...GOOD, translation: 'fast' }, /translation mode/],
    [{ ...GOOD, powerButton: 'yes' }, /malformed powerButton/],
    [{ ...GOOD, memMerge: 'on' }, /malformed memMerge/],
  ];
  for (const [value, message] of bad) assert.throws(() => checkVmDescription(value), (e: Error) => e instanceof VmDescriptionError && message.test(e.message), JSON.stringify(value));
});

test('a description with user networking and its forwarding rules checks out', () => {
  const user: VmDescription = { ...GOOD, network: { mac: '52:54:00:12:34:56', mode: 'user', user: { hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 22 }], guestForwards: [{ protocol: 'tcp', guestPort: 80, hostAddress: '127.0.0.1', hostPort: 8080 }], dnsServers: [{ address: '127.0.0.1', port: 53 }] } } };
  assert.deepEqual(checkVmDescription(JSON.parse(JSON.stringify(user))), user);
});

test('a snapshot saved before boards had a power button restores onto a board without one', () => {
  const old = { virtio: [{ device: 'virtio-blk' }, { device: 'virtio-rng' }] };
  assert.equal(withSavedPowerButton(GOOD, old).powerButton, false);
  assert.equal(withSavedPowerButton(GOOD, { virtio: [...old.virtio, { device: 'virtio-input' }] }).powerButton, undefined);
  assert.equal(withSavedPowerButton({ ...GOOD, powerButton: false }, { virtio: [{ device: 'virtio-input' }] }).powerButton, false);
  assert.equal(checkVmDescription({ ...GOOD, powerButton: false }).powerButton, false);
});
