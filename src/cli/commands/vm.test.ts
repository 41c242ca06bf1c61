// `vireo vm` end to end against a VM API served in this process by a fake VM: each verb, the
// progress lines and results of long verbs, and clear errors with the right exit status.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { withApi } from '../../../tests/vm/api-harness.js';
import { VmControlError } from '../../vm/api/vm-controller.js';
import { UsageError } from '../usage-error.js';
import { main } from '../main.js';
import { runVm, VM_HELP } from './vm.js';

interface Outcome { status: number; stdout: string; stderr: string }

/** Runs `vireo vm ARGS` in this process; a UsageError becomes status 2 as main() makes it. */
async function vm(args: string[], stderrIsTty = false): Promise<Outcome> {
  return start(args, stderrIsTty).done;
}

/** Starts `vireo vm ARGS`; `live` shows its output so far. */
function start(args: string[], stderrIsTty = false): { live: Outcome; done: Promise<Outcome> } {
  const live: Outcome = { status: -1, stdout: '', stderr: '' };
  const io = { out: (t: string) => { live.stdout += t; }, err: (t: string) => { live.stderr += t; }, stderrIsTty };
  const done = runVm(args, io).then(
    (status) => ({ ...live, status }),
    (e: unknown) => {
      if (e instanceof UsageError) return { status: 2, stdout: live.stdout, stderr: `vireo ${e.command}: ${e.message}\n` };
      throw e;
    },
  );
  return { live, done };
}

/** Waits until the running command has printed `text` on stderr (it long-polls, so it sees each change). */
async function printed(run: { live: Outcome }, text: string): Promise<void> {
  for (let i = 0; i < 1000 && !run.live.stderr.endsWith(text); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(run.live.stderr.endsWith(text), `stderr ${JSON.stringify(run.live.stderr)} does not end with ${JSON.stringify(text)}`);
}

test('status prints the state, instructions, uptime and configuration; --json prints the status', () => withApi(async ({ socket, vm: fake }) => {
  const text = await vm(['status', '--api', socket]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^state: +running$/m);
  assert.match(text.stdout, /^instructions retired: 123456$/m);
  assert.match(text.stdout, /^uptime: +\d+\.\ds$/m);
  assert.match(text.stdout, /"memoryMiB":256/);
  const json = await vm(['status', '--api', socket, '--json']);
  const status = JSON.parse(json.stdout) as { state: string; config: unknown };
  assert.equal(status.state, 'running');
  assert.deepEqual(status.config, fake.config);
}));

test('pause, resume and stop change the VM and say its new state; a refused verb exits 1 with the reason', () => withApi(async ({ socket, vm: fake }) => {
  assert.deepEqual(await vm(['pause', '--api', socket]), { status: 0, stdout: 'the VM is paused\n', stderr: '' });
  assert.equal(fake.state, 'paused');
  const again = await vm(['pause', '--api', socket]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /^vireo vm: pause: cannot pause: the VM is paused, not running \(invalid-state\)\n$/);
  const resumed = await vm(['resume', '--api', socket, '--json']);
  assert.equal((JSON.parse(resumed.stdout) as { state: string }).state, 'running');
  assert.equal((await vm(['stop', '--api', socket])).stdout, 'the VM is stopped\n');
  assert.equal(fake.state, 'stopped');
}));

test('shutdown presses the power button and says so; without a guest driver it exits 1 with the reason', () => withApi(async ({ socket, vm: fake }) => {
  assert.deepEqual(await vm(['shutdown', '--api', socket]), { status: 0, stdout: 'pressed the power button; the guest is shutting down\n', stderr: '' });
  assert.equal(fake.shutdownPresses, 1);
  fake.guestDriver = false;
  const refused = await vm(['shutdown', '--api', socket]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^vireo vm: shutdown: .*driver.* \(no-guest-driver\)\n$/);
  assert.equal(fake.shutdownPresses, 1);
}));

test('save sends an absolute path, prints progress lines and the result, and waits for the end', () => withApi(async ({ socket, vm: fake }) => {
  const running = start(['save', 'snap.vmsnap', '--api', socket, '--resume']);
  const action = await fake.nextAction();
  assert.equal(action.path, resolve('snap.vmsnap'));
  assert.equal(action.resume, true);
  for (const [done, line] of [[0, 'save: ram 0%\n'], [1, 'save: ram 25%\n'], [1, 'save: ram 25%\n'], [2, 'save: ram 50%\n'], [4, 'save: ram 100%\n']] as const) {
    action.progress({ phase: 'ram', done, total: 4 });
    await printed(running, line);
  }
  action.progress({ phase: 'devices', done: 0, total: 0 });
  action.succeed({ bytes: 1048576, pauseMs: 12 });
  const out = await running.done;
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stderr, 'save: ram 0%\nsave: ram 25%\nsave: ram 50%\nsave: ram 100%\nsave: devices\n');
  assert.match(out.stdout, new RegExp(`^saved the VM to ${resolve('snap.vmsnap').replace(/[.]/g, '\\.')}\n`));
  assert.match(out.stdout, /^bytes: +1048576$/m);
  assert.match(out.stdout, /^pauseMs: +12$/m);
}));

