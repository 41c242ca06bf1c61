import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageError } from './image-error.js';
import { checkTool, findOnPath, requireTools, runTool } from './run-tool.js';

test('a missing program names the Debian package to install', () => {
  assert.throws(
    () => requireTools(['sh', 'vireo-no-such-tool', 'mke2fs-but-not-really']),
    (e: unknown) => e instanceof ImageError && e.kind === 'missing-tool' && /vireo-no-such-tool, mke2fs-but-not-really are not installed/.test(e.message),
  );
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    // sbin directories are searched even when PATH lacks them, so only a truly absent program fails.
    assert.equal(findOnPath('xz-missing-for-test'), undefined);
  } finally {
    process.env.PATH = saved;
  }
});

test('the package named for a missing program is the one that ships it', async () => {
  await assert.rejects(runTool('vireo-no-such-tool', []), (e: unknown) => e instanceof ImageError && e.kind === 'missing-tool' && /apt-get install vireo-no-such-tool/.test(e.message));
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent'; // apt-get, xz and dpkg-deb live in /usr/bin, so now none is found
  try {
    assert.throws(
      () => requireTools(['apt-get', 'apt-cache', 'xz', 'dpkg-deb']),
      (e: unknown) => e instanceof ImageError && e.kind === 'missing-tool' && /install the Debian packages apt xz-utils dpkg \(apt-get install apt xz-utils dpkg\)/.test(e.message),
    );
  } finally {
    process.env.PATH = saved;
  }
});

test('output and exit status come back; a failure shows the program complaint', async () => {
  const ok = await runTool('sh', ['-c', 'echo one; echo two; echo oops >&2']);
  assert.deepEqual([ok.code, ok.stdout.toString(), ok.stderr], [0, 'one\ntwo\n', 'oops\n']);
  const lines: string[] = [];
  await runTool('sh', ['-c', 'printf "a\\nb\\nc"'], { onLine: (line) => lines.push(line) });
  assert.deepEqual(lines, ['a', 'b', 'c']);
  await assert.rejects(checkTool('sh', ['-c', 'echo "disk full" >&2; exit 3']), (e: unknown) => e instanceof ImageError && e.kind === 'tool-failed' && /status 3:\ndisk full/.test(e.message));
});
