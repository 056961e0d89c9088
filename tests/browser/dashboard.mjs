// Drives the node dashboard in headless Chromium for tests/browser/test_dashboard.py.
//
//   node dashboard.mjs URL ARTIFACT_DIR
//
// Speaks JSON lines: prints {"event":"ready",...} once the page shows the node, asks for a pairing code and
// prints {"event":"pairing",...}; then reads {"job_id": ...} from stdin, waits for that job in the recent-jobs
// panel and prints {"event":"done",...}. Any failure prints {"event":"error","message":...} and exits 1.
import { createInterface } from 'node:readline';
import path from 'node:path';
import { launchChromium } from './launch.mjs';

const [url, artifacts] = process.argv.slice(2);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const rl = createInterface({ input: process.stdin });
const lines = rl[Symbol.asyncIterator]();

let browser;
let page;
try {
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  const foreign = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith(url)) foreign.push(r.url()); });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));

  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#node-state').textContent === 'ready', null,
    { timeout: 15000 });
  await page.waitForFunction(() => Number(document.querySelector('#chart-cpu').dataset.samples) >= 3, null,
    { timeout: 15000 });
  await page.waitForSelector('#module-list li');
  await page.waitForFunction(() => document.querySelector('#models-status').textContent.length > 0);
  await page.waitForSelector('#engines tbody tr');
  const text = (sel) => page.locator(sel).first().innerText();
  say({
    event: 'ready',
    node_id: await text('#node-id'),
    state: await text('#node-state'),
    connection: await text('#connection'),
    scheduler: await text('#scheduler'),
    node_name: await text('#node-name'),
    cpu_samples: Number(await page.locator('#chart-cpu').getAttribute('data-samples')),
    cpu_now: await text('#cpu-now'),
    modules: await page.locator('#module-list li').evaluateAll((els) => els.map((e) => e.dataset.module)),
    models_status: await text('#models-status'),
    engines: await page.locator('#engines tbody tr').count(),
  });

  await page.click('#pairing-btn');
  await page.waitForFunction(() => /^\d{6}$/.test(document.querySelector('#pairing-code').textContent), null,
    { timeout: 10000 });
  const code = await text('#pairing-code');
  const countdown1 = await text('#pairing-countdown');
  await page.waitForFunction((first) => document.querySelector('#pairing-countdown').textContent !== first,
    countdown1, { timeout: 5000 });
  const countdown2 = await text('#pairing-countdown');
  await page.screenshot({ path: path.join(artifacts, 'dashboard-paired.png'), fullPage: true });
  say({ event: 'pairing', code, countdown1, countdown2 });

  const { value: line, done } = await lines.next();
  if (done) throw new Error('stdin closed before a job id came');
  const { job_id: jobId } = JSON.parse(line);
  const row = page.locator(`#recent-jobs tbody tr[data-job-id="${jobId}"]`);
  await row.waitFor({ timeout: 15000 });
  const cells = await row.locator('td').evaluateAll((tds) => tds.map((td) => td.innerText.trim()));
  await page.screenshot({ path: path.join(artifacts, 'dashboard-job.png'), fullPage: true });
  say({
    event: 'done',
    outcome: await row.getAttribute('data-outcome'),
    cells,
    summary: await text('#jobs-summary'),
    problems,
    foreign,
  });
  await browser.close();
  rl.close();
  process.exit(0);
} catch (err) {
  say({ event: 'error', message: String(err && err.stack ? err.stack : err) });
  if (page) await page.screenshot({ path: path.join(artifacts, 'dashboard-failure.png'), fullPage: true }).catch(() => {});
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
