// Drives the dashboard's models panel (a real model store, installer and hub) for tests/browser/test_dashboard.py:
// installs a second version of the MT model, removes the first, and asks for a model the hub does not have.
//
//   node models_panel.mjs URL ARTIFACT_DIR MODEL_ID NEW_VERSION OLD_VERSION
//     -> prints one JSON line {"event": "done" | "error", ...}
import path from 'node:path';
import { launchChromium } from './launch.mjs';

const [url, artifacts, modelId, newVersion, oldVersion] = process.argv.slice(2);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
let browser;
let page;
try {
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });
  const rows = page.locator('#installed-models tbody tr');
  const listed = () => rows.evaluateAll((trs) => trs.map((r) => ({
    id: r.dataset.modelId, version: r.dataset.version, cells: [...r.cells].map((c) => c.innerText.trim()),
    removable: !r.querySelector('button').disabled,
  })));
  await page.goto(url);
  await rows.first().waitFor({ timeout: 10000 });
  const before = await listed();

  await page.fill('#install-model', modelId);
  await page.fill('#install-version', newVersion);
  await page.click('#install-form button[type=submit]');
  const item = page.locator(`#installs li[data-model-id="${modelId}"][data-state="done"]`);
  await item.waitFor({ timeout: 30000 });
  const progress = await item.locator('progress').evaluate((p) => ({ value: p.value, max: p.max }));
  const progressText = await item.locator('.muted').innerText();
  await page.waitForFunction((n) => document.querySelectorAll('#installed-models tbody tr').length === n,
    before.length + 1, { timeout: 10000 });
  const installed = await listed();
  await page.screenshot({ path: path.join(artifacts, 'dashboard-models.png'), fullPage: true });

  const old = `#installed-models tbody tr[data-model-id="${modelId}"][data-version="${oldVersion}"]`;
  await page.click(`${old} button`);
  await page.waitForFunction((sel) => !document.querySelector(sel), old, { timeout: 10000 });
  const after = await listed();

  await page.fill('#install-model', 'no-such-model');
  await page.fill('#install-version', '');
  await page.click('#install-form button[type=submit]');
  const failed = page.locator('#installs li[data-model-id="no-such-model"][data-state="failed"]');
  await failed.waitFor({ timeout: 30000 });
  const installError = await failed.locator('.error').innerText();
  await page.screenshot({ path: path.join(artifacts, 'dashboard-models-after.png'), fullPage: true });
  say({ event: 'done', before, installed, progress, progressText, after, installError, dialogs,
    status: await page.locator('#models-status').innerText(), problems });
  await browser.close();
  process.exit(0);
} catch (err) {
  say({ event: 'error', message: String(err && err.stack ? err.stack : err) });
  if (page) await page.screenshot({ path: path.join(artifacts, 'dashboard-models-failure.png'), fullPage: true }).catch(() => {});
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
