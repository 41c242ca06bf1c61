// The VM API over its socket, against a fake VM: every route, every error status, long
// operations with progress and long-polling, and the socket's life (mode, stale, live, close).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { rawRequest, socketDir, startHarness, withApi } from '../../../tests/vm/api-harness.js';
import { FakeVmController } from '../../../tests/vm/fake-vm-controller.js';
import type { Operation } from './operation-registry.js';
import { serveVmApi } from './vm-api-server.js';
import { VmApiError } from './vm-api-error.js';
import { VmControlError, type VmStatus } from './vm-controller.js';

function assertError(answer: { status: number; body: unknown }, status: number, kind: string, mentions?: RegExp): void {
  const error = (answer.body as { error?: { kind: string; message: string } }).error;
  assert.equal(answer.status, status, `expected ${status}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
  assert.equal(error?.kind, kind);
  assert.ok(typeof error.message === 'string' && error.message.length > 0);
  if (mentions !== undefined) assert.match(error.message, mentions);
}

test('GET /vm answers the state, configuration, instructions retired and uptime', () => withApi(async ({ client, vm }) => {
  const answer = await client.request('GET', '/vm');
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['content-type'], 'application/json');
  const status = answer.body as VmStatus;
  assert.equal(status.state, 'running');
  assert.deepEqual(status.config, vm.config);
  assert.equal(status.instructionsRetired, 123_456);
  assert.ok(status.uptimeMs >= 0);
}));

test('pause, resume and stop answer the new status; a verb the state does not allow is 409', () => withApi(async ({ client }) => {
  const paused = await client.request('POST', '/vm/pause');
  assert.equal(paused.status, 200);
  assert.equal((paused.body as VmStatus).state, 'paused');
  assertError(await client.request('POST', '/vm/pause'), 409, 'invalid-state', /paused/);
  const resumed = await client.request('POST', '/vm/resume', {});
  assert.equal((resumed.body as VmStatus).state, 'running');
  assertError(await client.request('POST', '/vm/resume'), 409, 'invalid-state');
  const stopped = await client.request('POST', '/vm/stop');
  assert.equal(stopped.status, 200);
  assert.equal((stopped.body as VmStatus).state, 'stopped');
  assertError(await client.request('POST', '/vm/pause'), 409, 'invalid-state', /stopped/);
  assertError(await client.request('POST', '/vm/save', { path: '/tmp/x' }), 409, 'invalid-state', /stopped/);
}));

test('shutdown presses the power button and answers the running status at once; 409 when paused, stopped or the guest has no driver', () => withApi(async ({ client, vm }) => {
  const pressed = await client.request('POST', '/vm/shutdown');
  assert.equal(pressed.status, 200);
  assert.equal((pressed.body as VmStatus).state, 'running');
  assert.equal(vm.shutdownPresses, 1);
  vm.guestDriver = false;
  assertError(await client.request('POST', '/vm/shutdown'), 409, 'no-guest-driver', /driver/);
  vm.guestDriver = true;
  await client.request('POST', '/vm/pause');
  assertError(await client.request('POST', '/vm/shutdown'), 409, 'invalid-state', /paused/);
  await client.request('POST', '/vm/stop');
  assertError(await client.request('POST', '/vm/shutdown'), 409, 'invalid-state', /stopped/);
  vm.state = 'saving';
  assertError(await client.request('POST', '/vm/shutdown'), 409, 'invalid-state', /saving/);
  assert.equal(vm.shutdownPresses, 1);
}));

test('a controller failure is a 500 with its message (and its kind when it has one), and the server carries on', () => withApi(async ({ client, vm }) => {
  vm.pauseFailure = new Error('the hart did not reach an instruction boundary');
  assertError(await client.request('POST', '/vm/pause'), 500, 'internal', /instruction boundary/);
  vm.pauseFailure = new VmControlError('device-busy', 'virtio-blk has requests in flight');
  assertError(await client.request('POST', '/vm/pause'), 500, 'device-busy', /in flight/);
  assert.equal((await client.request('POST', '/vm/pause')).status, 200);
}));

test('save starts an operation that shows progress and long-polls to its result', () => withApi(async ({ client, vm }) => {
  const started = await client.request('POST', '/vm/save', { path: '/snapshots/a.vmsnap', resume: true });
  assert.equal(started.status, 202);
  const op = started.body as Operation;
  assert.equal(started.headers['location'], `/operations/${op.id}`);
  assert.equal(op.kind, 'save');
  assert.equal(op.state, 'running');
  assert.equal(op.progress, null);
  const action = await vm.nextAction();
  assert.equal(action.path, '/snapshots/a.vmsnap');
  assert.equal(action.resume, true);
  assert.equal((await client.status()).state, 'saving');

  // A wait with `after` answers at the next change, not at the end.
  const changed = client.operation(op.id, 10, op.revision);
  action.progress({ phase: 'ram', done: 3, total: 8 });
  const next = await changed;
  assert.equal(next.state, 'running');
  assert.deepEqual(next.progress, { phase: 'ram', done: 3, total: 8 });
  assert.ok(next.revision > op.revision);

  // A plain wait answers only once the operation has ended.
  let ended = false;
  const waiting = client.operation(op.id, 10).then((o) => { ended = true; return o; });
  action.progress({ phase: 'ram', done: 8, total: 8 });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(ended, false, 'the long-poll answered before the operation ended');
  action.succeed({ bytes: 4096, pauseMs: 3 });
  const done = await waiting;
  assert.equal(done.state, 'succeeded');
  assert.deepEqual(done.result, { bytes: 4096, pauseMs: 3 });
  assert.ok(done.finishedAt !== undefined);
  assert.equal((await client.status()).state, 'running');
}));

test('a long-poll whose time passes answers the operation still running', () => withApi(async ({ client, vm }) => {
  const op = (await client.request('POST', '/vm/save', { path: 'a' })).body as Operation;
  const t0 = Date.now();
  const still = await client.operation(op.id, 0.1);
  assert.ok(Date.now() - t0 >= 90, 'the wait did not last');
  assert.equal(still.state, 'running');
  (await vm.nextAction()).succeed({});
}));

test('a failing operation ends failed with the error; one long operation at a time', () => withApi(async ({ client, vm }) => {
  const op = (await client.request('POST', '/vm/save', { path: 'a' })).body as Operation;
  const action = await vm.nextAction();
  assertError(await client.request('POST', '/vm/migrate', { target: 'tcp:10.0.0.2:4444' }), 409, 'operation-running', new RegExp(op.id));
  assertError(await client.request('POST', '/vm/save', { path: 'b' }), 409, 'operation-running');
  action.fail(new VmControlError('disk-full', 'no space left for the snapshot'));
  const failed = await client.operation(op.id, 10);
  assert.equal(failed.state, 'failed');
  assert.deepEqual(failed.error, { kind: 'disk-full', message: 'no space left for the snapshot' });
  assert.equal(failed.result, undefined);
  assert.equal((await client.status()).state, 'running');
  // Once it has ended, another may start.
  const second = await client.request('POST', '/vm/migrate', { target: 'tcp:10.0.0.2:4444' });
  assert.equal(second.status, 202);
  const migration = await vm.nextAction();
  assert.deepEqual(migration.target, { host: '10.0.0.2', port: 4444 });
  migration.succeed({ rounds: 3 });
  assert.equal((await client.operation((second.body as Operation).id, 10)).state, 'succeeded');
}));

test('migrate checks its target: tcp:HOST:PORT with a port of 1 to 65535, IPv6 in brackets', () => withApi(async ({ client, vm }) => {
  for (const [target, why] of [['tcp:host:0', /port 0/], ['tcp:host:65536', /port 65536/], ['udp:host:1', /target/], ['tcp::80', /target/], ['tcp:::1:80', /brackets/], ['tcp:host', /target/]] as const) {
    assertError(await client.request('POST', '/vm/migrate', { target }), 400, 'invalid-body', why);
  }
  assertError(await client.request('POST', '/vm/migrate', { target: 4444 }), 400, 'invalid-body', /body\.target: must be a string/);
  const answer = await client.request('POST', '/vm/migrate', { target: 'tcp:[::1]:65535' });
  assert.equal(answer.status, 202);
  const action = await vm.nextAction();
  assert.deepEqual(action.target, { host: '::1', port: 65535 });
  action.succeed({});
}));

test('bodies: malformed JSON and schema failures are 400 naming the field', () => withApi(async ({ client, socket }) => {
  const json = { 'Content-Type': 'application/json' };
  assertError(await rawRequest(socket, 'POST', '/vm/save', json, ['{"path": ']), 400, 'invalid-json');
  assertError(await client.request('POST', '/vm/save', {}), 400, 'invalid-body', /body\.path: is required/);
  assertError(await client.request('POST', '/vm/save'), 400, 'invalid-body', /body: must be an object/);
  assertError(await client.request('POST', '/vm/save', { path: '' }), 400, 'invalid-body', /body\.path: must not be empty/);
  assertError(await client.request('POST', '/vm/save', { path: 'a', resume: 'yes' }), 400, 'invalid-body', /body\.resume: must be a boolean/);
  assertError(await client.request('POST', '/vm/save', { path: 'a', compress: true }), 400, 'invalid-body', /body\.compress: is not a known field/);
  assertError(await client.request('POST', '/vm/save', ['a']), 400, 'invalid-body', /must be an object/);
  assertError(await client.request('POST', '/vm/pause', { now: true }), 400, 'invalid-body', /body\.now/);
  assertError(await client.request('GET', '/vm', {}), 400, 'invalid-body', /takes no body/);
}));

test('unknown routes and operations are 404; a wrong method is 405 with Allow', () => withApi(async ({ client }) => {
  assertError(await client.request('GET', '/vm/nothing'), 404, 'not-found', /\/vm\/nothing/);
  assertError(await client.request('GET', '/'), 404, 'not-found');
  assertError(await client.request('GET', '/operations/no-such-op'), 404, 'not-found', /no-such-op/);
  assertError(await client.request('GET', '/operations/%E0%A4%A'), 404, 'not-found', /percent-encoding/);
  assertError(await client.request('POST', '//vm/pause'), 404, 'not-found');
  const wrong = await client.request('GET', '/vm/pause');
  assertError(wrong, 405, 'method-not-allowed');
  assert.equal(wrong.headers['allow'], 'POST');
  const put = await client.request('DELETE', '/vm');
  assertError(put, 405, 'method-not-allowed');
  assert.equal(put.headers['allow'], 'GET');
}));

test('query parameters are checked: wait is 0 to 300 seconds, unknown ones are refused', () => withApi(async ({ client, vm }) => {
  const op = (await client.request('POST', '/vm/save', { path: 'a' })).body as Operation;
  assertError(await client.request('GET', `/operations/${op.id}?wait=soon`), 400, 'invalid-query', /wait/);
  assertError(await client.request('GET', `/operations/${op.id}?wait=301`), 400, 'invalid-query', /at most 300/);
  assertError(await client.request('GET', `/operations/${op.id}?wait=-1`), 400, 'invalid-query', /at least 0/);
  assertError(await client.request('GET', `/operations/${op.id}?after=1.5`), 400, 'invalid-query', /after/);
  assertError(await client.request('GET', `/operations/${op.id}?timeout=3`), 400, 'invalid-query', /timeout/);
  (await vm.nextAction()).succeed({});
}));

test('a body that is not JSON is 415; one over 64 KiB is 413, by its length or as it arrives', () => withApi(async ({ client, socket }) => {
  assertError(await rawRequest(socket, 'POST', '/vm/save', { 'Content-Type': 'text/plain' }, ['path=a']), 415, 'unsupported-media-type', /application\/json/);
  assertError(await rawRequest(socket, 'POST', '/vm/save', {}, ['{"path":"a"}']), 415, 'unsupported-media-type');
  const charset = await rawRequest(socket, 'POST', '/vm/save', { 'Content-Type': 'application/json; charset=utf-8' }, ['{"path":"a"}']);
  assert.equal(charset.status, 202);
  // Declared too large: refused before the body is read (the client has sent only part of it).
  const declared = await rawRequest(socket, 'POST', '/vm/save', { 'Content-Type': 'application/json', 'Content-Length': 100_000 }, ['{"path":"'], false);
  assertError(declared, 413, 'body-too-large');
  assert.equal(declared.headers['connection'], 'close');
  // Chunked, with no length: refused once 64 KiB have arrived.
  const chunked = await rawRequest(socket, 'POST', '/vm/save', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, [`{"path":"${'a'.repeat(70_000)}`], false);
  assertError(chunked, 413, 'body-too-large');
  assert.equal((await client.status()).state, 'saving');
}));

