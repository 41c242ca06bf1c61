// Debian through the host agent: define a VM with the cached Debian guest on its own qcow2
// overlay, start it, reach the shell over the console WebSocket, run a command, stop it
// gracefully (the guest shuts itself down on its power button), and find its disk consistent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { ensureDebianImage } from '../../src/images/debian-image.js';
import { DEBIAN_APPEND } from '../../src/cli/default-guest.js';
import { AgentProcess, eventually } from '../support/agent-process.js';
import { qemuCheck, qemuImg } from '../storage/qemu-img.js';

const PROMPT = /root@vireo:[^\n]*# $/;
const BOOT_MS = 300_000;

test('a Debian VM boots to a shell through the host agent, answers on its console, and shuts itself down on a graceful stop', { timeout: 600_000 }, async () => {
  const img = await ensureDebianImage();
  const dir = mkdtempSync(join(tmpdir(), 'vhd-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'debian-agent-test-token-0123456789\n', { mode: 0o600 });
  const root = join(dir, 'root.qcow2');
  qemuImg('create', '-q', '-f', 'qcow2', '-b', img.rootDisk, '-F', 'raw', root);
  const agent = await AgentProcess.start(join(dir, 'data'), tokenFile);
  let ws: WebSocket | undefined;
  try {
    const api = agent.client();
    await api.call('POST', '/vms', {
      name: 'debian',
      spec: { ramMiB: 512, boot: { kernel: img.kernel, firmware: img.firmware, initrd: img.initrd, bootargs: DEBIAN_APPEND }, disks: [{ path: root, format: 'qcow2' }], network: 'host' },
    });
    await api.call('POST', '/vms/debian/start');
    ws = new WebSocket(`ws+unix:${agent.socketPath}:/vms/debian/console`);
    let output = '';
    ws.on('message', (d: Buffer) => { output += d.toString('utf8'); });
    await new Promise((resolve, reject) => { ws!.once('open', resolve); ws!.once('error', reject); });
    await eventually('the shell prompt', BOOT_MS, async () => PROMPT.test(output));
    const from = output.length;
    ws.send('echo answer-$((6*7)) > /root/agent.txt && sync && cat /root/agent.txt\n');
    await eventually('the command\'s output', 30_000, async () => /\nanswer-42\r?\n/.test(output.slice(from)));
    const stats = await api.call<{ rssBytes: number; status: { instructionsRetired: number } }>('GET', '/vms/debian/stats');
    assert.ok(stats.rssBytes > 512 * 1024 * 1024 / 8, `RSS ${stats.rssBytes}`);
    assert.ok(stats.status.instructionsRetired > 1e8);
    const beforeStop = output.length;
    const stopStarted = performance.now();
    const stopped = await api.call<{ state: string; lastExit: { reason: string; code: number | null } }>('POST', '/vms/debian/stop', { timeoutSeconds: 60 });
    const stopMs = performance.now() - stopStarted;
    assert.equal(stopped.state, 'stopped');
    // The guest heard the power button: acpid ran its action, busybox init shut down, the kernel powered off.
    assert.equal(stopped.lastExit.reason, 'the guest shut down (power button)');
    assert.equal(stopped.lastExit.code, 0);
    await eventually('the guest\'s shutdown on the console', 5_000, async () => /reboot: Power down/.test(output.slice(beforeStop)));
    const shutdown = output.slice(beforeStop);
    assert.match(shutdown, /vireo: power button pressed; powering off/);
    assert.match(shutdown, /The system is going down NOW!/);
    // A clean shutdown: init could remount the root disk read-only (nothing held a file open for writing on it).
    assert.match(shutdown, /EXT4-fs \(vda\): re-mounted [0-9a-f-]+ ro\./);
    assert.ok(shutdown.indexOf('power button pressed') < shutdown.indexOf('reboot: Power down'));
    assert.ok(stopMs < 60_000, `the stop took ${Math.round(stopMs)} ms`);
    console.log(`graceful stop through the guest: ${(stopMs / 1000).toFixed(1)} s`);
    const check = qemuCheck(root);
    assert.equal(check.corruptions, 0);
    assert.equal(check.leaks, 0);
  } finally {
    ws?.terminate();
    agent.child.kill('SIGTERM');
    await agent.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
