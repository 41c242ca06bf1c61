import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect, createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { withTempDir } from '../../../tests/support/temp-dir.js';
import { SecurityError } from './security-error.js';
import { loadOrCreateTlsCertificate } from './tls-certificate.js';
import type { TlsCertificate } from './tls-certificate.js';

/** Serves `tls` on 127.0.0.1 and connects as a client trusting only that certificate; resolves with what the server said. */
async function handshake(tls: TlsCertificate, servername: string): Promise<string> {
  const server = createServer({ cert: tls.cert, key: tls.key }, (socket) => socket.end('hello over tls'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<string>((resolve, reject) => {
      const options = { host: '127.0.0.1', port, ca: tls.cert, ...(servername === '' ? {} : { servername }) };
      const socket = connect(options, () => {
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('end', () => resolve(text));
      });
      socket.on('error', reject);
    });
  } finally {
    server.close();
  }
}

test('a new self-signed certificate serves TLS to a client that trusts it, by every name it was made for', () =>
  withTempDir('vireo-tls-', async (dir) => {
    const tls = await loadOrCreateTlsCertificate(dir, ['master.example.org', '192.0.2.10']);
    assert.equal(await handshake(tls, 'localhost'), 'hello over tls');
    assert.equal(await handshake(tls, 'master.example.org'), 'hello over tls');
    // No servername: the client checks the IP address it connected to, 127.0.0.1.
    assert.equal(await handshake(tls, ''), 'hello over tls');
    await assert.rejects(handshake(tls, 'other.example.org'), /does not match|altnames/i);
  }));

test('the certificate: P-256, serverAuth, one year, the names asked for plus the loopback; key file 0600', () =>
  withTempDir('vireo-tls-', async (dir) => {
    const tls = await loadOrCreateTlsCertificate(dir, ['master.example.org', '192.0.2.10']);
    const cert = new X509Certificate(tls.cert);
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(cert.ca, false);
    const san = cert.subjectAltName ?? '';
    for (const name of ['DNS:master.example.org', 'DNS:localhost', 'IP Address:192.0.2.10', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']) {
      assert.ok(san.includes(name), `${name} in ${san}`);
    }
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    assert.ok(days > 364 && days < 366, `${days} days`);
    assert.ok(Date.parse(cert.validFrom) <= Date.now());
    assert.equal(tls.fingerprintSha256, cert.fingerprint256);
    assert.match(tls.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal((await stat(join(dir, 'tls.key'))).mode & 0o777, 0o600);
    assert.equal(await readFile(join(dir, 'tls.key'), 'utf8'), tls.key);
    assert.equal(await readFile(join(dir, 'tls.crt'), 'utf8'), tls.cert);
  }));

test('a second call uses the files already there', () =>
  withTempDir('vireo-tls-', async (dir) => {
    const first = await loadOrCreateTlsCertificate(dir, ['a.example']);
    const second = await loadOrCreateTlsCertificate(dir, ['b.example']);
    assert.deepEqual(second, first);
  }));

test('half a pair, unreadable PEM or a key of another certificate is refused with a clear error', () =>
  withTempDir('vireo-tls-', async (dir) => {
    const other = join(dir, 'other');
    await loadOrCreateTlsCertificate(dir, []);
    const mine = { cert: await readFile(join(dir, 'tls.crt'), 'utf8'), key: await readFile(join(dir, 'tls.key'), 'utf8') };
    const isKind = (message: RegExp) => (e: unknown) => e instanceof SecurityError && e.kind === 'bad-tls-files' && message.test(e.message);
    await mkdir(other);
    await writeFile(join(other, 'tls.crt'), mine.cert);
    await assert.rejects(loadOrCreateTlsCertificate(other, []), isKind(/tls\.crt is there but .*tls\.key is not/));
    await writeFile(join(other, 'tls.key'), 'not a key');
    await assert.rejects(loadOrCreateTlsCertificate(other, []), isKind(/tls\.key is not a PEM private key/));
    await writeFile(join(other, 'tls.crt'), 'not a certificate');
    await writeFile(join(other, 'tls.key'), mine.key);
    await assert.rejects(loadOrCreateTlsCertificate(other, []), isKind(/tls\.crt is not a PEM certificate/));
    const third = join(dir, 'third');
    await mkdir(third);
    await loadOrCreateTlsCertificate(third, []);
    await writeFile(join(third, 'tls.key'), mine.key);
    await assert.rejects(loadOrCreateTlsCertificate(third, []), isKind(/is not the private key of/));
  }));
