import { test, after } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockBackendError, type BlockBackendErrorKind } from './block-backend.js';
import { runBlockBackendConformance } from './block-backend-conformance.js';
import { FileBlockBackend } from './file-block-backend.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-file-backend-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

function image(contents: Uint8Array): string {
  const path = join(dir, `disk-${counter++}.img`);
  writeFileSync(path, contents);
  return path;
}

const isKind = (kind: BlockBackendErrorKind) => (e: unknown) => e instanceof BlockBackendError && e.kind === kind;

runBlockBackendConformance('FileBlockBackend', (contents, { readOnly }) => {
  const backend = FileBlockBackend.open(image(contents), { readOnly });
  return { backend, close: () => backend.close() };
});

test('FileBlockBackend writes reach the file', async () => {
  const path = image(new Uint8Array(1024));
  const b = FileBlockBackend.open(path);
  await b.write(512, Uint8Array.of(1, 2, 3));
  await b.flush();
  await b.close();
  assert.deepEqual([...readFileSync(path).subarray(512, 515)], [1, 2, 3]);
  const again = FileBlockBackend.open(path, { readOnly: true });
  const got = new Uint8Array(3);
  await again.read(512, got);
  assert.deepEqual(got, Uint8Array.of(1, 2, 3));
  await again.close();
});

test('FileBlockBackend explains a missing file, a directory, a bad size', () => {
  assert.throws(() => FileBlockBackend.open(join(dir, 'nope.img')), (e: unknown) => isKind('not-found')(e) && /no such file/.test((e as Error).message));
  assert.throws(() => FileBlockBackend.open(dir, { readOnly: true }), isKind('not-a-file'));
  assert.throws(() => FileBlockBackend.open(dir), isKind('not-a-file'));
  assert.throws(() => FileBlockBackend.open(image(new Uint8Array(1000))), (e: unknown) => isKind('bad-size')(e) && /multiple of 512/.test((e as Error).message));
  assert.throws(() => FileBlockBackend.open(image(new Uint8Array(0))), isKind('bad-size'));
  const err = (() => { try { FileBlockBackend.open(join(dir, 'x.img')); } catch (e) { return e as BlockBackendError; } return null; })();
  assert.equal(err?.path, join(dir, 'x.img'));
  assert.equal(err?.op, 'open');
  assert.ok(err?.cause, 'the fs error is kept as the cause');
});

test('FileBlockBackend opens a write-protected image read-only, and says why it cannot write', { skip: process.getuid?.() === 0 ? 'root ignores file permissions' : false }, async () => {
  const path = image(new Uint8Array(512));
  chmodSync(path, 0o444);
  assert.throws(() => FileBlockBackend.open(path), isKind('open-failed'));
  await FileBlockBackend.open(path, { readOnly: true }).close();
});

test('FileBlockBackend refuses use after close', async () => {
  const b = FileBlockBackend.open(image(new Uint8Array(512)));
  await b.close();
  await b.close();
  await assert.rejects(b.read(0, new Uint8Array(1)), isKind('closed'));
  await assert.rejects(b.flush(), isKind('closed'));
});

test('FileBlockBackend guarding a guessed format refuses a write that would plant a qcow2 header', async () => {
  const path = image(new Uint8Array(1024));
  const b = FileBlockBackend.open(path, { refuseMagic: 0x514649fb });
  const header = Uint8Array.of(0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3);
  await assert.rejects(b.write(0, header), (e: unknown) => isKind('io')(e) && /format=raw/.test((e as Error).message));
  await b.write(512, header);
  await b.write(0, Uint8Array.of(1, 2, 3, 4));
  await b.close();
  assert.deepEqual([...readFileSync(path).subarray(0, 4)], [1, 2, 3, 4]);
});

test('FileBlockBackend refuses a FIFO or a character device at once instead of hanging', () => {
  const fifo = join(dir, 'disk.fifo');
  execFileSync('mkfifo', [fifo]);
  for (const readOnly of [true, false]) {
    assert.throws(() => FileBlockBackend.open(fifo, { readOnly }), (e: unknown) => isKind('not-a-file')(e) && /pipe/.test((e as Error).message));
  }
  assert.throws(() => FileBlockBackend.open('/dev/zero', { readOnly: true }), (e: unknown) => isKind('not-a-file')(e) && /character device/.test((e as Error).message));
});

test('FileBlockBackend serves a host block device with its real size', async (t) => {
  // A loop device over a file stands in for a physical disk; it needs root and the loop driver.
  const backing = image(new Uint8Array(2 * 1024 * 1024).fill(0xab));
  let device: string;
  try {
    device = execFileSync('losetup', ['--find', '--show', backing], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    if (process.getuid?.() === 0) throw e;
    t.skip('losetup needs root');
    return;
  }
  try {
    const disk = FileBlockBackend.open(device, { readOnly: true });
    assert.equal(disk.size, 2 * 1024 * 1024);
    const got = new Uint8Array(512);
    await disk.read(disk.size - 512, got);
    assert.ok(got.every((b) => b === 0xab));
    await disk.close();
  } finally {
    execFileSync('losetup', ['--detach', device]);
  }
});
