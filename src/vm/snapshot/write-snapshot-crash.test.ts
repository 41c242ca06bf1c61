import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSnapshot, writeSnapshot } from './snapshot-file.js';
import { refused, sparseRam } from '../../../tests/snapshot/snapshot-test-support.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vireo-snapshot-crash-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function descriptionAt(path: string): Promise<unknown> {
  const snapshot = await openSnapshot(path);
  await snapshot.readRam(new Uint8Array(snapshot.ramSize));
  await snapshot.close();
  return snapshot.description;
}

// The child writes a snapshot over an existing one and kills itself (SIGKILL, no cleanup) once
// the first RAM chunk is on disk.
const CHILD = `
import { randomFillSync } from 'node:crypto';
const { writeSnapshot } = await import(process.argv[1]);
const ram = new Uint8Array(16 * 1024 * 1024);
for (let p = 0; p < 4096; p += 2) randomFillSync(ram, p * 4096, 4096);
await writeSnapshot(process.argv[2], { description: 'new', state: {}, ram }, {
  onProgress: () => process.kill(process.pid, 'SIGKILL'),
});
`;

describe('writing a snapshot', () => {
  it('killed midway leaves the previous snapshot in place, and its .tmp is not taken for a snapshot', async () => {
    const path = join(dir, 'vm.snap');
    const { ram } = sparseRam(1024 * 1024, 10);
    await writeSnapshot(path, { description: 'old', state: {}, ram });

    const writer = new URL('./write-snapshot.js', import.meta.url).href;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, writer, path], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.signal, 'SIGKILL', `the writer should have been killed: ${child.stderr}`);

    assert.equal(await descriptionAt(path), 'old');
    assert.ok(existsSync(`${path}.tmp`), 'the killed writer left its unfinished file');
    await refused(openSnapshot(`${path}.tmp`), 'truncated', /never finished/);

    await writeSnapshot(path, { description: 'newer', state: {}, ram });
    assert.equal(await descriptionAt(path), 'newer');
    assert.ok(!existsSync(`${path}.tmp`), 'a finished write leaves no .tmp');
  });

  it('that fails removes its unfinished file and keeps the previous snapshot', async () => {
    const path = join(dir, 'failing.snap');
    const { ram } = sparseRam(4 * 1024 * 1024, 600);
    await writeSnapshot(path, { description: 'old', state: {}, ram });
    const failure = new Error('stop');
    await assert.rejects(
      writeSnapshot(path, { description: 'new', state: {}, ram }, { onProgress: () => { throw failure; } }),
      (e: unknown) => e === failure,
    );
    assert.ok(!existsSync(`${path}.tmp`));
    assert.equal(await descriptionAt(path), 'old');
  });
});
