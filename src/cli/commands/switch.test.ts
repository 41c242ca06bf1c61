import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { macAddress, macToBytes } from '../../net/mac-address.js';
import { SwitchClient } from '../../net/switch-socket/switch-client.js';
import { main } from '../main.js';

// dist/src/cli/commands -> the repository's bin/.
const VIREO = fileURLToPath(new URL('../../../../bin/vireo.js', import.meta.url));

test('vireo switch serve answers ARP at --responder for the VMs that join, and stops on SIGTERM', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-switch-cli-'));
  const socket = join(dir, 'sw.sock');
  const child = spawn(process.execPath, [VIREO, 'switch', 'serve', '--socket', socket, '--responder', '10.0.2.2'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    while (!/serving on/.test(stderr)) await new Promise((r) => setTimeout(r, 20));
    const client = await SwitchClient.connect(socket);
    const me = macToBytes(macAddress('52:54:00:00:00:21'));
    const arp = new Uint8Array(42);
    arp.fill(0xff, 0, 6);
    arp.set(me, 6);
    arp.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1], 12);
    arp.set(me, 22);
    arp.set([10, 0, 2, 21], 28);
    arp.set([10, 0, 2, 2], 38);
    client.send(arp);
    while (client.pending === 0) await new Promise((r) => setTimeout(r, 10));
    const reply = client.receive()!;
    assert.deepEqual([reply[21], ...reply.subarray(28, 32)], [2, 10, 0, 2, 2], 'an ARP reply from 10.0.2.2');
    client.close();
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(existsSync(socket), false, 'the socket is removed');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vireo switch: usage errors', async () => {
  for (const argv of [['switch'], ['switch', 'run'], ['switch', 'serve'], ['switch', 'serve', '--socket', '/tmp/x', '--responder', '10.0.2']]) {
    assert.equal(await main(argv), 2, argv.join(' '));
  }
});
