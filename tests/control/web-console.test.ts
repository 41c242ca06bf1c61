// The web console in a real browser (Debian's chromium): log in with password and TOTP, see
// the overview, create a data center, read the audit log; then add a host's physical LUN, carve
// a virtual LUN, create and start a VM with it on a real host agent, watch Debian's kernel boot
// in the page's console, and type a command into it that reads the LUN's size in the guest.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Locator } from 'playwright-core';
import { ensureDebianImage } from '../../src/images/debian-image.js';
import { AgentProcess, eventually, stopAgents } from '../support/agent-process.js';
import { startBrowser, type TestBrowser } from '../support/browser.js';
import { ADMIN, ADMIN_PASSWORD, startTestMaster, type TestMaster } from '../support/master-client.js';

const AGENT_TOKEN = 'web-console-agent-token-0123456789';
let m: TestMaster;
let browser: TestBrowser;
before(async () => {
  m = await startTestMaster();
  browser = await startBrowser();
});
after(async () => {
  await browser?.close();
  await m?.close();
});

test('log in with TOTP, create a data center, and find it in the audit log', async () => {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const started = Date.now();
  await page.goto(`${m.master.url}/`);
  await page.getByLabel('Name').waitFor();
  const interactiveMs = Date.now() - started;

  await page.getByLabel('Name').fill(ADMIN);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByLabel('TOTP code').fill('123456');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /wrong/u, 'a wrong code is refused on the page');

  await page.getByLabel('TOTP code').fill(m.clock.nextTotp(m.totpSecret));
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  assert.match(await page.locator('#who').innerText(), new RegExp(ADMIN, 'u'));

  await page.getByRole('link', { name: 'Data centers' }).click();
  await page.getByRole('heading', { name: 'Data centers' }).waitFor();
  const form = page.getByRole('form', { name: 'Create data center' });
  await form.getByLabel('Name').fill('dc-browser');
  await form.getByRole('button', { name: 'Create data center' }).click();
  await page.getByRole('cell', { name: 'dc-browser' }).waitFor();

  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByText('The hash chain of').waitFor();
  assert.ok(await page.getByRole('cell', { name: 'data-center.create' }).count() >= 1);
  assert.deepEqual(errors, []);
  console.log(`web console: login page interactive ${interactiveMs} ms after navigation`);
});

test('add storage, create and start a Debian VM with a virtual LUN, watch it boot in the console, type a command and read its output', async () => {
  const image = await ensureDebianImage();
  const dir = await mkdtemp(join(tmpdir(), 'vireo-web-agent-'));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${AGENT_TOKEN}\n`, { mode: 0o600 });
  const agent = await AgentProcess.start(join(dir, 'agent'), tokenFile);
  try {
    const admin = await m.admin();
    const dc = (await admin.call('POST', '/api/v1/data-centers', { name: 'dc-web-vm' })).body.id as string;
    await admin.call('POST', '/api/v1/tenants', { name: 'tenant-web' });
    const host = await admin.call('POST', '/api/v1/hosts', { dataCenterId: dc, name: 'host-web', url: `tcp:127.0.0.1:${agent.port}`, token: AGENT_TOKEN });
    assert.equal(host.status, 201, host.text);
    await eventually('the host is up', 20_000, async () => (await admin.call('GET', `/api/v1/hosts/${host.body.id}`)).body.state === 'up');

    const page = await browser.context.newPage();
    await page.goto(`${m.master.url}/#/luns`);
    await page.getByRole('heading', { name: 'Physical LUNs' }).waitFor();
    const physical = page.getByRole('form', { name: 'Add physical LUN' });
    await physical.getByLabel(/^Host/u).selectOption({ label: 'host-web' });
    await physical.getByRole('button', { name: 'Add physical LUN' }).click();
    await page.getByRole('cell', { name: join(dir, 'agent', 'luns') }).waitFor();
    const virtual = page.getByRole('form', { name: 'Create virtual LUN' });
    await virtual.getByLabel('Tenant').selectOption({ label: 'tenant-web' });
    await virtual.getByLabel('Data center').selectOption({ label: 'dc-web-vm' });
    await virtual.getByLabel('Name').fill('web-disk');
    await virtual.getByRole('button', { name: 'Create virtual LUN' }).click();
    await page.getByRole('cell', { name: 'web-disk' }).waitFor();

    await page.getByRole('link', { name: 'VMs' }).click();
    await page.getByRole('heading', { name: 'VMs' }).waitFor();
    const form = page.getByRole('form', { name: 'Create VM' });
    await form.getByLabel('Tenant').selectOption({ label: 'tenant-web' });
    await form.getByLabel('Data center').selectOption({ label: 'dc-web-vm' });
    await form.getByLabel('Name').fill('web-vm');
    await form.getByLabel('Kernel (path on the host)').fill(image.kernel);
    await form.getByLabel('Firmware').fill(image.firmware);
    await form.getByLabel('Initramfs').fill(image.initrd);
    // The initramfs's own busybox shell: Debian's kernel and modules, no root disk to wait for.
    await form.getByLabel('Kernel command line').fill('console=ttyS0 vireo.shell');
    await form.getByLabel('Virtual LUN').selectOption({ label: 'web-disk' });
    await form.getByRole('button', { name: 'Create VM' }).click();
    await page.getByRole('link', { name: 'web-vm' }).click();
    await page.getByRole('heading', { name: 'web-vm' }).waitFor();
    await page.getByText('Disks: virtual LUN web-disk; network: none').waitFor();
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByText('State: running').waitFor({ timeout: 60_000 });

    await page.getByRole('button', { name: 'Connect' }).click();
    const screen = page.locator('.xterm-rows');
    await waitForText(screen, /\[ *\d+\.\d+\] /u, 60_000); // the kernel's log, as it boots
    await waitForText(screen, /starting a shell/u, 120_000);
    await page.getByLabel('Serial console').click();
    // The 1 GiB virtual LUN is the guest's first disk: 2097152 sectors of 512 bytes.
    await page.keyboard.type('echo vireo-$((6*7)) sectors-$(cat /sys/block/vda/size)\r');
    await waitForText(screen, /vireo-42 sectors-2097152/u, 30_000);

    const audit = await admin.call('GET', '/api/v1/audit?action=vm.console');
    assert.equal(audit.body.items.length, 1, 'opening the console is audited');
    await page.getByRole('button', { name: 'Power off' }).click();
    await page.getByText('State: stopped').waitFor({ timeout: 60_000 });
  } finally {
    await stopAgents([agent]);
    await rm(dir, { recursive: true, force: true });
  }
});

async function waitForText(locator: Locator, pattern: RegExp, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let text = '';
  while (Date.now() < deadline) {
    text = await locator.innerText().catch(() => '');
    if (pattern.test(text)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the console never showed ${pattern}; it shows:\n${text}`);
}
