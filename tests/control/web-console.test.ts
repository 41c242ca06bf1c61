// The web console in a real browser (Debian's chromium): log in with password and TOTP, see
// the overview, create a data center, read the audit log.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startBrowser, type TestBrowser } from '../support/browser.js';
import { ADMIN, ADMIN_PASSWORD, startTestMaster, type TestMaster } from '../support/master-client.js';

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
