/**
 * The dashboard in real Chromium (Debian's, through playwright-core) against a real server and a
 * fake upstream on 127.0.0.1: sign-in as admin and viewer, register (with a field error first),
 * the status turning online live, a test, disable, the history chart, models and traffic, the
 * viewer's missing controls (and the server's refusal), phone width and the keyboard. Any
 * console error fails the test. With SCREENSHOTS_DIR set, each page is saved as a PNG.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type TestBrowser, browserAvailable, launchBrowser } from '../helpers/browser.js';
import { ADMIN_KEY, type LlmlbServer, NODE_KEY, VIEWER_KEY, useFixtures } from '../helpers/llmlb-server.js';

const { upstream, llmlb } = useFixtures();
const shots = process.env.SCREENSHOTS_DIR;
let browser: TestBrowser;

beforeAll(async () => {
  if (browserAvailable) browser = await launchBrowser();
}, 30_000);
afterAll(async () => browser?.close());
// Runs before the fixtures' cleanup (hooks run in reverse): pages close before their server stops.
afterEach(async () => {
  if (!browser) return;
  await browser.closePages();
  const errors = browser.errors.splice(0);
  expect(errors).toEqual([]);
});

async function shoot(page: Page, name: string): Promise<void> {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(`${url}/dashboard/`);
  await page.getByLabel('API key (admin or viewer)').fill(key);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
}

const server = () => llmlb({ events: { trafficIntervalMs: 250 } }, { dashboard: true });

describe.skipIf(!browserAvailable)('dashboard', () => {
  it('admin: register, watch it go online, test, disable, open its history chart; models and traffic', async () => {
    const s = await server();
    const u = await upstream({ name: 'gpu-1', models: ['llama3.1:8b', 'nomic-embed-text'] });
    const page = await browser.page();
    await signIn(page, s.url, ADMIN_KEY);

    await page.getByRole('button', { name: 'Register endpoint' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('gpu-1');
    await dialog.getByLabel('Base URL').fill('not a url');
    await dialog.getByRole('button', { name: 'Register' }).click();
    await expect.poll(() => dialog.getByLabel('Base URL').getAttribute('aria-invalid')).toBe('true');
    expect(await dialog.locator('#base_url-error').textContent()).not.toBe('');
    await dialog.getByLabel('Base URL').fill(u.url());
    await dialog.getByRole('button', { name: 'Register' }).click();

    const row = page.locator('tr[data-endpoint="gpu-1"]');
    await row.locator('.badge-online').waitFor();
    await expect.poll(() => row.locator('td[data-label="Models"]').textContent()).toBe('2');
    await shoot(page, 'endpoints');

    await page.getByRole('button', { name: 'Test gpu-1' }).click();
    await page.getByRole('status').filter({ hasText: 'test passed' }).waitFor();
    await page.getByRole('button', { name: 'Disable gpu-1' }).click();
    await row.locator('.badge-disabled').waitFor();
    await page.getByRole('button', { name: 'Enable gpu-1' }).click();
    await row.locator('.badge-enabled').waitFor();

    await row.getByRole('link', { name: 'gpu-1' }).click();
    await page.getByRole('heading', { name: 'Health history' }).waitFor();
    await page.locator('.chart canvas').first().waitFor();
    await expect.poll(() => page.locator('table.grid').first().locator('tbody tr').count()).toBeGreaterThanOrEqual(2);
    expect(await page.getByRole('cell', { name: 'nomic-embed-text' }).count()).toBe(1);
    await shoot(page, 'endpoint-detail');

    await page.getByRole('link', { name: 'Models' }).click();
    await page.getByRole('cell', { name: 'llama3.1:8b' }).waitFor();
    await shoot(page, 'models');

    await page.getByRole('link', { name: 'Traffic' }).click();
    for (let i = 0; i < 5; i++) {
      await s.infer('/v1/chat/completions', { model: 'llama3.1:8b', messages: [], stream: i % 2 === 0, stream_options: { include_usage: true } }).then((r) => r.text());
    }
    await page.locator('.chart canvas').first().waitFor();
    await page.getByRole('cell', { name: 'chat (stream)' }).first().waitFor();
    await shoot(page, 'traffic');
  });

  it('admin: deletes only after confirmation, by keyboard', async () => {
    const s = await server();
    const u = await upstream({ name: 'gpu-2' });
    await s.admin('POST', '/v0/endpoints', { name: 'gpu-2', base_url: u.url() });
    // Its first check done: no status change re-renders the row while the keyboard is used.
    await s.router.checker.idle();
    const page = await browser.page();
    await signIn(page, s.url, ADMIN_KEY);
    const row = page.locator('tr[data-endpoint="gpu-2"]');
    await row.locator('td[data-label="Status"]', { hasText: 'online' }).waitFor();
    await page.getByRole('button', { name: 'Delete gpu-2' }).press('Enter');
    await page.getByRole('dialog', { name: 'Delete gpu-2?' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await row.count()).toBe(1);
    await page.getByRole('button', { name: 'Delete gpu-2' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await s.admin('GET', '/v0/endpoints')).body.total).toBe(0);
  });

  it('admin: lists pending nodes with their details; approves one, rejects another after confirmation', async () => {
    const s = await server();
    const register = async (target: LlmlbServer, name: string, extra: Record<string, unknown>) => {
      const u = await upstream({ name });
      const res = await fetch(`${target.url}/v0/nodes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${NODE_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, base_url: u.url(), ...extra }),
      });
      expect(res.status).toBe(201);
    };
    await register(s, 'node-a', { runtime: { type: 'vllm', version: '0.6.1' }, gpus: [{ model: 'NVIDIA L4', memory_mb: 23040 }, { model: 'NVIDIA L4', memory_mb: 23040 }], labels: { zone: 'a' } });
    await register(s, 'node-b', {});
    const page = await browser.page();
    await signIn(page, s.url, ADMIN_KEY);
    await page.getByRole('link', { name: 'Nodes' }).click();
    const a = page.locator('tr[data-node="node-a"]');
    await a.waitFor();
    expect(await a.locator('td[data-label="Runtime"]').textContent()).toBe('vllm 0.6.1');
    expect(await a.locator('td[data-label="GPUs"]').textContent()).toBe('2 × NVIDIA L4 (22.5 GiB)');
    expect(await a.locator('td[data-label="Labels"]').textContent()).toBe('zone=a');
    await a.locator('.badge-pending_approval').waitFor();
    await page.getByText('2 pending approval').waitFor();
    await shoot(page, 'nodes');

    await page.getByRole('button', { name: 'Approve node-a' }).click();
    await a.locator('.badge-enabled').waitFor();
    expect(await page.getByRole('button', { name: 'Approve node-a' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Reject node-b' }).click();
    await page.getByRole('dialog', { name: 'Reject node-b?' }).getByRole('button', { name: 'Reject' }).click();
    await page.locator('tr[data-node="node-b"]').waitFor({ state: 'detached' });
    const nodes = (await s.admin('GET', '/v0/nodes')).body;
    expect(nodes.nodes.map((n: { name: string; admin_state: string }) => [n.name, n.admin_state])).toEqual([['node-a', 'enabled']]);
  });

  it('viewer: sees everything, no control; the server refuses anyway', async () => {
    const s = await server();
    const u = await upstream({ name: 'gpu-3' });
    const { body } = await s.admin('POST', '/v0/endpoints', { name: 'gpu-3', base_url: u.url() });
    const page = await browser.page();
    await signIn(page, s.url, VIEWER_KEY);
    await page.locator('tr[data-endpoint="gpu-3"] .badge-online').waitFor();
    expect(await page.getByRole('button', { name: 'Register endpoint' }).count()).toBe(0);
    expect(await page.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /gpu-3/ }).count()).toBe(0);
    await shoot(page, 'viewer');
    const refused = await fetch(`${s.url}/v0/endpoints/${body.id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${VIEWER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ admin_state: 'disabled' }),
    });
    expect(refused.status).toBe(403);
  });

  it('admin: creates a key (secret shown once), sees its usage, revokes it; viewers have no Keys page', async () => {
    const s = await server();
    const u = await upstream({ name: 'gpu-k', models: ['llama3.1:8b'] });
    await s.admin('POST', '/v0/endpoints', { name: 'gpu-k', base_url: u.url() });
    await s.router.checker.idle();
    const page = await browser.page();
    await signIn(page, s.url, ADMIN_KEY);
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('heading', { name: 'Keys' }).waitFor();
    await expect.poll(() => page.locator('tr[data-key] code', { hasText: 'configured' }).count()).toBe(4);

    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('team-a');
    await dialog.getByLabel('Requests per minute').fill('0');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Requests per minute' }).waitFor();
    await dialog.getByLabel('Requests per minute').fill('600');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const secret = await dialog.getByLabel('New key').inputValue();
    expect(secret).toMatch(/^llmlb_/);
    await shoot(page, 'key-created');
    await dialog.getByRole('button', { name: 'Done' }).click();
    const row = page.locator('tr[data-key="team-a"]');
    await row.locator('.badge-active').waitFor();
    expect(await row.textContent()).toContain('600/min');
    expect(await page.content()).not.toContain(secret);

    for (const stream of [false, true]) {
      const res = await fetch(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llama3.1:8b', messages: [], stream, stream_options: { include_usage: true } }),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    await row.getByRole('link', { name: 'team-a' }).click();
    await page.getByRole('heading', { name: 'Usage of team-a' }).waitFor();
    await page.locator('.chart canvas').first().waitFor();
    const totals = page.locator('tr.totals');
    expect(await totals.locator('td[data-label="Requests"]').textContent()).toBe('2');
    expect(await page.getByRole('cell', { name: 'llama3.1:8b' }).count()).toBe(1);
    await shoot(page, 'key-usage');

    await page.getByRole('link', { name: '← Keys' }).click();
    await page.getByRole('button', { name: 'Revoke team-a' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await row.locator('.badge-revoked').waitFor();
    expect(await page.getByRole('button', { name: 'Revoke team-a' }).count()).toBe(0);

    const viewer = await browser.page();
    await signIn(viewer, s.url, VIEWER_KEY);
    expect(await viewer.getByRole('link', { name: 'Keys' }).count()).toBe(0);
  });

  it('fits a phone-width screen and works with the keyboard alone', async () => {
    const s = await server();
    const u = await upstream({ name: 'phone-gpu' });
    await s.admin('POST', '/v0/endpoints', { name: 'phone-gpu', base_url: u.url() });
    const page = await browser.page({ width: 390, height: 844 });
    await page.goto(`${s.url}/dashboard/`);
    // The key field takes the focus once the app has rendered: then type, Enter.
    await page.waitForFunction("document.activeElement?.getAttribute('name') === 'key'");
    await page.keyboard.type(ADMIN_KEY);
    await page.keyboard.press('Enter');
    await page.locator('tr[data-endpoint="phone-gpu"] .badge-online').waitFor();
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await shoot(page, 'phone');
    // Tab to the Models link and follow it with Enter.
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate('document.activeElement?.textContent')) === 'Models') break;
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Models' }).waitFor();
  });
});
