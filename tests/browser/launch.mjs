// Headless Debian Chromium ($CHROMIUM or /usr/bin/chromium) through playwright-core, for every browser driver.
import { chromium } from 'playwright-core';

const BASE_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];

// `fakeMicWav`: a WAV the fake microphone plays once (media permission granted without a prompt).
export function launchChromium({ fakeMicWav } = {}) {
  const mic = fakeMicWav ? ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${fakeMicWav}%noloop`] : [];
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: [...BASE_ARGS, ...mic] });
}

// A page of the web client at `url` in a fresh context whose origin may use the microphone (and `permissions`).
export async function openWebClient(browser, url, contextOptions = { viewport: { width: 1100, height: 900 } },
  permissions = ['microphone']) {
  const context = await browser.newContext(contextOptions);
  await context.grantPermissions(permissions, { origin: new URL(url).origin });
  return context.newPage();
}
