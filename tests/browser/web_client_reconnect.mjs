// Drives the web client through a gateway restart and a lost session, for tests/browser/test_web_client.py.
//
//   node web_client_reconnect.mjs URL ARTIFACT_DIR WAV API_KEY
//
// JSON lines, each once the page's connection badge shows it: {"event":"ready"} (connected; the test then
// stops the gateway), {"event":"reconnecting"} (the test starts a gateway on the same address again),
// {"event":"resumed"} (subscribed again; the test then closes the session at the scheduler),
// {"event":"renewed"} (a new session), then {"event":"done"}. Failures: {"event":"error",...}, exit 1.
import path from 'node:path';
import { launchChromium } from './launch.mjs';

const [url, artifacts, wav, apiKey] = process.argv.slice(2);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

let browser;
let page;
let log = []; // every text the connection badge showed, in order
let seen = 0; // how much of it earlier steps consumed

// Waits until the badge shows a text matching `pattern` (after what earlier steps saw) and reports it.
async function step(event, pattern) {
  await page.waitForFunction(([from, p]) => window.connectionLog.slice(from).some((t) => new RegExp(p).test(t)),
    [seen, pattern.source], { timeout: 60000 });
  log = await page.evaluate(() => window.connectionLog);
  const i = seen + log.slice(seen).findIndex((t) => pattern.test(t));
  seen = i + 1;
  say({ event, text: log[i], session: await page.locator('#session-info').innerText(),
    state: await page.locator('#turn').getAttribute('data-state') });
}

try {
  browser = await launchChromium({ fakeMicWav: wav });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await page.evaluate(() => {
    window.connectionLog = [];
    const el = document.querySelector('#connection');
    new MutationObserver(() => window.connectionLog.push(el.textContent))
      .observe(el, { childList: true, characterData: true, subtree: true });
  });
  await page.fill('#api-key', apiKey);
  await page.click('#connect');
  await step('ready', /^connected$/);
  await step('reconnecting', /^reconnecting in /);
  await step('resumed', /^connected$/);
  await step('renewed', /^connected \(new session\)$/);
  await page.screenshot({ path: path.join(artifacts, 'web-client-reconnected.png'), fullPage: true });
  say({
    event: 'done',
    log: await page.evaluate(() => window.connectionLog),
    errors: await page.evaluate(() => window.linguaDebug.errors),
    errorHidden: await page.locator('#error').isHidden(),
    pageErrors,
  });
  await browser.close();
  process.exit(0);
} catch (err) {
  const shown = page ? await page.evaluate(() => window.connectionLog).catch(() => log) : log;
  say({ event: 'error', message: String(err && err.stack ? err.stack : err), log: shown });
  if (page) await page.screenshot({ path: path.join(artifacts, 'web-client-reconnect-failure.png'), fullPage: true }).catch(() => {});
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
