// Drives the dashboard's models panel (against a test model store) for tests/browser/test_dashboard.py.
//
//   node models_panel.mjs URL ARTIFACT_DIR   -> prints one JSON line {"event": "done" | "error", ...}
import path from 'node:path';
import { chromium } from 'playwright-core';

const [url, artifacts] = process.argv.slice(2);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
let browser;
let page;
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });
  await page.goto(url);
  const installed = page.locator('#installed-models tbody tr');
  await installed.first().waitFor({ timeout: 10000 });
  const before = await installed.evaluateAll((rows) => rows.map((r) => ({
    id: r.dataset.modelId, cells: [...r.cells].map((c) => c.innerText.trim()),
    removable: !r.querySelector('button').disabled,
  })));
  await page.fill('#install-model', 'm2m100-1.2b');
  await page.click('#install-form button[type=submit]');
  const item = page.locator('#installs li[data-model-id="m2m100-1.2b"]');
  await item.waitFor({ timeout: 10000 });
  const progress = await item.locator('progress').evaluate((p) => ({ value: p.value, max: p.max }));
  const progressText = await item.locator('.muted').innerText();
  await page.screenshot({ path: path.join(artifacts, 'dashboard-models.png'), fullPage: true });
  await page.fill('#install-model', 'no-such-model');
  await page.click('#install-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#models-error').textContent.length > 0);
  const installError = await page.locator('#models-error').innerText();
  await page.click('#installed-models tbody tr[data-model-id="m2m100-418m"] button');
  await page.waitForFunction(() => !document.querySelector('#installed-models tbody tr[data-model-id="m2m100-418m"]'),
    null, { timeout: 10000 });
  const after = await installed.evaluateAll((rows) => rows.map((r) => r.dataset.modelId));
  say({ event: 'done', before, progress, progressText, installError, dialogs, after,
    status: await page.locator('#models-status').innerText(), problems });
  await browser.close();
  process.exit(0);
} catch (err) {
  say({ event: 'error', message: String(err && err.stack ? err.stack : err) });
  if (page) await page.screenshot({ path: path.join(artifacts, 'dashboard-models-failure.png'), fullPage: true }).catch(() => {});
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