test('a client that goes away mid-body or mid-wait does not disturb the server', () => withApi(async ({ client, socket, vm }) => {
  await new Promise<void>((resolve, reject) => {
    const raw = connect({ path: socket }, () => {
      raw.write('POST /vm/save HTTP/1.1\r\nHost: vm\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"path":');
      setTimeout(() => { raw.destroy(); resolve(); }, 20);
    });
    raw.on('error', reject);
  });
  const op = (await client.request('POST', '/vm/save', { path: 'a' })).body as Operation;
  await new Promise<void>((resolve) => {
    const poll = request({ socketPath: socket, path: `/operations/${op.id}?wait=60` });
    poll.on('error', () => resolve());
    poll.end();
    setTimeout(() => poll.destroy(), 20);
  });
  // Garbage that is not HTTP at all gets a 400 from node's parser.
  const garbage = await new Promise<string>((resolve) => {
    let reply = '';
    const raw = connect({ path: socket }, () => raw.end('\x00\x01 not http\r\n\r\n'));
    raw.setEncoding('utf8');
    raw.on('data', (d: string) => { reply += d; });
    raw.on('close', () => resolve(reply));
  });
  assert.match(garbage, /^HTTP\/1\.1 400/);
  (await vm.nextAction()).succeed({ ok: true });
  assert.equal((await client.operation(op.id, 10)).state, 'succeeded');
  assert.equal((await client.request('GET', '/vm')).status, 200);
}));

