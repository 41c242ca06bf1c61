import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserNetworkOptionError, checkUserNetworkOptions, parseUserNetworkOptions } from './user-network-options.js';
import { AddressPolicy } from './address-policy.js';
import { ipv4Address } from '../ipv4.js';

test('hostfwd, guestfwd and dns rules parse in QEMU form, with the defaults filled in', () => {
  const o = parseUserNetworkOptions('user,hostfwd=tcp::0-:22,hostfwd=udp:0.0.0.0:5353-10.0.2.16:53,guestfwd=tcp:10.0.2.2:80-127.0.0.1:8080,dns=127.0.0.1:5300');
  assert.deepEqual(o.hostForwards, [
    { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 22 },
    { protocol: 'udp', hostAddress: '0.0.0.0', hostPort: 5353, guestAddress: '10.0.2.16', guestPort: 53 },
  ]);
  assert.deepEqual(o.guestForwards, [{ protocol: 'tcp', guestPort: 80, hostAddress: '127.0.0.1', hostPort: 8080 }]);
  assert.deepEqual(o.dnsServers, [{ address: '127.0.0.1', port: 5300 }]);
  assert.deepEqual(parseUserNetworkOptions('user'), { hostForwards: [], guestForwards: [] });
});

test('bad rules are refused with a message naming the rule', () => {
  const cases: Array<[string, RegExp]> = [
    ['user,hostfwd=tcp:22', /hostfwd takes/],
    ['user,hostfwd=sctp::1-:2', /hostfwd takes/],
    ['user,hostfwd=tcp::1-:0', /guest port/],
    ['user,hostfwd=tcp::70000-:22', /host port/],
    ['user,hostfwd=tcp:localhost:1-:22', /malformed/],
    ['user,guestfwd=tcp:10.0.2.9:80-127.0.0.1:80', /gateway 10\.0\.2\.2/],
    ['user,guestfwd=tcp:10.0.2.2:80-127.0.0.1:80,guestfwd=tcp:10.0.2.2:80-127.0.0.1:81', /two guestfwd/],
    ['user,dns=example', /IPv4/],
    ['user,restrict=on', /unknown user networking option/],
    ['tap', /start with 'user'/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseUserNetworkOptions(text), (e: unknown) => e instanceof UserNetworkOptionError && message.test(e.message), text);
});

test('options read back from a file are checked field by field', () => {
  assert.equal(checkUserNetworkOptions({ hostForwards: [], guestForwards: [] }), undefined);
  assert.match(checkUserNetworkOptions({ hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: -1, guestPort: 22 }], guestForwards: [] })!, /hostfwd/);
  assert.match(checkUserNetworkOptions({ hostForwards: [], guestForwards: [{ protocol: 'tcp', guestPort: 80, hostAddress: 'x', hostPort: 1 }] })!, /guestfwd/);
  assert.match(checkUserNetworkOptions({ hostForwards: [] })!, /lack/);
  assert.match(checkUserNetworkOptions(null)!, /not an object/);
});

test('the policy refuses the host loopback, the gateway without a rule and non-unicast addresses', () => {
  const policy = new AddressPolicy(ipv4Address('10.0.2.2'), { base: ipv4Address('10.0.2.0'), prefix: 24 }, [{ protocol: 'tcp', guestPort: 80, hostAddress: '127.0.0.1', hostPort: 8080 }]);
  assert.deepEqual(policy.resolve('tcp', ipv4Address('10.0.2.2'), 80), { allowed: true, host: '127.0.0.1', port: 8080 });
  assert.deepEqual(policy.resolve('tcp', ipv4Address('93.184.216.34'), 443), { allowed: true, host: '93.184.216.34', port: 443 });
  for (const [protocol, address, port] of [['udp', '10.0.2.2', 80], ['tcp', '10.0.2.2', 22], ['tcp', '127.0.0.1', 22], ['tcp', '127.1.2.3', 80], ['tcp', '0.0.0.0', 80], ['udp', '224.0.0.251', 5353], ['udp', '255.255.255.255', 67], ['tcp', '169.254.169.254', 80], ['tcp', '10.0.2.77', 80]] as const) {
    assert.equal(policy.resolve(protocol, ipv4Address(address), port).allowed, false, `${protocol} ${address}:${port}`);
  }
});
