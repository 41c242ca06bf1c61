import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage, imageDirectory, isRiscvLinuxImage, vireoCacheRoot } from './debian-image.js';
import type { ImageStep } from './debian-image.js';
import { ImageError } from './image-error.js';
import type { ImageManifest } from './image-manifest.js';

test('the cache root is VIREO_CACHE, else XDG_CACHE_HOME/vireo, else ~/.cache/vireo', () => {
  assert.equal(vireoCacheRoot({ VIREO_CACHE: '/c/v', XDG_CACHE_HOME: '/x' }), '/c/v');
  assert.equal(vireoCacheRoot({ XDG_CACHE_HOME: '/x' }), '/x/vireo');
  assert.equal(vireoCacheRoot({}), join(homedir(), '.cache', 'vireo'));
  assert.equal(imageDirectory('/c/v'), '/c/v/images/debian-trixie-riscv64');
});

test('a RISC-V Linux Image is recognized by its header magic', () => {
  const header = Buffer.alloc(64);
  assert.equal(isRiscvLinuxImage(header), false);
  header.write('RISCV\0\0\0', 0x30, 'latin1');
  assert.equal(isRiscvLinuxImage(header), false);
  header.write('RSC\x05', 0x38, 'latin1');
  assert.equal(isRiscvLinuxImage(header), true);
  assert.equal(isRiscvLinuxImage(header.subarray(0, 0x3b)), false);
});

/** A cache holding stand-in outputs and a manifest that matches them. */
function fakeCache(modules = ['ext4', '9p', '9pnet_virtio', 'evdev', 'virtio_input', 'virtio_balloon'], rootfsRevision: number | null = 5): { cacheRoot: string; dir: string } {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'vireo-image-'));
  const dir = imageDirectory(cacheRoot);
  mkdirSync(dir, { recursive: true });
  const files = { firmware: 'fw_jump.bin', kernel: 'vmlinux', initrd: 'initrd.img', rootDisk: 'rootfs.ext4' };
  const outputs: Record<string, { file: string; sha256: string; size: number }> = {};
  for (const [name, file] of Object.entries(files)) {
    writeFileSync(join(dir, file), `contents of ${file}`);
    outputs[name] = { file, sha256: createHash('sha256').update(`contents of ${file}`).digest('hex'), size: `contents of ${file}`.length };
  }
  const pkg = (name: string, version: string, use: string) => ({ name, version, architecture: 'riscv64', sha256: 'a'.repeat(64), size: 1, use });
  const manifest = {
    format: 1,
    image: 'debian-trixie-riscv64',
    suite: 'trixie',
    architecture: 'riscv64',
    mirror: { host: 'mirror.example', uri: 'http://mirror.example/debian' },
    kernelVersion: '6.12.117+deb13-riscv64',
    modules,
    packages: [pkg('linux-image-6.12.117+deb13-riscv64', '6.12.117-1', 'kernel'), pkg('opensbi', '1.6-1', 'firmware'), pkg('busybox-static', '1:1.37.0-6+b9', 'busybox'), pkg('libc6', '2.41-12', 'userland')],
    outputs,
    builtAt: '2025-01-01T00:00:00.000Z',
    ...(rootfsRevision !== null ? { rootfsRevision } : {}),
  } satisfies Omit<ImageManifest, 'outputs' | 'packages'> & Record<string, unknown>;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return { cacheRoot, dir };
}

test('a complete cache is returned as is, without apt or the network', async () => {
  const { cacheRoot, dir } = fakeCache();
  try {
    const steps: ImageStep[] = [];
    // An unusable mirror: any attempt to fetch would fail the test.
    const image = await ensureDebianImage({ cacheRoot, mirror: 'file:/nonexistent/debian', onProgress: (step) => steps.push(step) });
    assert.equal(image.built, false);
    assert.deepEqual(steps, ['check', 'done']);
    assert.deepEqual([image.firmware, image.kernel, image.initrd, image.rootDisk, image.manifest], ['fw_jump.bin', 'vmlinux', 'initrd.img', 'rootfs.ext4', 'manifest.json'].map((f) => join(dir, f)));
    assert.deepEqual(image.versions, { kernelRelease: '6.12.117+deb13-riscv64', kernel: '6.12.117-1', opensbi: '1.6-1', busybox: '1:1.37.0-6+b9' });
    assert.equal(image.packages.length, 4);
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});

test('a corrupt output is not used: the image is rebuilt (here failing on the unusable mirror)', async () => {
  const { cacheRoot, dir } = fakeCache();
  try {
    writeFileSync(join(dir, 'initrd.img'), 'CONTENTS OF INITRD.IMG');
    const details: string[] = [];
    await assert.rejects(
      ensureDebianImage({ cacheRoot, mirror: 'file:/nonexistent/debian', onProgress: (step, detail) => details.push(`${step}: ${detail}`) }),
      // Without apt or mke2fs on the host, the build stops earlier, naming the package to install.
      (e: unknown) => e instanceof ImageError && (e.kind === 'mirror-unreachable' || e.kind === 'missing-tool'),
    );
    assert.ok(details.includes('check: building: initrd.img does not match its sha256 in the manifest'), details.join('\n'));
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});

test('an image built before the 9p and balloon drivers were added is rebuilt', async () => {
  const { cacheRoot } = fakeCache(['ext4']);
  try {
    const details: string[] = [];
    await assert.rejects(
      ensureDebianImage({ cacheRoot, mirror: 'file:/nonexistent/debian', onProgress: (step, detail) => details.push(`${step}: ${detail}`) }),
      (e: unknown) => e instanceof ImageError && (e.kind === 'mirror-unreachable' || e.kind === 'missing-tool'),
    );
    assert.ok(details.includes('check: building: the cached initrd lacks the drivers 9p, 9pnet_virtio, evdev, virtio_input, virtio_balloon'), details.join('\n'));
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});

for (const revision of [null, 4]) {
  test(`an image whose root disk files are at revision ${String(revision)} (before init= in the initramfs) is rebuilt`, async () => {
    const { cacheRoot } = fakeCache(undefined, revision);
    try {
      const details: string[] = [];
      await assert.rejects(
        ensureDebianImage({ cacheRoot, mirror: 'file:/nonexistent/debian', onProgress: (step, detail) => details.push(`${step}: ${detail}`) }),
        (e: unknown) => e instanceof ImageError && (e.kind === 'mirror-unreachable' || e.kind === 'missing-tool'),
      );
      assert.ok(details.some((d) => d.startsWith('check: building: the cached root disk predates revision 5')), details.join('\n'));
    } finally {
      rmSync(cacheRoot, { recursive: true, force: true });
    }
  });
}

test('with no Debian mirror in the apt sources, the error says how to name one', async () => {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'vireo-image-'));
  const saved = process.env.VIREO_DEBIAN_MIRROR;
  delete process.env.VIREO_DEBIAN_MIRROR;
  try {
    mkdirSync(join(cacheRoot, 'etc-apt'));
    writeFileSync(join(cacheRoot, 'etc-apt', 'sources.list'), 'deb http://archive.example/ubuntu noble main\n');
    await assert.rejects(
      ensureDebianImage({ cacheRoot, aptEtc: join(cacheRoot, 'etc-apt') }),
      (e: unknown) => e instanceof ImageError && (e.kind === 'no-mirror' ? /VIREO_DEBIAN_MIRROR/.test(e.message) : e.kind === 'missing-tool'),
    );
  } finally {
    if (saved !== undefined) process.env.VIREO_DEBIAN_MIRROR = saved;
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});
