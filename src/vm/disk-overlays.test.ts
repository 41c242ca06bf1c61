import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { overlayWritableDisks } from './disk-overlays.js';

test('VMs restored from one snapshot at the same moment each get an overlay of their own; read-only disks get none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-overlays-'));
  try {
    const base = join(dir, 'base.raw');
    writeFileSync(base, Buffer.alloc(1 << 20, 7));
    const disks = [
      { path: base, format: 'raw' as const, readOnly: false, serial: 'a', limits: {} },
      { path: base, format: 'raw' as const, readOnly: true, serial: 'b', limits: {} },
    ];
    const all = await Promise.all([0, 1, 2, 3].map(() => overlayWritableDisks(disks, () => join(dir, 'vm.snap.disk0'))));
    assert.ok(all.every((overlays) => overlays.length === 1 && overlays[0]!.index === 0));
    const paths = all.map((overlays) => overlays[0]!.path).sort();
    assert.deepEqual(paths, ['vm.snap.disk0-2.qcow2', 'vm.snap.disk0-3.qcow2', 'vm.snap.disk0-4.qcow2', 'vm.snap.disk0.qcow2'].map((f) => join(dir, f)));
    for (const [overlay] of all) {
      const data = new Uint8Array(512);
      await overlay!.backend.read(0, data);
      assert.ok(data.every((b) => b === 7), 'an overlay does not read through to its base');
      await overlay!.backend.write(0, new Uint8Array(512));
      await overlay!.backend.close();
    }
    assert.ok(readFileSync(base).every((b) => b === 7), 'the base changed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
