// Drives the web client's language pickers in headless Chromium, for tests/browser/test_language_pickers.py.
//
//   node language_pickers.mjs URL ARTIFACT_DIR WAV API_KEY
//
// JSON lines: {"event":"pickers",...} (the choices before and after the API key was entered, per source, and
// where two-way is offered), {"event":"connected",...} (a two-way en ⇄ es session is open), then
// {"event":"done",...} after one turn ("Speak now", "End sentence", the result played) and a disconnect.
// Failures: {"event":"error","message":...}, exit 1.
import path from 'node:path';
import { launchChromium, openWebClient } from './launch.mjs';

const [url, artifacts, wav, apiKey] = process.argv.slice(2);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const TIMEOUT_MS = 60_000;

let browser;
let page;
try {
  browser = await launchChromium({ fakeMicWav: wav });
  page = await openWebClient(browser, url);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`); });
  await page.goto(url);

  const options = (select) => page.locator(select).evaluate((el) => [...el.options].map((o) => [o.value, o.text]));
  const twoWayOffered = () => page.locator('#two-way').isEnabled();
  const before = { src: await options('#src-lang'), tgt: await options('#tgt-lang') };

  // Typing the key fills the pickers from ListLanguages (grpc-web, through the gateway).
  await page.fill('#api-key', apiKey);
  await page.waitForFunction(() => [...document.querySelector('#src-lang').options].some((o) => o.value === 'auto'),
    null, { timeout: TIMEOUT_MS });
  const src = await options('#src-lang');
  const targets = {};
  const twoWay = {};
  for (const [code] of src) {
    await page.selectOption('#src-lang', code);
    targets[code] = await options('#tgt-lang');
  }
  for (const [s, t] of [['en', 'es'], ['en', 'fr'], ['es', 'en'], ['auto', 'es']]) {
    await page.selectOption('#src-lang', s);
    await page.selectOption('#tgt-lang', t);
    twoWay[`${s}>${t}`] = await twoWayOffered();
  }
  const swapWithAuto = await page.locator('#swap').isDisabled();
  const debugLanguages = await page.evaluate(() => window.linguaDebug.languages);
  say({ event: 'pickers', before, src, targets, twoWay, swapWithAuto, debugLanguages });

  // A two-way conversation English ⇄ Spanish.
  await page.selectOption('#src-lang', 'en');
  await page.selectOption('#tgt-lang', 'es');
  await page.check('#two-way');
  await page.screenshot({ path: path.join(artifacts, 'language-pickers.png'), fullPage: true });
  await page.click('#connect');
  const state = (want) => page.waitForFunction((s) => document.querySelector('#turn').dataset.state === s, want,
    { timeout: TIMEOUT_MS });
  await state('ready');
  await page.waitForFunction(() => document.querySelector('#connection').textContent === 'connected', null,
    { timeout: TIMEOUT_MS });
  const debugSession = await page.evaluate(() => window.linguaDebug.session);
  const sessionInfo = await page.locator('#session-info').innerText();
  say({
    event: 'connected', debugSession: { ...debugSession, sessionId: sessionInfo.replace(/^Session /, '') },
    sessionMode: await page.locator('#session-mode').innerText(),
    state: await page.locator('#turn').getAttribute('data-state'),
    pickersLocked: await page.locator('#src-lang').isDisabled() && await page.locator('#two-way').isDisabled(),
  });

  // One turn by hand: the stand-in translator answers at once, "hearing" Spanish.
  await page.click('#speak');
  await state('recording');
  await page.waitForTimeout(600);
  await page.click('#end-sentence');
  await page.waitForFunction(() => window.linguaDebug.transitions.includes('playing>ready'), null,
    { timeout: TIMEOUT_MS });
  await page.screenshot({ path: path.join(artifacts, 'language-pickers-two-way.png'), fullPage: true });
  const done = {
    event: 'done',
    translation: await page.locator('#translation').innerText(),
    resultInfo: await page.locator('#result-info').innerText(),
    historyDetails: await page.locator('#history li small').allInnerTexts(),
    debug: await page.evaluate(() => JSON.parse(JSON.stringify(window.linguaDebug))),
    errors: await page.evaluate(() => window.linguaDebug.errors),
    errorHidden: await page.locator('#error').isHidden(),
    saved: await page.evaluate(() => JSON.parse(localStorage.getItem('lingua.webclient.settings.v1') || '{}')),
  };
  await page.click('#connect'); // disconnect
  await state('idle');
  done.pageErrors = pageErrors;
  say(done);
  await browser.close();
  process.exit(0);
} catch (err) {
  let debug = null;
  if (page) {
    debug = await page.evaluate(() => window.linguaDebug && JSON.parse(JSON.stringify(window.linguaDebug))).catch(() => null);
    await page.screenshot({ path: path.join(artifacts, 'language-pickers-failure.png'), fullPage: true }).catch(() => {});
  }
  say({ event: 'error', message: String(err && err.stack ? err.stack : err), debug });
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