test('the socket is mode 0600, and close() answers waiting long-polls and removes the socket', async () => {
  const h = await startHarness();
  assert.equal(statSync(h.socket).mode & 0o777, 0o600);
  assert.ok(statSync(h.socket).isSocket());
  const op = (await h.client.request('POST', '/vm/save', { path: 'a' })).body as Operation;
  const waiting = h.client.operation(op.id, 60);
  await new Promise((r) => setTimeout(r, 20));
  const t0 = Date.now();
  await h.server.close();
  assert.equal((await waiting).state, 'running');
  assert.ok(Date.now() - t0 < 900, 'close() waited for the long-poll to time out');
  assert.equal(existsSync(h.socket), false);
  await h.close();
});

test('a stale socket is replaced; a live socket or another file is refused and left alone', async () => {
  const { dir, remove } = socketDir();
  try {
    // A socket file whose process died: created by a child killed while listening.
    const stale = join(dir, 'stale.sock');
    const child = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.equal(child.signal, 'SIGKILL');
    assert.ok(statSync(stale).isSocket());
    const server = await serveVmApi(stale, new FakeVmController());
    assert.equal(statSync(stale).mode & 0o777, 0o600);
    await server.close();

    const live = join(dir, 'live.sock');
    const other = createServer((c) => {
      c.on('error', () => {});
      c.end('mine\n');
    });
    await new Promise<void>((r) => other.listen(live, r));
    try {
      await assert.rejects(serveVmApi(live, new FakeVmController()), (e: unknown) => e instanceof VmApiError && e.kind === 'socket-in-use' && e.message.includes(live));
      const reply = await new Promise<string>((resolve) => {
        const c = connect({ path: live });
        c.setEncoding('utf8');
        c.on('data', (d: string) => {
          c.destroy();
          resolve(d);
        });
      });
      assert.equal(reply, 'mine\n');
    } finally {
      await new Promise((r) => other.close(r));
    }

    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'keep me');
    await assert.rejects(serveVmApi(file, new FakeVmController()), (e: unknown) => e instanceof VmApiError && e.kind === 'path-exists' && e.message.includes(file));
    assert.equal(readFileSync(file, 'utf8'), 'keep me');
  } finally {
    remove();
  }
});
