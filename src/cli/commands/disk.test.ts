// `vireo disk` end to end: images it makes and changes agree with qemu-img (check, info,
// convert), and bad input gives a clear message and exit status, never a stack trace.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDisk } from './disk.js';
import { UsageError } from '../usage-error.js';
import { Qcow2Image } from '../../storage/qcow2/qcow2-image.js';
import { assertSameBytes, pattern, qemuCheck, qemuImg, qemuInfo, qemuIo, qemuRaw } from '../../../tests/storage/qemu-img.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-disk-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const fresh = (ext = 'qcow2') => join(dir, `img-${counter++}.${ext}`);
const K = 1024;
const M = 1024 * K;
const VIREO = fileURLToPath(new URL('../../../../bin/vireo.js', import.meta.url));

interface Outcome { status: number; stdout: string; stderr: string }

/** Runs `vireo disk ARGS` in this process; a UsageError becomes status 2 as main() makes it. */
async function disk(...args: string[]): Promise<Outcome> {
  return diskWith(false, args);
}

async function diskWith(stderrIsTty: boolean, args: string[]): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const io = { out: (t: string) => { stdout += t; }, err: (t: string) => { stderr += t; }, stderrIsTty };
  try {
    return { status: await runDisk(args, io), stdout, stderr };
  } catch (e) {
    if (e instanceof UsageError) return { status: 2, stdout, stderr: `vireo ${e.command}: ${e.message}\n` };
    throw e;
  }
}

