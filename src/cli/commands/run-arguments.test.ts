import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunArguments } from './run-arguments.js';
import { UsageError } from '../usage-error.js';

test('--net host and --net user with forwarding rules', () => {
  assert.equal(parseRunArguments([])!.net, undefined);
  assert.deepEqual(parseRunArguments(['--net', 'host'])!.net, { mode: 'host' });
  assert.deepEqual(parseRunArguments(['--net', 'user,hostfwd=tcp::0-:8080,guestfwd=tcp:10.0.2.2:80-127.0.0.1:8000,dns=127.0.0.1:5353'])!.net, {
    mode: 'user',
    user: {
      hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 8080 }],
      guestForwards: [{ protocol: 'tcp', guestPort: 80, hostAddress: '127.0.0.1', hostPort: 8000 }],
      dnsServers: [{ address: '127.0.0.1', port: 5353 }],
    },
  });
});

test('a bad --net is a usage error naming what is wrong', () => {
  for (const [text, message] of [['tap', /takes 'host'.*or 'user/], ['user,hostfwd=tcp:x', /hostfwd takes/], ['user,bogus', /unknown user networking option/]] as const) {
    assert.throws(() => parseRunArguments(['--net', text]), (e: unknown) => e instanceof UsageError && message.test(e.message), text);
  }
});
