import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mirrorFromUri, parseDeb822Sources, parseOneLineSources, pickDebianMirror, readHostSources } from './apt-sources.js';
import { parseDeb822 } from './deb822.js';

// Shaped like a Debian 12 cloud image's /etc/apt/sources.list.d/debian.sources.
const DEB822 = `Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main contrib
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGPL0BUBEADmW5NdOOHwPIJlgPu6JDcKw/NZJPR8lsD9K7UgrTfPIvK6K8m7
 -----END PGP PUBLIC KEY BLOCK-----
`;

test('deb822 stanzas: comments skipped, continuation lines joined, keys case-insensitive', () => {
  const stanzas = parseDeb822(DEB822);
  assert.equal(stanzas.length, 2);
  assert.equal(stanzas[0]!['uris'], 'http://mirror.example/debian');
  assert.equal(stanzas[1]!['signed-by']!.split('\n').length, 5);
  assert.equal(stanzas[1]!['signed-by']!.split('\n')[2], '');
});

test('deb822 sources give types, URIs, suites, components and options', () => {
  const [main, security] = parseDeb822Sources(DEB822, 'debian.sources');
  assert.deepEqual(main, {
    types: ['deb'],
    uris: ['http://mirror.example/debian'],
    suites: ['bookworm', 'bookworm-updates'],
    components: ['main'],
    options: { 'signed-by': '/usr/share/keyrings/debian-archive-keyring.gpg' },
    file: 'debian.sources',
  });
  assert.deepEqual(security?.types, ['deb', 'deb-src']);
  assert.deepEqual(security?.components, ['main', 'contrib']);
});

test('one-line sources: options in brackets, comments and blank lines ignored', () => {
  const sources = parseOneLineSources(
    [
      '# the main archive',
      'deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian/ bookworm main contrib # trailing comment',
      '',
      'deb-src http://mirror.example/debian bookworm main',
      'deb [ trusted=yes ] file:/srv/repo ./',
      'deb [broken http://mirror.example/debian bookworm main',
    ].join('\n'),
  );
  assert.equal(sources.length, 3);
  assert.deepEqual(sources[0], {
    types: ['deb'],
    uris: ['http://mirror.example/debian/'],
    suites: ['bookworm'],
    components: ['main', 'contrib'],
    options: { arch: 'amd64,arm64', 'signed-by': '/usr/share/keyrings/debian-archive-keyring.gpg' },
    file: 'sources.list',
  });
  assert.deepEqual(sources[1]!.types, ['deb-src']);
  assert.deepEqual(sources[2]!.options, { trusted: 'yes' });
  assert.deepEqual(sources[2]!.suites, ['./']);
});

test('the Debian mirror is the first enabled deb entry whose path ends in /debian', () => {
  const sources = [
    ...parseOneLineSources('deb https://packages.example/apt cloud-sdk main\ndeb-src http://src.example/debian bookworm main'),
    ...parseDeb822Sources('Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n'),
    ...parseDeb822Sources(DEB822.split('\n\n').reverse().join('\n\n')),
  ];
  assert.deepEqual(pickDebianMirror(sources), { uri: 'http://mirror.example/debian', host: 'mirror.example', signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg' });
  assert.deepEqual(pickDebianMirror(parseOneLineSources('deb [signed-by=/k.gpg] https://user:pw@m.example:8080/debian/ trixie main')), {
    uri: 'https://user:pw@m.example:8080/debian',
    host: 'm.example:8080',
    signedBy: '/k.gpg',
  });
  assert.equal(pickDebianMirror(parseOneLineSources('deb http://archive.example/ubuntu noble main')), undefined);
  assert.equal(pickDebianMirror([]), undefined);
});

test('mirror URIs must be URLs apt can fetch from', () => {
  assert.equal(mirrorFromUri('cdrom:[Debian 12]/'), undefined);
  assert.equal(mirrorFromUri('not a url'), undefined);
  assert.equal(mirrorFromUri('http://m.example/debian///')?.uri, 'http://m.example/debian');
});

test('host sources are read from sources.list and sources.list.d (*.list, *.sources only)', () => {
  const etc = mkdtempSync(join(tmpdir(), 'vireo-apt-'));
  try {
    mkdirSync(join(etc, 'sources.list.d'));
    writeFileSync(join(etc, 'sources.list'), '# nothing here\n');
    writeFileSync(join(etc, 'sources.list.d', 'b-debian.sources'), DEB822);
    writeFileSync(join(etc, 'sources.list.d', 'a-extra.list'), 'deb http://extra.example/debian trixie main\n');
    writeFileSync(join(etc, 'sources.list.d', 'c-old.list.disabled'), 'deb http://disabled.example/debian sid main\n');
    const sources = readHostSources(etc);
    assert.deepEqual(sources.map((s) => s.uris[0]), ['http://extra.example/debian', 'http://mirror.example/debian', 'http://mirror.example/debian-security']);
    assert.equal(pickDebianMirror(sources)?.host, 'extra.example');
    assert.deepEqual(readHostSources(join(etc, 'missing')), []);
  } finally {
    rmSync(etc, { recursive: true, force: true });
  }
});