async function ok(...args: string[]): Promise<string> {
  const r = await disk(...args);
  assert.equal(r.status, 0, `vireo disk ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

async function json<T>(...args: string[]): Promise<T> {
  return JSON.parse(await ok(...args, '--json')) as T;
}

/** Runs the real executable, for exit statuses and what reaches the terminal. */
function vireo(...args: string[]): Outcome {
  const r = spawnSync(process.execPath, [VIREO, 'disk', ...args], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function assertClean(path: string): void {
  const check = qemuCheck(path);
  assert.deepEqual({ corruptions: check.corruptions, leaks: check.leaks }, { corruptions: 0, leaks: 0 }, `qemu-img check ${path}`);
}

async function writeQcow2(path: string, offset: number, data: Uint8Array): Promise<void> {
  const image = await Qcow2Image.open(path);
  try {
    await image.write(offset, data);
  } finally {
    await image.close();
  }
}

/** A raw image with data, a zero gap and data at the end. */
function rawWithData(size: number): string {
  const path = fresh('raw');
  const bytes = new Uint8Array(size);
  bytes.set(pattern(100 * K, 1), 3 * K);
  bytes.set(pattern(64 * K, 2), size - 64 * K);
  writeFileSync(path, bytes);
  return path;
}

test('create makes qcow2 and raw images that qemu-img check accepts and qemu-img info agrees with', async () => {
  const qcow2 = fresh();
  const created = await json<Record<string, unknown>>('create', qcow2, '1.5G', '--cluster-size', '4K');
  assert.deepEqual(created, { filename: qcow2, format: 'qcow2', virtualSize: 1.5 * 1024 * M, clusterSize: 4096, backingFile: null, backingFormat: null });
  assertClean(qcow2);
  const info = qemuInfo(qcow2);
  assert.equal(info['virtual-size'], 1.5 * 1024 * M);
  assert.equal(info['cluster-size'], 4096);
  assert.equal(info.format, 'qcow2');

  const raw = fresh('raw');
  assert.match(await ok('create', '-f', 'raw', raw, '3M'), /virtual size: 3 MiB \(3145728 bytes\)/);
  assert.equal(statSync(raw).size, 3 * M);
  assert.equal(qemuInfo(raw).format, 'raw');

  // An overlay takes its size from the backing file; the format is detected and stored.
  const overlay = fresh();
  const out = await ok('create', '-b', qcow2.split('/').pop()!, overlay);
  assert.match(out, /backing file: img-\d+\.qcow2 \(qcow2\)/);
  assertClean(overlay);
  const overlayInfo = qemuInfo(overlay);
  assert.equal(overlayInfo['virtual-size'], 1.5 * 1024 * M);
  assert.equal(overlayInfo['backing-filename'], qcow2.split('/').pop());
  assert.equal(overlayInfo['backing-filename-format'], 'qcow2');
  const rawOverlay = fresh();
  await ok('create', '-b', raw, '-F', 'raw', rawOverlay, '8M');
  assert.equal(qemuInfo(rawOverlay)['backing-filename-format'], 'raw');
  assert.equal(qemuInfo(rawOverlay)['virtual-size'], 8 * M);
});

test('convert raw -> qcow2 -> raw is byte-identical, and qemu-img reads the qcow2 identically', async () => {
  const raw = rawWithData(4 * M);
  const original = readFileSync(raw);
  const qcow2 = fresh();
  const toQcow2 = await json<{ dataBytes: number; virtualSize: number; format: string }>('convert', '-O', 'qcow2', raw, qcow2);
  assert.equal(toQcow2.format, 'qcow2');
  assert.equal(toQcow2.virtualSize, 4 * M);
  assert.ok(toQcow2.dataBytes < 4 * M / 2, `zeros were left unallocated (${toQcow2.dataBytes} bytes written)`);
  assertClean(qcow2);
  assertSameBytes(qemuRaw(qcow2), original, 'qemu-img convert of the qcow2');
  const back = fresh('raw');
  await ok('convert', '-f', 'qcow2', '-O', 'raw', qcow2, back);
  assertSameBytes(readFileSync(back), original, 'the round trip');
  // Small clusters: zero detection at a finer grain still gives the same bytes.
  const small = fresh();
  await ok('convert', '-O', 'qcow2', '--cluster-size', '512', raw, small);
  assertClean(small);
  assertSameBytes(qemuRaw(small), original, 'qcow2 with 512-byte clusters');
});

test('convert flattens a backing chain, and reports progress with --progress', async () => {
  const base = fresh();
  qemuImg('create', '-q', '-f', 'qcow2', base, '2M');
  qemuIo(base, 'write -P 0x11 0 1M', 'write -P 0x12 1536k 64k');
  const overlay = fresh();
  qemuImg('create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', overlay);
  qemuIo(overlay, 'write -P 0x21 512k 100k', 'write -z 0 64k');
  const expected = qemuRaw(overlay);
  for (const format of ['qcow2', 'raw']) {
    const flat = fresh(format);
    const r = await disk('convert', '-O', format, '--progress', overlay, flat);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^convert: 0%\n/);
    assert.match(r.stderr, /convert: 100%\n$/);
    const info = qemuInfo(flat);
    assert.equal(info['backing-filename'], undefined, 'the copy has no backing file');
    assertSameBytes(format === 'raw' ? readFileSync(flat) : qemuRaw(flat), expected, `flattened ${format}`);
  }
});

test('commit puts the overlay\'s data (and zeroed ranges) into the base and empties the overlay', async () => {
  for (const baseFormat of ['qcow2', 'raw'] as const) {
    const base = fresh(baseFormat);
    qemuImg('create', '-q', '-f', baseFormat, base, '4M');
    if (baseFormat === 'qcow2') qemuIo(base, 'write -P 0x11 0 2M');
    else writeFileSync(base, Buffer.concat([Buffer.alloc(2 * M, 0x11), Buffer.alloc(2 * M)]));
    const overlay = fresh();
    await ok('create', '-b', base, overlay);
    qemuIo(overlay, 'write -P 0x22 100k 300k', 'write -z 1m 128k', 'write -P 0x33 3m 4k');
    const expected = qemuRaw(overlay);
    const result = await json<{ base: string; committedBytes: number; emptied: boolean }>('commit', overlay);
    assert.equal(result.base, base);
    assert.equal(result.emptied, true);
    assert.ok(result.committedBytes >= 300 * K + 128 * K + 4 * K && result.committedBytes < 1 * M, `committed ${result.committedBytes}`);
    assertSameBytes(qemuRaw(base, baseFormat), expected, `the ${baseFormat} base after commit`);
    assertSameBytes(qemuRaw(overlay), expected, 'the overlay after commit');
    if (baseFormat === 'qcow2') assertClean(base);
    assertClean(overlay);
    const image = await Qcow2Image.open(overlay, { readOnly: true });
    assert.deepEqual(await image.allocationMap(), [{ offset: 0, length: 4 * M, state: 'unallocated' }], 'the overlay is empty');
    await image.close();
    assert.equal(qemuInfo(overlay)['backing-filename'], base);
  }
});

test('commit prints progress when stderr is a terminal, and nothing there otherwise', async () => {
  const base = fresh();
  await ok('create', base, '4M');
  const overlays = [fresh(), fresh()];
  for (const overlay of overlays) {
    await ok('create', '-b', base, overlay);
    await writeQcow2(overlay, 0, pattern(3 * M, 4));
  }
  const onTty = await diskWith(true, ['commit', overlays[0]!]);
  assert.equal(onTty.status, 0, onTty.stderr);
  const lines = onTty.stderr.trim().split('\n');
  assert.deepEqual([lines[0], lines.at(-1)], ['commit: 0%', 'commit: 100%']);
  assert.ok(lines.length >= 3 && lines.every((l) => /^commit: \d+%$/.test(l)), onTty.stderr);
  const quiet = await disk('commit', overlays[1]!);
  assert.equal(quiet.stderr, '');
});

test('commit grows a smaller base, and keeps an overlay with snapshots as it is', async () => {
  const base = fresh();
  await ok('create', base, '1M');
  const overlay = fresh();
  await ok('create', '-b', base, overlay, '3M');
  await writeQcow2(overlay, 2 * M, pattern(64 * K, 5));
  await ok('snapshot', 'create', overlay, 'keep');
  const expected = qemuRaw(overlay);
  const r = await disk('commit', overlay);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /overlay: +kept as it was \(it has internal snapshots\)/);
  assert.equal(qemuInfo(base)['virtual-size'], 3 * M);
  assertSameBytes(qemuRaw(base), expected, 'the grown base');
  assertSameBytes(qemuRaw(overlay), expected, 'the kept overlay');
  assertClean(base);
  assertClean(overlay);
});

test('clone makes an overlay on the template; writing to the clone leaves the template identical', async () => {
  const template = rawWithData(2 * M);
  const before = readFileSync(template);
  const clone = fresh();
  const result = await json<{ filename: string; backingFile: string; backingFormat: string }>('clone', template, clone);
  assert.deepEqual(result, { filename: clone, backingFile: template, backingFormat: 'raw' });
  await writeQcow2(clone, 10 * K, pattern(200 * K, 9));
  assertSameBytes(readFileSync(template), before, 'the template');
  const cloneBytes = qemuRaw(clone);
  assertSameBytes(cloneBytes.subarray(10 * K, 210 * K), pattern(200 * K, 9), 'the clone\'s write');
  assertSameBytes(cloneBytes.subarray(300 * K), before.subarray(300 * K), 'the clone reads the template elsewhere');
  assertClean(clone);
  // A relative template is stored relative to the clone's directory, so qemu-img finds it.
  mkdirSync(join(dir, 'sub'));
  const name = template.split('/').pop()!;
  const r = spawnSync(process.execPath, [VIREO, 'disk', 'clone', '--json', name, 'sub/c.qcow2'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { backingFile: string }).backingFile, `../${name}`);
  assertSameBytes(qemuRaw(join(dir, 'sub', 'c.qcow2')), before, 'the clone in another directory');
  const refused = await disk('clone', template, clone);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /exists; remove it or choose another path/);
});

test('snapshot create, list, revert and delete through the CLI', async () => {
  const path = fresh();
  await ok('create', path, '1M');
  await writeQcow2(path, 0, pattern(64 * K, 1));
  assert.deepEqual(await json('snapshot', 'create', path, 'first'), { filename: path, action: 'create', snapshot: 'first' });
  await writeQcow2(path, 0, pattern(64 * K, 2));
  const list = await json<Array<{ id: string; name: string; virtualSize: number; date: string }>>('snapshot', 'list', path);
  assert.equal(list.length, 1);
  assert.equal(list[0]!.name, 'first');
  assert.equal(list[0]!.virtualSize, 1 * M);
  assert.ok(Math.abs(Date.parse(list[0]!.date) - Date.now()) < 60_000);
  assert.match(qemuImg('snapshot', '-l', path), /first/);
  assert.match(await ok('snapshot', 'list', path), /^ID +NAME +SIZE +DATE\n1 +first +1048576 /);
  assert.match(await ok('snapshot', 'revert', path, 'first'), /snapshot reverted to: first/);
  assertSameBytes(qemuRaw(path).subarray(0, 64 * K), pattern(64 * K, 1), 'reverted contents');
  await ok('snapshot', 'delete', path, '1');
  assert.deepEqual(await json('snapshot', 'list', path), []);
  assertClean(path);
  const missing = await disk('snapshot', 'revert', path, 'nope');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /has no snapshot named "nope"/);
  const raw = fresh('raw');
  await ok('create', '-f', 'raw', raw, '1M');
  const onRaw = await disk('snapshot', 'create', raw, 's');
  assert.equal(onRaw.status, 1);
  assert.match(onRaw.stderr, /is a raw image, which has no snapshots; convert it to qcow2/);
});

test('resize grows qcow2 and raw images, to a size or by +SIZE, and refuses to shrink', async () => {
  const qcow2 = fresh();
  await ok('create', qcow2, '1M');
  await writeQcow2(qcow2, 0, pattern(4 * K, 3));
  assert.deepEqual(await json('resize', qcow2, '3G'), { filename: qcow2, oldSize: 1 * M, virtualSize: 3 * 1024 * M });
  assert.equal(qemuInfo(qcow2)['virtual-size'], 3 * 1024 * M);
  assertClean(qcow2);
  const raw = fresh('raw');
  await ok('create', '-f', 'raw', raw, '1M');
  await ok('resize', raw, '+512K');
  assert.equal(statSync(raw).size, 1.5 * M);
  const shrink = await disk('resize', qcow2, '1M');
  assert.equal(shrink.status, 1);
  assert.match(shrink.stderr, /cannot shrink/);
  assert.equal(qemuInfo(qcow2)['virtual-size'], 3 * 1024 * M);
});

test('info --json has the documented fields, with the backing chain and snapshots', async () => {
  const base = rawWithData(1 * M);
  const middle = fresh();
  await ok('create', '-b', base, middle);
  const top = fresh();
  await ok('create', '-b', middle, top, '2M');
  await ok('snapshot', 'create', top, 'snap');
  const info = await json<Record<string, unknown>>('info', top);
  assert.deepEqual(Object.keys(info).sort(), ['actualSize', 'backingChain', 'backingFile', 'backingFormat', 'clusterSize', 'corrupt', 'dirty', 'fileSize', 'filename', 'format', 'snapshots', 'version', 'virtualSize']);
  assert.equal(info.format, 'qcow2');
  assert.equal(info.virtualSize, 2 * M);
  assert.equal(info.version, 3);
  assert.equal(info.clusterSize, 65536);
  assert.equal(info.fileSize, statSync(top).size);
  assert.equal(typeof info.actualSize, 'number');
  assert.equal(info.backingFile, middle);
  assert.equal(info.backingFormat, 'qcow2');
  assert.deepEqual(info.backingChain, [{ filename: middle, format: 'qcow2', virtualSize: 1 * M }, { filename: base, format: 'raw', virtualSize: 1 * M }]);
  assert.equal((info.snapshots as Array<{ name: string }>)[0]!.name, 'snap');
  assert.equal(info.dirty, false);
  assert.equal(info.corrupt, false);
  assert.match(await ok('info', top), /backing 2: +.*raw, 1 MiB/);
  // A missing backing file is reported in the chain, not as a failure.
  rmSync(base);
  const broken = await json<{ backingChain: Array<{ error?: string }> }>('info', top);
  assert.match(broken.backingChain[1]!.error ?? '', /no such file/);
});

test('-f raw reads a raw disk a guest wrote a qcow2 header into as raw, not through the backing file it names', async () => {
  const secret = fresh('raw');
  writeFileSync(secret, Buffer.alloc(64 * K, 0x53));
  // What a guest can write into its raw disk: a qcow2 header naming a host file.
  const header = fresh();
  qemuImg('create', '-q', '-f', 'qcow2', '-b', secret, '-F', 'raw', header, '1M');
  const guestDisk = fresh('raw');
  const guestBytes = Buffer.alloc(1 * M);
  readFileSync(header).copy(guestBytes);
  writeFileSync(guestDisk, guestBytes);
  const out = fresh('raw');
  await ok('convert', '-f', 'raw', '-O', 'raw', guestDisk, out);
  assertSameBytes(readFileSync(out), guestBytes, 'the raw copy');
  assert.equal((await json<{ format: string; backingChain: unknown[] }>('info', '-f', 'raw', guestDisk)).format, 'raw');
  const clone = fresh();
  assert.equal((await json<{ backingFormat: string }>('clone', '-F', 'raw', guestDisk, clone)).backingFormat, 'raw');
  assertSameBytes(qemuRaw(clone), guestBytes, 'the clone reads the disk as raw');
  // Detected, the header is believed: the reason to name the format.
  const detected = fresh('raw');
  await ok('convert', '-O', 'raw', guestDisk, detected);
  assert.equal(readFileSync(detected)[0], 0x53);
});

test('check reports a clean image, and corruption with exit status 4', async () => {
  const path = fresh();
  await ok('create', path, '1M');
  await writeQcow2(path, 0, pattern(64 * K, 1));
  assert.deepEqual(await json('check', path), { filename: path, format: 'qcow2', clean: true, corruptions: 0, leaks: 0, repairedLeaks: 0, problems: [] });
  assert.match(await ok('check', rawWithData(256 * K)), /no errors were found/);
  // Point the first L2 entry at a misaligned host offset.
  const header = readFileSync(path);
  const l1Offset = Number(header.readBigUInt64BE(40));
  const l2Offset = Number(header.readBigUInt64BE(l1Offset) & 0x00fffffffffffe00n);
  const bytes = readFileSync(path);
  bytes.writeBigUInt64BE((1n << 63n) | 0x10200n, l2Offset);
  writeFileSync(path, bytes);
  const r = await disk('check', path);
  assert.equal(r.status, 4, r.stdout + r.stderr);
  assert.match(r.stdout, /the image is corrupt/);
});

test('check reports leaked clusters with exit status 3, and --repair frees them', async () => {
  const path = fresh();
  await ok('create', path, '1M');
  // One more cluster at the end of the file with refcount 1 and nothing pointing at it.
  const bytes = readFileSync(path);
  const cluster = bytes.length / 65536;
  const block = Number(bytes.readBigUInt64BE(Number(bytes.readBigUInt64BE(48))));
  bytes.writeUInt16BE(1, block + cluster * 2);
  writeFileSync(path, Buffer.concat([bytes, Buffer.alloc(65536)]));
  assert.equal(qemuCheck(path).leaks, 1);
  const found = await disk('check', '--json', path);
  assert.equal(found.status, 3);
  const { problems, ...counts } = JSON.parse(found.stdout) as { problems: string[] };
  assert.deepEqual(counts, { filename: path, format: 'qcow2', clean: false, corruptions: 0, leaks: 1, repairedLeaks: 0 });
  assert.equal(problems.length, 1);
  const repaired = await disk('check', '--repair', path);
  assert.equal(repaired.status, 0, repaired.stdout);
  assert.match(repaired.stdout, /repaired leaks: +1\n/);
  assertClean(path);
});

test('bad input gives a clear message and exit status, never a stack trace', async () => {
  const notImage = fresh('txt');
  writeFileSync(notImage, 'hello, not a disk\n');
  const truncated = fresh();
  await ok('create', truncated, '64M');
  await writeQcow2(truncated, 0, pattern(1 * M, 1));
  truncateSync(truncated, 200 * K);
  const existing = fresh();
  await ok('create', existing, '1M');
  const shortHeader = fresh();
  writeFileSync(shortHeader, readFileSync(existing).subarray(0, 100));
  const cases: Array<[string[], number, RegExp]> = [
    [['info', join(dir, 'missing.qcow2')], 1, /vireo disk info: cannot open disk image .*missing\.qcow2: no such file/],
    [['info', notImage], 1, /is not a disk image: it is not qcow2 and its size \(18 bytes\) is not a multiple of 512/],
    [['info', dir], 1, /is not a regular file/],
    [['convert', '-O', 'raw', truncated, fresh('raw')], 1, /vireo disk convert: qcow2 image .* is corrupt: .*past the end of the file/],
    [['info', shortHeader], 1, /vireo disk info: qcow2 image .* is corrupt: the version 3 header is cut short/],
    [['check', truncated], 4, /L2 table 0 of the active L1 table at \d+ lies past the end of the file/],
    [['create', existing, '1M'], 1, /exists; remove it or choose another path/],
    [['commit', existing], 1, /has no backing file to commit into/],
    [['create', fresh(), '10Q'], 2, /vireo disk create: the size must be a number of bytes with an optional suffix K, M, G or T .*got '10Q'/],
    [['create', fresh(), '1000'], 2, /multiple of 512/],
    [['create', fresh(), '1M', '--cluster-size', '3K'], 2, /--cluster-size must be a power of two/],
    [['create', '-f', 'vmdk', fresh(), '1M'], 2, /--format takes raw or qcow2, got 'vmdk'/],
    [['resize', existing, 'big'], 2, /got 'big'/],
    [['convert', existing, fresh()], 2, /missing -O raw\|qcow2/],
    [['snapshot', 'rename', existing], 2, /unknown action 'rename'/],
    [['snapshot', 'create', existing], 2, /missing NAME/],
    [['frobnicate'], 2, /vireo disk: unknown verb 'frobnicate'/],
    [['info'], 2, /missing FILE/],
    [['info', existing, 'extra'], 2, /unexpected argument extra/],
    [['info', '--bogus', existing], 2, /unknown option --bogus/],
  ];
  for (const [args, status, message] of cases) {
    const r = await disk(...args);
    assert.equal(r.status, status, `vireo disk ${args.join(' ')}: ${r.stderr}`);
    assert.match(status === 4 ? r.stdout : r.stderr, message);
  }
  // Through the executable: the exit status, the usage hint, and no stack trace.
  for (const [args, status, message] of [cases[0]!, cases[7]!]) {
    const r = vireo(...args);
    assert.equal(r.status, status, `vireo disk ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /internal error|\n +at /, 'no stack trace');
    if (status === 2) assert.match(r.stderr, /Run 'vireo disk create --help' for usage\.\n$/);
  }
  assert.ok(existsSync(existing));
});

test('help: vireo disk --help lists every verb, and each verb has its own help', async () => {
  const top = await ok('--help');
  for (const verb of ['create', 'info', 'check', 'snapshot', 'clone', 'resize', 'convert', 'commit']) {
    assert.match(top, new RegExp(`\\n  ${verb} +\\S`));
    assert.match(await ok(verb, '--help'), new RegExp(`^Usage: vireo disk ${verb}`));
  }
  assert.match(vireo('--help').stdout, /^Usage: vireo disk <verb>/);
  const main = spawnSync(process.execPath, [VIREO, '--help'], { encoding: 'utf8' });
  assert.match(main.stdout, /\n  disk +Create, inspect, convert and change raw and qcow2 disk images\n/);
});
