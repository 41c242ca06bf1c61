import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMaster } from './master.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), stderrIsTty: false }, out, err };
}

test('vireo master init prints the administrator\'s TOTP secret once and refuses a second init', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vireo-master-cli-'));
  try {
    const passwordFile = join(dir, 'pw');
    await writeFile(passwordFile, 'a long enough password\n');
    const first = capture();
    assert.equal(await runMaster(['init', '--data', join(dir, 'm'), '--admin', 'alice', '--password-file', passwordFile], first.io), 0);
    const text = first.out.join('');
    assert.match(text, /^totp-secret: [A-Z2-7]{32}$/mu);
    assert.match(text, /^otpauth-uri: otpauth:\/\/totp\/Vireo:alice\?secret=[A-Z2-7]+/mu);
    assert.equal((text.match(/^recovery-code: /gmu) ?? []).length, 10);
    assert.equal((await stat(join(dir, 'm', 'master.db'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'm', 'master.key'))).mode & 0o777, 0o600);
    const second = capture();
    assert.equal(await runMaster(['init', '--data', join(dir, 'm'), '--admin', 'bob', '--password-file', passwordFile], second.io), 1);
    assert.match(second.err.join(''), /already holds a master/u);
    const weak = capture();
    await writeFile(passwordFile, 'short\n');
    assert.equal(await runMaster(['init', '--data', join(dir, 'n'), '--admin', 'bob', '--password-file', passwordFile], weak.io), 1);
    assert.match(weak.err.join(''), /password/u);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