test('on a terminal progress is one line rewritten in place', () => withApi(async ({ socket, vm: fake }) => {
  const running = start(['save', join('/tmp', 'a'), '--api', socket], true);
  const action = await fake.nextAction();
  action.progress({ phase: 'ram', done: 1, total: 2 });
  await printed(running, '\rsave: ram 50%');
  action.progress({ phase: 'disk', done: 2, total: 2 });
  await printed(running, '\rsave: disk 100%');
  action.succeed({});
  const out = await running.done;
  assert.equal(out.stderr, '\rsave: ram 50%\rsave: disk 100%\n');
}));

test('migrate checks its target before calling, follows the operation and reports a failure with exit 1', () => withApi(async ({ socket, vm: fake }) => {
  const bad = await vm(['migrate', 'tcp:host:99999', '--api', socket]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /port 99999; a port is 1 to 65535/);
  const running = start(['migrate', 'tcp:10.1.2.3:4444', '--api', socket, '--json']);
  const action = await fake.nextAction();
  assert.deepEqual(action.target, { host: '10.1.2.3', port: 4444 });
  action.progress({ phase: 'ram round 1', done: 10, total: 100 });
  await printed(running, 'migrate: ram round 1 10%\n');
  action.fail(new VmControlError('connection-lost', 'the destination closed the connection'));
  const out = await running.done;
  assert.equal(out.status, 1);
  assert.match(out.stderr, /^migrate: ram round 1 10%\nvireo vm: migrate failed: the destination closed the connection \(connection-lost\)\n$/);
  const op = JSON.parse(out.stdout) as { state: string; error: { kind: string } };
  assert.equal(op.state, 'failed');
  assert.equal(op.error.kind, 'connection-lost');
}));

test('a second long verb while one runs is refused with the reason', () => withApi(async ({ socket, vm: fake }) => {
  const first = vm(['save', '/tmp/a', '--api', socket]);
  const action = await fake.nextAction();
  const second = await vm(['save', '/tmp/b', '--api', socket]);
  assert.equal(second.status, 1);
  assert.match(second.stderr, /^vireo vm: save: a save operation .* is still running.*\(operation-running\)\n$/);
  action.succeed({});
  assert.equal((await first).status, 0);
}));

test('a socket no VM serves is reported with its path', async () => {
  const missing = join('/tmp', `vireo-no-vm-${process.pid}.sock`);
  const out = await vm(['status', '--api', missing]);
  assert.equal(out.status, 1);
  assert.equal(out.stderr, `vireo vm: cannot reach the VM API at ${missing} (no such socket): no VM serves it; start one with 'vireo run --api ${missing}'\n`);
});

test('usage errors: no verb, unknown verb, missing --api, missing FILE, unknown option', async () => {
  for (const [args, message] of [
    [[], /missing the verb/], [['reboot', '--api', 'x'], /unknown verb 'reboot'/], [['status'], /--api PATH is required/],
    [['save', '--api', 'x'], /missing FILE/], [['pause', '--api', 'x', '--resume'], /unknown option --resume/],
    [['status', '--api', 'x', 'extra'], /unexpected argument extra/], [['migrate', 'host:80', '--api', 'x'], /not tcp:HOST:PORT/],
  ] as const) {
    const out = await vm([...args]);
    assert.equal(out.status, 2, args.join(' '));
    assert.match(out.stderr, message);
  }
});

test('vireo vm --help documents every verb, and vireo --help lists vm', async () => {
  assert.equal((await vm(['--help'])).stdout, VM_HELP);
  assert.equal((await vm(['save', '--help'])).stdout, VM_HELP);
  for (const verb of ['status', 'pause', 'resume', 'save FILE', 'migrate tcp:HOST:PORT', 'shutdown', 'stop', '--api PATH', '--json', '--resume']) assert.ok(VM_HELP.includes(verb), verb);
  let printed = '';
  const write = process.stdout.write;
  process.stdout.write = ((text: string) => { printed += text; return true; }) as typeof process.stdout.write;
  try {
    assert.equal(await main(['--help']), 0);
  } finally {
    process.stdout.write = write;
  }
  assert.match(printed, /^ {2}vm +/m);
});
