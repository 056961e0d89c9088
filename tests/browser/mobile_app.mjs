// Drives the web client as an installed app on a phone (390 × 844, device scale factor 3, touch, a mobile user
// agent) in headless Chromium, for tests/browser/test_mobile_app.py.
//
//   node mobile_app.mjs URL ARTIFACT_DIR WAV API_KEY SPEECH_SECONDS
//
// Chromium's fake microphone plays WAV each time the page opens it (one second of silence, the sentence, silence).
// JSON lines on stdout, one per step:
//   {"event":"installed",...}  the manifest and its icons as fetched, the service worker controlling the page after a
//                              reload, the page opened offline from the app's cache, the layout checks
//   {"event":"offline",...}    sentence 0 was sent (its utterance index is known) and the network went away: the
//                              page dropped its Subscribe stream. The test checks at the scheduler that the result is
//                              produced while nobody reads, then writes "online" on stdin.
//   {"event":"done",...}       sentence 0's result arrived on the resumed stream and was played; sentence 1 went by
//                              push-to-talk, with the page sent to the background and back while it was translated;
//                              everything the page saw, then the disconnect
// Failures: {"event":"error","message":...}, exit 1.
import { createInterface } from 'node:readline';
import path from 'node:path';
import { launchChromium } from './launch.mjs';

const [url, artifacts, wav, apiKey, speechSeconds] = process.argv.slice(2);
const origin = new URL(url).origin;
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const TIMEOUT_MS = 90_000;
const PHONE = {
  viewport: { width: 390, height: 844 },
  screen: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
  userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) '
    + 'Chrome/131.0.0.0 Mobile Safari/537.36',
};

const commands = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function command(want) {
  const { value, done } = await commands.next();
  if (done || value.trim() !== want) throw new Error(`expected "${want}" on stdin, got ${done ? 'EOF' : value}`);
}

// Instruments (without changing) what the page does with the platform: every AudioContext it makes and every
// wake lock it is granted, so that the driver can do what a phone's OS does when the app goes to the background
// (suspend the audio, release the lock).
function instrument() {
  window.__audioContexts = [];
  const Native = window.AudioContext;
  window.AudioContext = class extends Native {
    constructor(...args) {
      super(...args);
      window.__audioContexts.push(this);
    }
  };
  window.__wakeLocks = [];
  if (navigator.wakeLock) {
    const request = navigator.wakeLock.request.bind(navigator.wakeLock);
    navigator.wakeLock.request = async (...args) => {
      const sentinel = await request(...args);
      window.__wakeLocks.push(sentinel);
      return sentinel;
    };
  }
}

// Every visible element inside the viewport horizontally; every control a tap target of at least 44 × 44 CSS px
// (a checkbox: its label, which is what a finger hits).
function layout() {
  const width = document.documentElement.clientWidth;
  const name = (el) => el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}${el.className ? '.' + el.className : ''}`
    + (el.textContent ? ` "${el.textContent.trim().slice(0, 24)}"` : '');
  const visible = (r, el) => r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  const offscreen = [];
  let elements = 0;
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (!visible(r, el)) continue;
    elements++;
    if (r.left < -0.5 || r.right > width + 0.5) offscreen.push(`${name(el)} ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  const small = [];
  const targets = [];
  for (const el of document.querySelectorAll('button, select, input, summary, a[href]')) {
    const target = el.matches('input[type=checkbox], input[type=radio]') ? el.closest('label') ?? el : el;
    const r = target.getBoundingClientRect();
    if (!visible(r, target)) continue;
    targets.push(name(el));
    if (r.width < 44 || r.height < 44) small.push(`${name(el)} ${Math.round(r.width)}×${Math.round(r.height)}`);
  }
  const rect = (sel) => {
    const r = document.querySelector(sel).getBoundingClientRect();
    return { top: Math.round(r.top), bottom: Math.round(r.bottom), width: Math.round(r.width), height: Math.round(r.height) };
  };
  return {
    width, height: window.innerHeight, scrollWidth: document.documentElement.scrollWidth, elements, offscreen,
    small, targets, speak: rect('#speak'), endSentence: rect('#end-sentence'),
    translationFontPx: parseFloat(getComputedStyle(document.querySelector('#translation')).fontSize),
    subtitleFontPx: parseFloat(getComputedStyle(document.querySelector('#subtitle')).fontSize),
  };
}

