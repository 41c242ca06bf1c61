// Programs that end through the HTIF tohost mailbox (as many conformance suites do) and
// the --signature dump of their begin_signature..end_signature range.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, describeRun, repoRoot, runOnVireo } from './support/riscv-toolchain.js';

const HTIF_DIR = join(repoRoot(), 'tests', 'htif');

test('exit code 0 through tohost passes; the console device and the signature work', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-signature-'));
  try {
    const signature = join(dir, 'signature.txt');
    const r = await runOnVireo(buildProgram('htif-pass', HTIF_DIR), { extraArgs: ['--signature', signature] });
    assert.equal(r.status, 0, describeRun('htif-pass', 'Vireo', r));
    assert.equal(r.output, 'ok');
    assert.equal(readFileSync(signature, 'utf8'), '11223344\n55667788\ncafef00d\n00000000\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a non-zero exit code through tohost becomes the exit status; SYS_write prints', async () => {
  const r = await runOnVireo(buildProgram('htif-fail', HTIF_DIR));
  assert.equal(r.status, 5, describeRun('htif-fail', 'Vireo', r));
  assert.match(r.output, /written through SYS_write\n/);
  assert.match(r.output, /failure code 5/);
});

test('--signature without signature symbols is a clear error', async () => {
  const r = await runOnVireo(buildProgram('htif-fail', HTIF_DIR), { extraArgs: ['--signature', join(tmpdir(), 'unused')] });
  assert.equal(r.status, 1);
  assert.match(r.output, /no begin_signature\/end_signature symbols/);
});
