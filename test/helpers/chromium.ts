import { accessSync, constants } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** The browser the dashboard tests drive: Debian's chromium, never a downloaded one. */
export const TEST_CHROMIUM = process.env.FERRY_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Whether the test browser is installed. Under CI it must be: a missing one fails the run instead of skipping the dashboard tests. */
export function chromiumAvailable(): boolean {
  try {
    accessSync(TEST_CHROMIUM, constants.X_OK);
    return true;
  } catch (err) {
    if (process.env.CI === 'true') throw new Error(`Chromium at ${TEST_CHROMIUM} is required under CI (apt-get install chromium, or set FERRY_TEST_CHROMIUM): ${(err as Error).message}`);
    return false;
  }
}

/** A headless Chromium; --no-sandbox because CI runs as root, where its sandbox cannot start. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: TEST_CHROMIUM, headless: true, args: ['--no-sandbox'] });
}
