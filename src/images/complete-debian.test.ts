import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILDER_REVISION, completeImageDirectory, ensureCompleteDebian } from './complete-debian.js';
import { ImageError } from './image-error.js';

const IMAGE = Buffer.from('QFI\xfb a stand-in for the qcow2 image');

/** A cache holding a "complete" image: the manifest matches the image file. */
function fakeCache(revision = BUILDER_REVISION): { cacheRoot: string; dir: string } {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'vireo-complete-'));
  const dir = completeImageDirectory({ cacheRoot });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'debian.qcow2'), IMAGE);
  writeFileSync(join(dir, 'password'), 'generated-secret\n', { mode: 0o600 });
  const hash = createHash('sha256').update(IMAGE).digest('hex');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({
    format: 1, image: 'debian-trixie-riscv64-complete', suite: 'trixie', architecture: 'riscv64',
    mirror: { host: 'mirror.example', uri: 'http://mirror.example/debian' }, kernelVersion: '6.12.117+deb13-riscv64',
    configuration: { revision, hostname: 'vireo-debian', user: 'debian', password: 'generated', authorizedKeys: 0, sizeGiB: 4, kernelParameters: 'ro console=ttyS0' },
    packages: [{ name: 'hello', version: '2.10-5', architecture: 'riscv64', sha256: hash, size: 1, required: false }],
    output: { file: 'debian.qcow2', sha256: hash, size: IMAGE.length, format: 'qcow2' },
    filesystems: { rootUuid: 'r', bootUuid: 'b' }, times: { total: 1 }, builtAt: '',
  }));
  return { cacheRoot, dir };
}

const UNUSABLE_MIRROR = 'file:/nonexistent/debian';

test('a complete cache is only verified, and --output copies the image out', async () => {
  const { cacheRoot, dir } = fakeCache();
  try {
    const output = join(cacheRoot, 'copy.qcow2');
    const steps: string[] = [];
    const image = await ensureCompleteDebian({ cacheRoot, mirror: UNUSABLE_MIRROR, output, onProgress: (step) => steps.push(step) });
    assert.equal(image.built, false);
    assert.equal(image.image, join(dir, 'debian.qcow2'));
    assert.equal(image.passwordFile, join(dir, 'password'));
    assert.equal(image.user, 'debian');
    assert.deepEqual(readFileSync(output), IMAGE);
    assert.deepEqual(steps, ['check', 'done', 'output']);
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});

/** Asserts that ensureCompleteDebian starts a build (which fails on the unusable mirror) for the reason given, keeping the manifest. */
async function assertRebuilt(cacheRoot: string, dir: string, reason: RegExp): Promise<void> {
  const details: string[] = [];
  await assert.rejects(
    ensureCompleteDebian({ cacheRoot, mirror: UNUSABLE_MIRROR, onProgress: (step, detail) => details.push(`${step}: ${detail}`) }),
    (e: unknown) => e instanceof ImageError && ['mirror-unreachable', 'missing-tool'].includes(e.kind),
  );
  assert.ok(details.some((d) => reason.test(d)), details.join('\n'));
  assert.ok(existsSync(join(dir, 'manifest.json')));
  assert.ok(!existsSync(join(dir, '.lock')), 'the lock is released');
}

test('a damaged image is rebuilt (here failing on the unusable mirror), and the manifest is kept until a build succeeds', async () => {
  const { cacheRoot, dir } = fakeCache();
  try {
    writeFileSync(join(dir, 'debian.qcow2'), 'QFI\xfb changed by a VM that booted the cached image');
    await assertRebuilt(cacheRoot, dir, /^check: building: debian\.qcow2 has changed size/);
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});

test('an image from an older revision of the builder is built again', async () => {
  const { cacheRoot, dir } = fakeCache(BUILDER_REVISION - 1);
  try {
    await assertRebuilt(cacheRoot, dir, new RegExp(`^check: building: built by revision ${BUILDER_REVISION - 1} of the builder, not ${BUILDER_REVISION}`));
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});

test('each configuration has its own cache directory; secrets change it but never appear in it', () => {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'vireo-complete-'));
  try {
    const password = (text: string): string => {
      const path = join(cacheRoot, `pw-${text}`);
      writeFileSync(path, `${text}\n`);
      return path;
    };
    const base = completeImageDirectory({ cacheRoot });
    assert.equal(base, join(cacheRoot, 'images', 'debian-trixie-riscv64-complete'));
    const dirs = [
      completeImageDirectory({ cacheRoot, user: 'alice' }),
      completeImageDirectory({ cacheRoot, sizeGiB: 8 }),
      completeImageDirectory({ cacheRoot, passwordFile: password('one') }),
      completeImageDirectory({ cacheRoot, passwordFile: password('two') }),
    ];
    for (const dir of dirs) assert.match(dir, /debian-trixie-riscv64-complete-[0-9a-f]{12}$/);
    assert.equal(new Set([base, ...dirs]).size, 5);
    assert.equal(completeImageDirectory({ cacheRoot, passwordFile: password('one') }), dirs[2]);
    assert.ok(!dirs[2]!.includes('one'));
    assert.throws(() => completeImageDirectory({ cacheRoot, sizeGiB: 1 }), /--size must be a whole number of GiB from 2/);
    assert.throws(() => completeImageDirectory({ cacheRoot, passwordFile: password('') }), /is empty/);
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});
