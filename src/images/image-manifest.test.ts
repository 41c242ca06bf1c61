import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageError } from './image-error.js';
import { checkOutputs, parseManifest } from './image-manifest.js';
import type { ImageManifest } from './image-manifest.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const FILES = { firmware: 'fw_jump.bin', kernel: 'vmlinux', initrd: 'initrd.img', rootDisk: 'rootfs.ext4' } as const;

function sample(): ImageManifest {
  return {
    format: 1,
    image: 'debian-trixie-riscv64',
    suite: 'trixie',
    architecture: 'riscv64',
    mirror: { host: 'mirror.example', uri: 'http://mirror.example/debian' },
    kernelVersion: '6.12.117+deb13-riscv64',
    modules: ['crc16', 'ext4'],
    packages: [
      { name: 'linux-image-6.12.117+deb13-riscv64', version: '6.12.117-1', architecture: 'riscv64', sha256: sha('kernel.deb'), size: 10, use: 'kernel' },
      { name: 'busybox-static', version: '1:1.37.0-6+b9', architecture: 'riscv64', sha256: sha('busybox.deb'), size: 11, use: 'busybox' },
    ],
    outputs: Object.fromEntries(Object.entries(FILES).map(([name, file]) => [name, { file, sha256: sha(file), size: file.length }])) as ImageManifest['outputs'],
    builtAt: '2025-01-01T00:00:00.000Z',
  };
}

const badManifest = (e: unknown): boolean => e instanceof ImageError && e.kind === 'bad-manifest';

test('a complete manifest survives a JSON round trip unchanged', () => {
  const manifest = sample();
  assert.deepEqual(parseManifest(JSON.parse(JSON.stringify(manifest))), manifest);
});

test('malformed manifests are rejected with the field at fault', () => {
  const cases: Array<[string, (m: Record<string, any>) => void, RegExp]> = [
    ['wrong format', (m) => (m.format = 2), /format/],
    ['no packages', (m) => (m.packages = []), /packages/],
    ['short hash', (m) => (m.packages[1].sha256 = 'abc'), /packages\[1\]\.sha256/],
    ['upper-case hash', (m) => (m.outputs.kernel.sha256 = m.outputs.kernel.sha256.toUpperCase()), /outputs\.kernel\.sha256/],
    ['unknown use', (m) => (m.packages[0].use = 'other'), /packages\[0\]\.use/],
    ['missing output', (m) => delete m.outputs.initrd, /outputs\.initrd/],
    ['negative size', (m) => (m.outputs.rootDisk.size = -1), /outputs\.rootDisk\.size/],
    ['path in file name', (m) => (m.outputs.firmware.file = '../../etc/passwd'), /outputs\.firmware\.file/],
    ['no kernel version', (m) => (m.kernelVersion = ''), /kernelVersion/],
    ['no mirror', (m) => delete m.mirror, /mirror/],
  ];
  for (const [what, spoil, field] of cases) {
    const manifest = JSON.parse(JSON.stringify(sample()));
    spoil(manifest);
    assert.throws(() => parseManifest(manifest), (e: unknown) => badManifest(e) && field.test((e as Error).message), what);
  }
  assert.throws(() => parseManifest(null), badManifest);
  assert.throws(() => parseManifest([]), badManifest);
});

test('outputs are checked for presence, size and sha256', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-manifest-'));
  try {
    const manifest = sample();
    for (const file of Object.values(FILES)) writeFileSync(join(dir, file), file);
    assert.deepEqual(await checkOutputs(dir, manifest), []);
    rmSync(join(dir, FILES.firmware));
    writeFileSync(join(dir, FILES.kernel), 'vmlinux and more');
    writeFileSync(join(dir, FILES.initrd), 'INITRD.IMG'); // same size, different bytes
    assert.deepEqual(await checkOutputs(dir, manifest), [
      'fw_jump.bin is missing',
      'vmlinux has 16 bytes, the manifest says 7',
      'initrd.img does not match its sha256 in the manifest',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
