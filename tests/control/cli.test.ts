// The vireo CLI against a real master: login with password, TOTP and the certificate's
// pinned fingerprint, data centers, the audit log and its chain check, logout.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runAudit } from '../../src/cli/commands/audit.js';
import { runLogin, runLogout } from '../../src/cli/commands/login.js';
import { runResource } from '../../src/cli/master/resource-command.js';
import { DATA_CENTERS } from '../../src/cli/master/resources.js';
import { ADMIN, ADMIN_PASSWORD, startTestMaster, type TestMaster } from '../support/master-client.js';

let m: TestMaster;
let home: string;
before(async () => {
  m = await startTestMaster();
  home = await mkdtemp(join(tmpdir(), 'vireo-cli-'));
  process.env['XDG_CONFIG_HOME'] = home;
});
after(async () => {
  await m.close();
  await rm(home, { recursive: true, force: true });
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), stderrIsTty: false }, out: () => out.join(''), err: () => err.join('') };
}

test('login pins the certificate, keeps a token with mode 0600, and the other commands use it', async () => {
  const passwordFile = join(home, 'pw');
  await writeFile(passwordFile, `${ADMIN_PASSWORD}\n`);
  const wrongPin = capture();
  assert.equal(await runLogin([m.master.url, '--name', ADMIN, '--password-file', passwordFile, '--totp', '000000', '--fingerprint', 'AA:BB'], wrongPin.io), 1);
  assert.match(wrongPin.err(), /refusing to send it a password/u);

  const login = capture();
  const code = m.clock.nextTotp(m.totpSecret);
  assert.equal(await runLogin([m.master.url, '--name', ADMIN, '--password-file', passwordFile, '--totp', code, '--fingerprint', m.master.certificate.fingerprintSha256], login.io), 0, login.err());
  const saved = join(home, 'vireo', 'master.json');
  assert.equal((await stat(saved)).mode & 0o777, 0o600);
  assert.match(JSON.parse(await readFile(saved, 'utf8')).token, /^vireo_/u);

  const create = capture();
  assert.equal(await runResource(DATA_CENTERS, ['create', '--name', 'dc-cli', '--description', 'made by the CLI'], create.io), 0, create.err());
  const list = capture();
  assert.equal(await runResource(DATA_CENTERS, ['list', '--json'], list.io), 0);
  assert.deepEqual((JSON.parse(list.out()) as Array<{ name: string }>).map((d) => d.name), ['dc-cli']);
  const table = capture();
  assert.equal(await runResource(DATA_CENTERS, ['list'], table.io), 0);
  assert.match(table.out(), /^NAME +DESCRIPTION +ID\ndc-cli +made by the CLI +[0-9a-f-]{36}\n$/u);

  const audit = capture();
  assert.equal(await runAudit(['--verify'], audit.io), 0);
  assert.match(audit.out(), /hash chain of \d+ entries is intact/u);
  const entries = capture();
  assert.equal(await runAudit(['--action', 'data-center.create', '--json'], entries.io), 0);
  assert.equal((JSON.parse(entries.out()) as unknown[]).length, 1);

  const out = capture();
  assert.equal(await runLogout([], out.io), 0);
  const after = capture();
  assert.equal(await runResource(DATA_CENTERS, ['list'], after.io), 1);
  assert.match(after.err(), /not logged in/u);
});
