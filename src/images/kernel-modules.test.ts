import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImageError } from './image-error.js';
import { collectModules, findKernelTree } from './kernel-modules.js';
import { parseModinfo } from './module-deps.js';
import { findOnPath } from './run-tool.js';
import { fakeModule } from './testing/fake-module.js';

const VERSION = '6.12.0-test-riscv64';

/** An unpacked kernel package as Debian ships it: compressed modules, modules.builtin, no modules.dep. */
function fakeKernelPackage(root: string): void {
  const dir = join(root, 'usr/lib/modules', VERSION);
  const put = (path: string, modinfo: string[], compress: 'xz' | 'gz' | 'none'): void => {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    const elf = fakeModule([...modinfo, `name=${path.split('/').pop()!.split('.')[0]}`]);
    if (compress === 'gz') writeFileSync(`${full}.gz`, gzipSync(elf));
    else if (compress === 'none') writeFileSync(full, elf);
    else {
      const xz = spawnSync('xz', ['-c', '--check=crc32'], { input: elf });
      assert.equal(xz.status, 0);
      writeFileSync(`${full}.xz`, xz.stdout);
    }
  };
  put('kernel/fs/ext4/ext4.ko', ['depends=mbcache,jbd2,crc16', 'softdep=pre: crc32c'], 'xz');
  put('kernel/fs/jbd2/jbd2.ko', ['depends='], 'xz');
  put('kernel/fs/mbcache.ko', ['depends='], 'gz');
  put('kernel/lib/crc16.ko', ['depends='], 'none');
  put('kernel/crypto/crc32c_generic.ko', ['depends=', 'alias=crypto-crc32c'], 'xz');
  put('kernel/drivers/char/hw_random/virtio-rng.ko', ['depends='], 'xz');
  put('kernel/drivers/block/virtio_blk.ko', ['depends=virtio,virtio_ring'], 'xz');
  put('kernel/sound/unused.ko', ['depends=nothing_here'], 'xz');
  writeFileSync(join(dir, 'modules.builtin'), 'kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/char/virtio_console.ko\n');
}

test('modules are collected from their .modinfo, decompressed, dependencies first', { skip: findOnPath('xz') ? false : 'xz is not installed' }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'vireo-kernel-'));
  try {
    fakeKernelPackage(root);
    const tree = findKernelTree(root);
    assert.deepEqual(tree, { version: VERSION, modulesDir: join(root, 'usr/lib/modules', VERSION) });
    const set = await collectModules(tree, ['crc32c_generic', 'ext4', 'virtio_blk', 'virtio_rng', 'virtio_console']);
    assert.deepEqual(set.modules.map((m) => m.name), ['crc32c_generic', 'mbcache', 'jbd2', 'crc16', 'ext4', 'virtio_blk', 'virtio_rng']);
    assert.deepEqual(set.modules.map((m) => m.path).slice(0, 2), ['kernel/crypto/crc32c_generic.ko', 'kernel/fs/mbcache.ko']);
    for (const m of set.modules) assert.equal(parseModinfo(m.data).get('name')?.[0], m.path.split('/').pop()!.split('.')[0], `${m.name} decompressed`);
    assert.match(set.modulesDep, /^kernel\/fs\/ext4\/ext4\.ko: kernel\/fs\/mbcache\.ko kernel\/fs\/jbd2\/jbd2\.ko kernel\/lib\/crc16\.ko$/m);
    await assert.rejects(collectModules(tree, ['virtio_net']), (e: unknown) => e instanceof ImageError && e.kind === 'bad-modules' && /virtio_net/.test(e.message));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a package without lib/modules is reported', () => {
  const root = mkdtempSync(join(tmpdir(), 'vireo-kernel-'));
  try {
    assert.throws(() => findKernelTree(root), (e: unknown) => e instanceof ImageError && e.kind === 'bad-package');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