function pngSize(buffer) {
  const png = buffer.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  return png ? `${buffer.readUInt32BE(16)}x${buffer.readUInt32BE(20)}` : 'not a PNG';
}

let browser;
let page;
try {
  browser = await launchChromium({ fakeMicWav: wav });
  const context = await browser.newContext(PHONE);
  // What an installed app on a phone has: the microphone (granted once), the screen wake lock (Chrome's default).
  await context.grantPermissions(['microphone', 'screen-wake-lock'], { origin });
  await context.addInitScript(instrument);
  page = await context.newPage();
  const pageErrors = [];
  let offlineLoads = 0; // requests the browser failed while the network was off (expected, counted apart)
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (m.text() === 'Failed to load resource: net::ERR_INTERNET_DISCONNECTED') offlineLoads++;
    else pageErrors.push(`console: ${m.text()}`);
  });
  const debug = () => page.evaluate(() => JSON.parse(JSON.stringify(window.linguaDebug)));
  const until = (fn, arg) => page.waitForFunction(fn, arg, { timeout: TIMEOUT_MS, polling: 'raf' });
  const state = (want) => until((s) => document.querySelector('#turn').dataset.state === s, want);

  // -- install: manifest, icons, service worker, offline start -----------------------------------------------
  await page.goto(url);
  const manifestUrl = await page.evaluate(() => document.querySelector('link[rel=manifest]')?.href ?? '');
  const fetched = await context.request.get(manifestUrl);
  const manifest = await fetched.json();
  const icons = [];
  for (const icon of manifest.icons) {
    const got = await context.request.get(new URL(icon.src, manifestUrl).href);
    const body = await got.body();
    icons.push({ ...icon, status: got.status(), contentType: got.headers()['content-type'],
      actual: icon.type === 'image/png' ? pngSize(body) : 'any' });
  }
  const worker = await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return { script: registration.active.scriptURL, scope: registration.scope };
  });
  const swResponse = await context.request.get(worker.script);
  await page.reload();
  const controller = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null);
  await page.tap('details summary'); // the features and connection settings open: their checkboxes are checked too
  const idleLayout = await page.evaluate(layout);
  await page.screenshot({ path: path.join(artifacts, 'mobile-app-install.png') });

  // Started with no network: the page comes from the app's cache and says it is offline; the API is not cached.
  await context.setOffline(true);
  await page.reload();
  await until(() => !document.querySelector('#offline').hidden);
  const offlineStart = await page.evaluate(async () => ({
    offlineText: document.querySelector('#offline').innerText,
    connectShown: document.querySelector('#connect').getBoundingClientRect().height > 0,
    controlled: navigator.serviceWorker.controller !== null,
    api: await fetch('/v1/languages').then((r) => `HTTP ${r.status}`, (e) => `failed: ${e.name}`),
  }));
  await page.screenshot({ path: path.join(artifacts, 'mobile-app-offline.png') });
  await context.setOffline(false);
  await until(() => document.querySelector('#offline').hidden);
  say({
    event: 'installed', manifestUrl, manifestStatus: fetched.status(), manifestType: fetched.headers()['content-type'],
    manifest, icons, worker, controller, swType: swResponse.headers()['content-type'],
    swCacheControl: swResponse.headers()['cache-control'] ?? '', idleLayout, offlineStart,
  });

  // -- a session: sentence 0 hands-free, with the network going away while it is translated ------------------
  await page.fill('#api-key', apiKey);
  await page.selectOption('#src-lang', 'en');
  await page.selectOption('#tgt-lang', 'fr');
  await page.tap('#connect');
  await state('ready');
  await until(() => document.querySelector('#connection').textContent === 'connected');
  const session = (await page.locator('#session-info').innerText()).replace(/^Session /, '');
  const sessionLayout = await page.evaluate(layout);
  const wakeLockConnected = (await debug()).wakeLock;
  await page.screenshot({ path: path.join(artifacts, 'mobile-app-session.png') });
  await state('recording');
  await state('waiting');
  await until(() => window.linguaDebug.sealed.length === 1); // the final chunk was accepted: index 0
  const networkBefore = (await debug()).network.length;
  await context.setOffline(true);
  await until(() => window.linguaDebug.network.includes('offline')
    && /^reconnecting/.test(document.querySelector('#connection').textContent));
  say({ event: 'offline', session, sealed: (await debug()).sealed,
    connection: await page.locator('#connection').innerText(),
    offlineShown: await page.locator('#offline').isVisible() });
  await page.screenshot({ path: path.join(artifacts, 'mobile-app-reconnecting.png') });
  await command('online');
  await context.setOffline(false);
  await until(() => window.linguaDebug.transitions.filter((t) => t === 'playing>ready').length === 1);
  const afterResume = await page.locator('#connection').innerText();

  // -- sentence 1 by push-to-talk; the app goes to the background and back while it is translated -----------
  const box = await page.locator('#speak').boundingBox();
  const finger = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const cdp = await context.newCDPSession(page);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [finger] });
  await state('recording');
  const heldFrom = (await debug()).samplesSent;
  // Held while the microphone plays the whole sentence again (a second of silence first), then let go.
  const needed = Math.ceil((1.0 + Number(speechSeconds) + 0.5) * 16_000);
  await until(([from, n]) => window.linguaDebug.samplesSent - from >= n, [heldFrom, needed]);
  const heldState = await page.locator('#turn').getAttribute('data-state');
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await state('waiting');
  // What the OS does to a backgrounded app: its audio suspended, its wake lock released; then it is shown again.
  const background = await page.evaluate(async () => {
    const setVisibility = (v) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => v });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => v === 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    };
    const audio = window.__audioContexts[0];
    await audio.suspend();
    setVisibility('hidden');
    const lock = window.__wakeLocks.at(-1);
    await lock.release();
    const whileHidden = { audio: audio.state, wakeLock: window.linguaDebug.wakeLock };
    setVisibility('visible');
    return { whileHidden, locksBefore: window.__wakeLocks.length };
  });
  await until(() => window.__audioContexts[0].state === 'running' && window.linguaDebug.wakeLock === 'held'
    && window.__wakeLocks.length === 2);
  await until(() => window.linguaDebug.transitions.filter((t) => t === 'playing>ready').length === 2);
  await page.screenshot({ path: path.join(artifacts, 'mobile-app-translated.png') });
  const shown = {
    translation: await page.locator('#translation').innerText(),
    subtitle: await page.locator('#subtitle').innerText(),
    history: await page.locator('#history li').evaluateAll((lis) => lis.map((li) => ({
      index: li.dataset.index, src: li.querySelector('.src').textContent, tgt: li.querySelector('.tgt').textContent,
    }))),
    errorHidden: await page.locator('#error').isHidden(),
  };
  await page.tap('#connect'); // disconnect, before the microphone hears the sentence a third time
  await state('idle');
  const cached = await page.evaluate(async () => {
    const urls = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
    }
    return urls.sort();
  });
  say({
    event: 'done', session, sessionLayout, wakeLockConnected, afterResume, networkBefore, heldState, background, shown,
    debug: await debug(), cached, pageErrors, offlineLoads,
    audioState: await page.evaluate(() => window.__audioContexts[0].state),
    wakeLocksReleased: await page.evaluate(() => window.__wakeLocks.map((l) => l.released)),
  });
  await browser.close();
  process.exit(0);
} catch (err) {
  let debug = null;
  if (page) {
    debug = await page.evaluate(() => window.linguaDebug && JSON.parse(JSON.stringify(window.linguaDebug))).catch(() => null);
    await page.screenshot({ path: path.join(artifacts, 'mobile-app-failure.png') }).catch(() => {});
  }
  say({ event: 'error', message: String(err && err.stack ? err.stack : err), debug });
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
