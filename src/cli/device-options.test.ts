import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDiskOption } from './disk-option.js';
import { parseShareOption } from './share-option.js';
import { UsageError } from './usage-error.js';

test('--disk takes a path, ro, a format and I/O limits', () => {
  assert.deepEqual(parseDiskOption('disk.img'), { path: 'disk.img', readOnly: false, limits: {} });
  assert.deepEqual(parseDiskOption('/a/b.qcow2,ro,format=qcow2'), { path: '/a/b.qcow2', readOnly: true, format: 'qcow2', limits: {} });
  assert.deepEqual(parseDiskOption('d.img,iops=200,bps=4M,iops-rd=50,bps-wr=1K,iops-burst=400'), {
    path: 'd.img', readOnly: false, limits: { iops: 200, bps: 4 << 20, iopsRead: 50, bpsWrite: 1024, iopsBurst: 400 },
  });
});

test('--disk refuses unknown keys, bad formats and bad limits with a usage error that names them', () => {
  const refuses = (text: string, message: RegExp) => assert.throws(() => parseDiskOption(text), (e: unknown) => e instanceof UsageError && message.test(e.message));
  refuses('', /--disk takes FILE/);
  refuses('d.img,format=vmdk', /format= takes raw or qcow2, got 'vmdk'/);
  refuses('d.img,cache=none', /does not know 'cache=none'/);
  refuses('d.img,rw', /does not know 'rw'/);
  refuses('d.img,iops=fast', /iops=fast is not valid/);
  refuses('d.img,iops=10K', /iops=10K is not valid/);
  refuses('d.img,bps=-1', /bps=-1 is not valid/);
  refuses('d.img,iops=', /does not know 'iops='/);
});

test('--share takes a directory, a tag and ro', () => {
  assert.deepEqual(parseShareOption('/srv/data,tag=data'), { root: '/srv/data', tag: 'data', readOnly: false });
  assert.deepEqual(parseShareOption('dir,ro,tag=t'), { root: 'dir', tag: 't', readOnly: true });
  assert.throws(() => parseShareOption('dir'), /needs a tag/);
  assert.throws(() => parseShareOption('dir,tag='), /does not know 'tag='/);
  assert.throws(() => parseShareOption(',tag=x'), /--share takes/);
  assert.throws(() => parseShareOption('dir,tag=x,rw'), /does not know 'rw'/);
});
