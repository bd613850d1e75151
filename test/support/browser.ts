import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';

/**
 * A real headless Chromium for the web UI's tests (Debian's `chromium` package; CI installs it
 * in .ci/run). A missing browser is a failure, never a skip. `--no-sandbox`: CI runs as root.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install chromium, or set CHROMIUM_PATH`);
  }
  return puppeteer.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--headless=new'] });
}

/**
 * A new page that records what must never happen: uncaught exceptions in the page's scripts
 * and Content-Security-Policy violations (the policy would have blocked something the UI does).
 */
export async function watchedPage(browser: Browser | BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err instanceof Error ? err.message : String(err)}`));
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) problems.push(`CSP: ${msg.text()}`);
  });
  return { page, problems };
}

/** The text of every element matching `selector`, in document order. */
export async function texts(page: Page, selector: string): Promise<string[]> {
  const found: unknown = await page.evaluate(
    `[...document.querySelectorAll(${JSON.stringify(selector)})].map((el) => (el.textContent ?? '').trim())`,
  );
  assert.ok(Array.isArray(found) && found.every((t) => typeof t === 'string'), `texts of ${selector}`);
  return found;
}

/** Waits for the element `selector` and returns its text. */
export async function shown(page: Page, selector: string): Promise<string> {
  await page.waitForSelector(selector);
  return (await texts(page, selector))[0] ?? '';
}

// The test files compile without the DOM's types (the project's lib is ES2023 only), so what
// runs in the page is written as expressions here, with the page's values typed structurally.

/** Waits until an expression, evaluated in the page, is true. */
export async function until(page: Page, expression: string): Promise<void> {
  await page.waitForFunction(expression);
}

/** Waits until the element `selector` holds exactly `text`. */
export async function untilText(page: Page, selector: string, text: string): Promise<void> {
  await until(page, `document.querySelector(${JSON.stringify(selector)})?.textContent === ${JSON.stringify(text)}`);
}

/** A property (`value`, `hidden`, …) of the first element matching `selector`. */
export async function property(page: Page, selector: string, name: string): Promise<unknown> {
  return page.$eval(selector, (el, key) => (el as unknown as Record<string, unknown>)[key], name);
}

/** Sets an input's value, as a user clearing the field would. */
export async function clear(page: Page, selector: string): Promise<void> {
  await page.$eval(selector, (el) => {
    (el as unknown as { value: string }).value = '';
  });
}
