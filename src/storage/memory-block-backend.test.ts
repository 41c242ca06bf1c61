import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockBackendError } from './block-backend.js';
import { runBlockBackendConformance } from './block-backend-conformance.js';
import { MemoryBlockBackend } from './memory-block-backend.js';

runBlockBackendConformance('MemoryBlockBackend', (contents, { readOnly }) => ({
  backend: new MemoryBlockBackend({ contents, readOnly }),
  close: () => {},
}));

test('MemoryBlockBackend refuses sizes that are not positive multiples of 512', () => {
  for (const size of [0, 100, 513, -512]) {
    assert.throws(() => new MemoryBlockBackend({ size }), (e: unknown) => e instanceof BlockBackendError && e.kind === 'bad-size');
  }
  assert.equal(new MemoryBlockBackend({ size: 1024 }).size, 1024);
});

test('MemoryBlockBackend copies its initial contents', async () => {
  const contents = new Uint8Array(512);
  const b = new MemoryBlockBackend({ contents });
  await b.write(0, Uint8Array.of(1));
  assert.equal(contents[0], 0);
});
