import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCompleteManifest } from './complete-manifest.js';

const HASH = 'ab'.repeat(32);

function sample(): Record<string, unknown> {
  return {
    format: 1,
    image: 'debian-trixie-riscv64-complete',
    suite: 'trixie',
    architecture: 'riscv64',
    mirror: { host: 'mirror.example', uri: 'http://mirror.example/debian' },
    kernelVersion: '6.12.117+deb13-riscv64',
    configuration: { revision: 2, hostname: 'vireo-debian', user: 'debian', password: 'generated', authorizedKeys: 0, sizeGiB: 4, kernelParameters: 'ro console=ttyS0' },
    packages: [{ name: 'hello', version: '2.10-5', architecture: 'riscv64', sha256: HASH, size: 53000, required: false }],
    output: { file: 'debian.qcow2', sha256: HASH, size: 1 << 30, format: 'qcow2' },
    filesystems: { rootUuid: 'r', bootUuid: 'b' },
    times: { fetch: 20, secondStage: 900 },
    builtAt: '2026-12-02T16:00:00.000Z',
  };
}

test('a well-formed manifest parses to the same data', () => {
  const parsed = parseCompleteManifest(sample());
  assert.deepEqual(parsed, sample());
  assert.equal(parsed.configuration.password, 'generated');
});

test('each malformed field is refused by name, with a bad-manifest kind', () => {
  const cases: Array<[(m: Record<string, unknown>) => void, RegExp]> = [
    [(m) => (m['format'] = 2), /format is 2, expected 1/],
    [(m) => (m['packages'] = []), /packages must be a non-empty list/],
    [(m) => ((m['packages'] as Array<Record<string, unknown>>)[0]!['sha256'] = 'xyz'), /packages\[0\]\.sha256 must be 64/],
    [(m) => ((m['packages'] as Array<Record<string, unknown>>)[0]!['required'] = 'yes'), /packages\[0\]\.required must be true or false/],
    [(m) => ((m['configuration'] as Record<string, unknown>)['password'] = 'hunter2'), /configuration\.password must be generated, file or none/],
    [(m) => ((m['output'] as Record<string, unknown>)['file'] = '../x.qcow2'), /output\.file must be a plain file name/],
    [(m) => ((m['output'] as Record<string, unknown>)['format'] = 'raw'), /output\.format must be qcow2/],
    [(m) => (m['times'] = { fetch: -1 }), /times must map steps to seconds/],
    [(m) => delete m['filesystems'], /filesystems must be an object/],
  ];
  for (const [spoil, message] of cases) {
    const manifest = sample();
    spoil(manifest);
    assert.throws(() => parseCompleteManifest(manifest, '/cache/manifest.json'), (error: Error & { kind?: string }) => {
      assert.equal(error.kind, 'bad-manifest');
      assert.match(error.message, message);
      assert.match(error.message, /\/cache\/manifest\.json/);
      return true;
    });
  }
  assert.throws(() => parseCompleteManifest([]), /not a JSON object/);
});
