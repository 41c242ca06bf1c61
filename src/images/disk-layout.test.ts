import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PARTITION_TYPES, planDiskLayout, sfdiskScript, writeRawDisk } from './disk-layout.js';

const MiB = 1024 * 1024;

test('the layout: boot from 1 MiB, root right after it, 1 MiB left for the backup GPT', () => {
  const layout = planDiskLayout(384 * MiB, 4096 * MiB);
  assert.deepEqual(layout.partitions.map((p) => [p.name, p.offset / MiB, p.size / MiB, p.bootable]), [['boot', 1, 384, true], ['root', 385, 4096, false]]);
  assert.equal(layout.size, (1 + 384 + 4096 + 1) * MiB);
  assert.equal(layout.partitions[1]!.type, PARTITION_TYPES.rootRiscv64);
  assert.throws(() => planDiskLayout(384 * MiB + 512, MiB), /whole number of MiB/);
  assert.throws(() => planDiskLayout(0, MiB), /whole number of MiB/);
});

test('sfdisk gets sectors, names, and the legacy-BIOS-bootable attribute on the boot partition only', () => {
  const script = sfdiskScript(planDiskLayout(2 * MiB, 3 * MiB));
  assert.equal(script, [
    'label: gpt',
    `start=2048, size=4096, type=${PARTITION_TYPES.linux}, name="boot", attrs="LegacyBIOSBootable"`,
    `start=6144, size=6144, type=${PARTITION_TYPES.rootRiscv64}, name="root"`,
    '',
  ].join('\n'));
});

test('writeRawDisk lays the file systems at their partitions, readable back through sfdisk', { skip: spawnSync('sh', ['-c', 'command -v sfdisk || test -x /usr/sbin/sfdisk || test -x /sbin/sfdisk']).status !== 0 && 'sfdisk is not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-layout-'));
  try {
    const boot = join(dir, 'boot.img');
    const root = join(dir, 'root.img');
    writeFileSync(boot, Buffer.concat([Buffer.from('BOOT'), Buffer.alloc(2 * MiB - 4)]));
    writeFileSync(root, Buffer.concat([Buffer.alloc(MiB), Buffer.from('ROOT'), Buffer.alloc(2 * MiB - 4)]));
    const disk = join(dir, 'disk.raw');
    const layout = planDiskLayout(2 * MiB, 3 * MiB);
    await writeRawDisk(disk, layout, [boot, root]);
    assert.equal(statSync(disk).size, layout.size);
    const bytes = readFileSync(disk);
    assert.equal(bytes.toString('latin1', 512, 520), 'EFI PART');
    assert.equal(bytes.toString('latin1', MiB, MiB + 4), 'BOOT');
    assert.equal(bytes.toString('latin1', 3 * MiB + MiB, 3 * MiB + MiB + 4), 'ROOT');
    const dump = spawnSync('sh', ['-c', 'PATH=$PATH:/usr/sbin:/sbin sfdisk -d "$1"', 'sh', disk], { encoding: 'utf8' });
    assert.equal(dump.status, 0, dump.stderr);
    assert.match(dump.stdout, /start=\s*2048, size=\s*4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, .*name="boot", attrs="LegacyBIOSBootable"/);
    assert.match(dump.stdout, /start=\s*6144, size=\s*6144, type=72EC70A6-CF74-40E6-BD49-4BDA08E8F224, .*name="root"/);
    // A file system of the wrong size is refused rather than cut.
    await assert.rejects(writeRawDisk(join(dir, 'bad.raw'), planDiskLayout(MiB, 3 * MiB), [boot, root]), /is 2097152 bytes, but the boot partition is 1048576/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
