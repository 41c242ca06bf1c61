import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageError } from './image-error.js';
import { fakeModule } from './testing/fake-module.js';
import { formatModulesDep, modinfoDeps, moduleLoadOrder, moduleName, parseModinfo, parseModulesBuiltin, parseModulesDep } from './module-deps.js';

// The shape of depmod's output for the modules the guest needs (6.12, paths shortened).
const MODULES_DEP = `kernel/fs/ext4/ext4.ko.xz: kernel/fs/jbd2/jbd2.ko.xz kernel/lib/crc16.ko.xz kernel/fs/mbcache.ko.xz
kernel/fs/jbd2/jbd2.ko.xz:
kernel/fs/mbcache.ko.xz:
kernel/lib/crc16.ko.xz:
kernel/crypto/crc32c_generic.ko.xz:
kernel/drivers/virtio/virtio_mmio.ko.xz:
kernel/drivers/block/virtio_blk.ko.xz:
kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz
kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz
kernel/net/core/failover.ko.xz:
kernel/drivers/char/hw_random/virtio-rng.ko.xz:
`;
const BUILTIN = 'kernel/drivers/char/virtio_console.ko\nkernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\n';

const isKind = (kind: string) => (e: unknown) => e instanceof ImageError && e.kind === kind;

test('module names drop directory and compression and treat - as _', () => {
  assert.equal(moduleName('kernel/drivers/char/hw_random/virtio-rng.ko.xz'), 'virtio_rng');
  assert.equal(moduleName('ext4.ko'), 'ext4');
  assert.equal(moduleName('kernel/fs/jbd2/jbd2.ko.zst'), 'jbd2');
});

test('modules.dep parses into names, paths and dependencies', () => {
  const graph = parseModulesDep(MODULES_DEP);
  assert.equal(graph.size, 11);
  assert.deepEqual(graph.get('ext4'), { path: 'kernel/fs/ext4/ext4.ko.xz', deps: ['jbd2', 'crc16', 'mbcache'] });
  assert.deepEqual(graph.get('virtio_rng')?.deps, []);
});

test('the load order puts every module after what it needs, skipping built-ins', () => {
  const graph = parseModulesDep(MODULES_DEP);
  const builtin = parseModulesBuiltin(BUILTIN);
  const targets = ['crc32c_generic', 'ext4', 'virtio_mmio', 'virtio_blk', 'virtio_net', 'virtio_rng', 'virtio_console'];
  const order = moduleLoadOrder(graph, targets, builtin);
  assert.deepEqual(order, ['crc32c_generic', 'jbd2', 'crc16', 'mbcache', 'ext4', 'virtio_mmio', 'virtio_blk', 'failover', 'net_failover', 'virtio_net', 'virtio_rng']);
  for (const [i, name] of order.entries()) {
    for (const dep of graph.get(name)!.deps) assert.ok(order.indexOf(dep) < i, `${dep} before ${name}`);
  }
  assert.equal(new Set(order).size, order.length, 'each module once');
});

test('a module that is neither shipped nor built in is an error naming who needs it', () => {
  const graph = parseModulesDep('kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko\n');
  assert.throws(() => moduleLoadOrder(graph, ['ext4']), (e: unknown) => isKind('bad-modules')(e) && /jbd2 \(needed by ext4\)/.test((e as Error).message));
  assert.throws(() => moduleLoadOrder(graph, ['virtio_blk']), isKind('bad-modules'));
});

test('a dependency cycle is an error, not an endless loop', () => {
  const graph = parseModulesDep('a.ko: b.ko\nb.ko: c.ko\nc.ko: a.ko\n');
  assert.throws(() => moduleLoadOrder(graph, ['a']), (e: unknown) => isKind('bad-modules')(e) && /a -> b -> c -> a/.test((e as Error).message));
});

test('a modules.dep for the chosen modules lists all their dependencies', () => {
  const graph = parseModulesDep(MODULES_DEP);
  const order = moduleLoadOrder(graph, ['virtio_net', 'virtio_rng']);
  const text = formatModulesDep(graph, order, (name) => graph.get(name)!.path.replace(/\.xz$/, ''));
  assert.equal(
    text,
    'kernel/net/core/failover.ko:\n' +
      'kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko\n' +
      'kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko\n' +
      'kernel/drivers/char/hw_random/virtio-rng.ko:\n',
  );
});

test('.modinfo gives a module its dependencies and pre soft dependencies', () => {
  const info = parseModinfo(fakeModule(['license=GPL', 'softdep=pre: crc32c', 'depends=mbcache,jbd2,crc16', 'name=ext4', 'alias=fs-ext4', 'alias=ext3']));
  assert.deepEqual(info.get('alias'), ['fs-ext4', 'ext3']);
  assert.deepEqual(modinfoDeps(info), { depends: ['mbcache', 'jbd2', 'crc16'], softPre: ['crc32c'] });
  assert.deepEqual(modinfoDeps(parseModinfo(fakeModule(['depends=', 'softdep=pre: a b-c post: d']))), { depends: [], softPre: ['a', 'b_c'] });
});

test('something that is not a module is reported', () => {
  assert.throws(() => parseModinfo(Buffer.from('not an elf file at all, just text, long enough to have a header................')), isKind('bad-modules'));
  const noModinfo = fakeModule(['depends=']);
  noModinfo.write('.nomodin', 64 + 11, 'latin1');
  assert.throws(() => parseModinfo(noModinfo), (e: unknown) => isKind('bad-modules')(e) && /no \.modinfo/.test((e as Error).message));
});
