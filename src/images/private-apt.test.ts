import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debFileName, dependencyNames, PrivateApt } from './private-apt.js';

test('.deb names follow apt-get download: epoch colon written %3a', () => {
  assert.equal(debFileName({ name: 'busybox-static', version: '1:1.37.0-6+b9', architecture: 'riscv64' }), 'busybox-static_1%3a1.37.0-6+b9_riscv64.deb');
  assert.equal(debFileName({ name: 'opensbi', version: '1.6-1', architecture: 'all' }), 'opensbi_1.6-1_all.deb');
});

test('Depends fields split into alternatives without versions or arch qualifiers', () => {
  assert.deepEqual(dependencyNames('linux-image-6.12.117+deb13-riscv64 (= 6.12.117-1)'), [['linux-image-6.12.117+deb13-riscv64']]);
  assert.deepEqual(dependencyNames('libc6 (>= 2.38), libssl3t64 | libssl3, python3:any'), [['libc6'], ['libssl3t64', 'libssl3'], ['python3']]);
  assert.deepEqual(dependencyNames(''), []);
});

test('the private configuration names one suite and architecture and keeps apt away from the host state', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-apt-'));
  try {
    const apt = new PrivateApt({ dir, mirror: { uri: 'http://mirror.example/debian', host: 'mirror.example' }, keyring: '/k/debian.gpg', suite: 'trixie', architecture: 'riscv64' });
    apt.writeConfig();
    assert.equal(readFileSync(join(dir, 'etc', 'sources.list'), 'utf8'), 'deb [arch=riscv64 signed-by=/k/debian.gpg] http://mirror.example/debian trixie main\n');
    const config = readFileSync(join(dir, 'etc', 'apt.conf'), 'utf8');
    assert.match(config, /^APT::Architecture "riscv64";$/m);
    assert.match(config, /^APT::Architectures "riscv64";$/m);
    assert.match(config, new RegExp(`^Dir::State::status "${join(dir, 'state', 'status')}";$`, 'm'));
    assert.equal(readFileSync(join(dir, 'state', 'status'), 'utf8'), '', 'an empty dpkg status');
    // Every directory apt writes to is under the private root.
    for (const [, path] of config.matchAll(/^Dir::\S+ "([^"]+)";$/gm)) assert.ok(path!.startsWith(dir), path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
