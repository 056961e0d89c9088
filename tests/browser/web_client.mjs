// Drives the web client in headless Chromium for tests/browser/test_web_client.py.
//
//   node web_client.mjs URL ARTIFACT_DIR WAV API_KEY
//
// Chromium's fake microphone plays WAV once (%noloop). The page is connected with API_KEY for English →
// French; the driver waits for one whole turn (listening → recording → translating → playing → listening),
// saves screenshots, disconnects, and prints one JSON line: {"event":"done", ...what the page showed...}.
// Any failure prints {"event":"error","message":...} and exits 1.
import path from 'node:path';
import { launchChromium, openWebClient } from './launch.mjs';

const [url, artifacts, wav, apiKey] = process.argv.slice(2);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const TURN_TIMEOUT_MS = 90_000;

let browser;
let page;
try {
  browser = await launchChromium({ fakeMicWav: wav });
  page = await openWebClient(browser, url);
  const problems = [];
  const foreign = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith(new URL(url).origin)) foreign.push(r.url()); });
  page.on('requestfailed', (r) => {
    // Subscribe is aborted on purpose when the page disconnects.
    if (!r.url().endsWith('/Subscribe')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });

  await page.goto(url);
  // Record every subtitle the page shows, with the turn state at that moment (a partial can be replaced by
  // the final text within milliseconds, too fast to poll).
  await page.evaluate(() => {
    window.subtitleLog = [];
    const el = document.querySelector('#subtitle');
    new MutationObserver(() => {
      if (el.textContent) {
        window.subtitleLog.push({ text: el.textContent, final: el.dataset.final,
          state: document.querySelector('#turn').dataset.state });
      }
    }).observe(el, { childList: true, characterData: true, subtree: true, attributes: true });
  });
  const initialState = await page.locator('#turn').getAttribute('data-state');
  await page.fill('#api-key', apiKey);
  await page.selectOption('#src-lang', 'en');
  await page.selectOption('#tgt-lang', 'fr');
  await page.click('#connect');

  const state = (want) => page.waitForFunction((s) => document.querySelector('#turn').dataset.state === s, want,
    { timeout: TURN_TIMEOUT_MS });
  await state('ready');
  await page.waitForFunction(() => document.querySelector('#connection').textContent === 'connected', null,
    { timeout: 10000 });
  const connection = await page.locator('#connection').innerText();
  await state('recording');
  await state('waiting');
  await page.waitForFunction(() => document.querySelector('#translation').textContent.length > 0, null,
    { timeout: TURN_TIMEOUT_MS });
  await page.screenshot({ path: path.join(artifacts, 'web-client-translated.png'), fullPage: true });
  // Played to the end: back to listening, with the meter's last report in.
  await page.waitForFunction(() => window.linguaDebug.transitions.includes('playing>ready'), null,
    { timeout: TURN_TIMEOUT_MS });
  await page.waitForTimeout(300);
  const shown = {
    subtitle: await page.locator('#subtitle').innerText(),
    subtitleFinal: await page.locator('#subtitle').getAttribute('data-final'),
    translation: await page.locator('#translation').innerText(),
    history: await page.locator('#history li').evaluateAll((lis) => lis.map((li) => ({
      index: li.dataset.index, src: li.querySelector('.src').textContent, tgt: li.querySelector('.tgt').textContent,
    }))),
    errorHidden: await page.locator('#error').isHidden(),
    sessionInfo: await page.locator('#session-info').innerText(),
  };
  await page.screenshot({ path: path.join(artifacts, 'web-client.png'), fullPage: true });
  const debug = await page.evaluate(() => JSON.parse(JSON.stringify(window.linguaDebug)));
  const subtitleLog = await page.evaluate(() => window.subtitleLog);
  const apiKeyStored = await page.evaluate(() => localStorage.getItem('lingua.webclient.settings.v1'));

  await page.click('#connect'); // disconnect
  await state('idle');
  const afterDisconnect = await page.evaluate(() => ({
    state: window.linguaDebug.state, micOpened: window.linguaDebug.micOpened, micClosed: window.linguaDebug.micClosed,
  }));
  say({
    event: 'done', initialState, connection, shown, debug, subtitleLog, afterDisconnect,
    keyRemembered: (apiKeyStored || '').includes(apiKey), problems, foreign,
  });
  await browser.close();
  process.exit(0);
} catch (err) {
  let debug = null;
  if (page) {
    debug = await page.evaluate(() => window.linguaDebug && JSON.parse(JSON.stringify(window.linguaDebug))).catch(() => null);
    await page.screenshot({ path: path.join(artifacts, 'web-client-failure.png'), fullPage: true }).catch(() => {});
  }
  say({ event: 'error', message: String(err && err.stack ? err.stack : err), debug });
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
