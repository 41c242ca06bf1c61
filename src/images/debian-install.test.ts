import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORE_PACKAGES, installOrder } from './debian-install.js';
import type { InstallPackage } from './debian-install.js';

const pkg = (name: string, required: boolean, version = '1.0'): InstallPackage => ({ name, version, deb: `/cache/archives/${name}_${version}_riscv64.deb`, required });

test('core packages come first in debootstrap order, then the other required ones, then the rest', () => {
  // Given in apt's (alphabetical) order, with dpkg at a version of its own.
  const packages = [
    pkg('apt', false), pkg('base-files', true), pkg('base-passwd', true), pkg('coreutils', true), pkg('dash', true),
    pkg('debconf', true), pkg('dpkg', true, '1.22.21'), pkg('hello', false), pkg('libc6', true), pkg('mawk', true), pkg('perl-base', true), pkg('systemd', false),
  ];
  const order = installOrder(packages);
  assert.deepEqual(order.core.map((f) => f.split('_')[0]), [...CORE_PACKAGES]);
  assert.equal(order.core[2], 'dpkg_1.22.21_riscv64.deb');
  assert.equal(order.dpkgVersion, '1.22.21');
  assert.deepEqual(order.required, ['coreutils_1.0_riscv64.deb', 'dash_1.0_riscv64.deb']);
  assert.deepEqual(order.base, ['apt_1.0_riscv64.deb', 'hello_1.0_riscv64.deb', 'systemd_1.0_riscv64.deb']);
});

test('a package set without a core package is refused, naming what is missing', () => {
  assert.throws(() => installOrder([pkg('dpkg', true), pkg('libc6', true)]), /lacks the core packages base-passwd, base-files, perl-base, mawk, debconf/);
});
