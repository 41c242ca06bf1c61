// The vireo CLI against a real master: login with password, TOTP and the certificate's
// pinned fingerprint, data centers, the audit log and its chain check, logout; then a host's
// physical LUN, a virtual LUN and a network made with the CLI and attached to a VM.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runAudit } from '../../src/cli/commands/audit.js';
import { runLogin, runLogout } from '../../src/cli/commands/login.js';
import { runLun } from '../../src/cli/commands/lun.js';
import { runResource } from '../../src/cli/master/resource-command.js';
import { DATA_CENTERS, NETWORKS, TENANTS, VMS } from '../../src/cli/master/resources.js';
import { AgentProcess, IDLE_KERNEL, stopAgents } from '../support/agent-process.js';
import { ADMIN, ADMIN_PASSWORD, startTestMaster, type TestMaster } from '../support/master-client.js';

let m: TestMaster;
let home: string;
const agents: AgentProcess[] = [];
before(async () => {
  m = await startTestMaster();
  home = await mkdtemp(join(tmpdir(), 'vireo-cli-'));
  process.env['XDG_CONFIG_HOME'] = home;
});
after(async () => {
  await m.close();
  await stopAgents(agents);
  await rm(home, { recursive: true, force: true });
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), stderrIsTty: false }, out: () => out.join(''), err: () => err.join('') };
}

async function logIn(): Promise<void> {
  const passwordFile = join(home, 'pw');
  await writeFile(passwordFile, `${ADMIN_PASSWORD}\n`);
  const login = capture();
  const code = m.clock.nextTotp(m.totpSecret);
  assert.equal(await runLogin([m.master.url, '--name', ADMIN, '--password-file', passwordFile, '--totp', code, '--fingerprint', m.master.certificate.fingerprintSha256], login.io), 0, login.err());
}

/** Runs a CLI command that must succeed; its --json output parsed. */
async function cli(run: (argv: string[], io: ReturnType<typeof capture>['io']) => Promise<number>, argv: string[]): Promise<any> {
  const io = capture();
  assert.equal(await run([...argv, '--json'], io.io), 0, `${argv.join(' ')}: ${io.err()}`);
  return io.out() === '' ? undefined : JSON.parse(io.out());
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

test('vireo lun and net: a physical LUN, a virtual LUN and a network, attached to a VM made with vm create', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vireo-cli-agent-'));
  const token = 'cli-agent-token-0123456789abcdef';
  await writeFile(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  const kernel = join(dir, 'idle.bin');
  await writeFile(kernel, IDLE_KERNEL);
  const agent = await AgentProcess.start(join(dir, 'agent'), join(dir, 'token'));
  agents.push(agent);
  await logIn();
  await cli((a, io) => runResource(DATA_CENTERS, a, io), ['create', '--name', 'dc-luns']);
  await cli((a, io) => runResource(TENANTS, a, io), ['create', '--name', 'tenant-luns']);
  const admin = await m.admin();
  const dc = (await admin.call('GET', '/api/v1/data-centers')).body.items.find((d: { name: string }) => d.name === 'dc-luns');
  assert.equal((await admin.call('POST', '/api/v1/hosts', { dataCenterId: dc.id, name: 'host-cli', url: `tcp:127.0.0.1:${agent.port}`, token })).status, 201);

  const physical = await cli(runLun, ['physical', 'create', '--host', 'host-cli', '--name', 'fast', '--path', join(dir, 'fast'), '--capacity', '2']);
  assert.equal(physical.capacityBytes, 2 * 2 ** 30);
  const table = capture();
  assert.equal(await runLun(['physical', 'list'], table.io), 0, table.err());
  assert.match(table.out(), /^NAME +HOST +PATH +CAPACITY GIB +PROVISIONED GIB +ID\nfast .* 2\.0 +0\.0 /u);

  const lun = await cli(runLun, ['create', '--tenant', 'tenant-luns', '--dc', 'dc-luns', '--name', 'disk', '--size', '1', '--physical', 'fast']);
  assert.equal(lun.sizeBytes, 2 ** 30);
  const net = await cli((a, io) => runResource(NETWORKS, a, io), ['create', '--tenant', 'tenant-luns', '--dc', 'dc-luns', '--name', 'outside', '--kind', 'user']);
  const vm = await cli((a, io) => runResource(VMS, a, io), ['create', '--tenant', 'tenant-luns', '--dc', 'dc-luns', '--name', 'cli-vm', '--memory', '32', '--kernel', kernel, '--lun', 'disk', '--net', 'outside']);
  assert.deepEqual(vm.disks, [{ virtualLunId: lun.id }]);
  assert.equal(vm.networkId, net.id);
  assert.equal((await cli(runLun, ['show', 'disk'])).vmId, vm.id);

  const busy = capture();
  assert.equal(await runLun(['delete', 'disk'], busy.io), 1);
  assert.match(busy.err(), /attached to a VM/u);
  await cli((a, io) => runResource(VMS, a, io), ['delete', 'cli-vm']);
  await cli(runLun, ['delete', 'disk']);
  await cli((a, io) => runResource(NETWORKS, a, io), ['delete', 'outside']);
  await cli(runLun, ['physical', 'delete', 'fast']);
  assert.deepEqual(await cli(runLun, ['list']), []);
  await rm(dir, { recursive: true, force: true });
});
