// tcp:HOST:PORT as users write it: hostnames, IPv4, bracketed IPv6, and ports 1 to 65535.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMigrationTarget } from './migration-target.js';

test('accepts hostnames, IPv4 and bracketed IPv6 with ports 1 to 65535', () => {
  assert.deepEqual(parseMigrationTarget('tcp:dest.example:4444'), { host: 'dest.example', port: 4444 });
  assert.deepEqual(parseMigrationTarget('tcp:10.0.0.7:1'), { host: '10.0.0.7', port: 1 });
  assert.deepEqual(parseMigrationTarget('tcp:[fe80::1]:65535'), { host: 'fe80::1', port: 65535 });
});

test('refuses other schemes, missing parts, bad ports and unbracketed IPv6, saying why', () => {
  const cases: Array<[string, RegExp]> = [
    ['udp:host:1', /not tcp:HOST:PORT/], ['tcp:host', /not tcp:HOST:PORT/], ['tcp:host:', /not tcp:HOST:PORT/],
    ['tcp:host:0', /port 0; a port is 1 to 65535/], ['tcp:host:65536', /port 65536/], ['tcp:host:-1', /not tcp:HOST:PORT/],
    ['tcp:fe80::1:80', /in brackets: tcp:\[fe80::1\]:80/], ['tcp:[fe80::1:80', /unclosed bracket/], ['tcp:[]:80', /no valid host/],
    ['tcp:a b:80', /no valid host/],
  ];
  for (const [text, why] of cases) {
    const result = parseMigrationTarget(text);
    assert.equal(typeof result, 'string', text);
    assert.match(result as string, why, text);
  }
});
