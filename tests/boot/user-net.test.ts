// User-mode networking with a booted Debian guest, in one boot: udhcpc gets its lease, wget
// fetches a file from a loopback HTTP server through a guestfwd rule (and cannot reach one
// without a rule), a name resolves through a DNS server the test runs, and a web server in the
// guest answers the host through hostfwd.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, get } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage } from '../../src/images/debian-image.js';
import { CliVm } from '../support/cli-vm.js';
import { qemuImg } from '../storage/qemu-img.js';

const PROMPT = /root@vireo:[^\n]*# $/;
const BOOT_MS = 300_000;
const BLOB = randomBytes(4 << 20);

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

/** Answers every A query with 10.0.2.2 (RFC 1035 4.1: the question echoed, one answer pointing at it). */
async function fakeDns(): Promise<{ port: number; names: string[]; close(): void }> {
  const socket = createSocket('udp4');
  const names: string[] = [];
  socket.on('message', (query, from) => {
    let i = 12;
    const labels: string[] = [];
    while (query[i]) {
      labels.push(query.subarray(i + 1, i + 1 + query[i]!).toString());
      i += 1 + query[i]!;
    }
    names.push(labels.join('.'));
    const question = query.subarray(12, i + 5);
    const isA = query.readUInt16BE(i + 1) === 1;
    const header = Buffer.from([query[0]!, query[1]!, 0x81, 0x80, 0, 1, 0, isA ? 1 : 0, 0, 0, 0, 0]);
    const answer = isA ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 2, 2]) : Buffer.alloc(0);
    socket.send(Buffer.concat([header, question, answer]), from.port, from.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { port: socket.address().port, names, close: () => socket.close() };
}

function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, timeout: 60_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

test('a Debian guest on --net user: DHCP, DNS, wget through guestfwd, the loopback refused, hostfwd into the guest', { timeout: 900_000 }, async () => {
  const img = await ensureDebianImage();
  const dir = mkdtempSync(join(tmpdir(), 'vireo-user-net-'));
  const web = createServer((req, res) => {
    if (req.url === '/blob') res.end(BLOB);
    else res.end('hello from the host\n');
  });
  let unlistedHits = 0;
  const unlisted = createServer((_req, res) => {
    unlistedHits++;
    res.end('should not be reachable\n');
  });
  const dns = await fakeDns();
  let vm: CliVm | undefined;
  try {
    const webPort = await listen(web);
    const unlistedPort = await listen(unlisted);
    const root = join(dir, 'root.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', img.rootDisk, '-F', 'raw', root);
    vm = new CliVm(['--disk', root, '--net', `user,hostfwd=tcp::0-:8080,guestfwd=tcp:10.0.2.2:80-127.0.0.1:${webPort},dns=127.0.0.1:${dns.port}`]);
    const forward = await vm.waitFor(/vireo: forwarding tcp 127\.0\.0\.1:(\d+) -> guest port 8080/, 60_000);
    const hostPort = Number(forward[1]);
    assert.ok(hostPort > 0);
    await vm.waitFor(PROMPT, BOOT_MS);

    const lease = await vm.run('udhcpc -i eth0 -n -q -t 5 2>&1; echo udhcpc=$?');
    assert.match(lease, /udhcpc=0/, lease);
    assert.match(await vm.run('ip -4 addr show eth0'), /inet 10\.0\.2\.15\/24/);
    assert.match(await vm.run('ip route'), /default via 10\.0\.2\.2 dev eth0/);
    assert.match(await vm.run('cat /etc/resolv.conf'), /^nameserver 10\.0\.2\.3$/m);
    assert.match(await vm.run('ping -c 1 -W 5 10.0.2.2'), /1 packets transmitted, 1 (packets )?received/);

    // A few MiB from the host's loopback through the guestfwd rule, checked end to end.
    const sum = await vm.run('wget -q -O - http://10.0.2.2/blob | sha256sum', 300_000);
    assert.equal(sum.trim().split(/\s+/)[0], createHash('sha256').update(BLOB).digest('hex'));
    // The same host's other loopback service has no rule: refused.
    const refused = await vm.run(`wget -q -T 10 -O - http://10.0.2.2:${unlistedPort}/; echo wget=$?`);
    assert.match(refused, /wget=[1-9]/, refused);
    assert.equal(unlistedHits, 0);

    // A name through 10.0.2.3 to the test's DNS server; the answer, 10.0.2.2, then serves a page.
    const lookup = await vm.run('nslookup vireo.test');
    assert.match(lookup, /Address:?\s+10\.0\.2\.2\b/, lookup);
    assert.ok(dns.names.includes('vireo.test'), dns.names.join(','));
    assert.equal((await vm.run('wget -q -O - http://vireo.test/hello')).trim(), 'hello from the host');

    // A web server in the guest, reached from the host through hostfwd.
    await vm.run('mkdir -p /www && echo served-by-the-guest > /www/index.html && httpd -p 8080 -h /www');
    assert.equal((await httpGet(hostPort, '/index.html')).trim(), 'served-by-the-guest');
  } finally {
    await vm?.kill('SIGTERM');
    web.close();
    unlisted.close();
    dns.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
