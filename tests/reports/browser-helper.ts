/**
 * Shared scaffolding of the browser tests: Debian's Chromium driven by playwright-core (never a
 * downloaded browser), flags for this machine's closed network, and a page opener that records
 * console errors and warnings, page errors, every request beyond the file itself and any dialog.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = join(import.meta.dirname, '../../scratch/reports');
/** Screenshots of the explorer's grid views (issue 17). */
export const ISSUE_SHOTS = join(import.meta.dirname, '../../scratch/issue17');
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install chromium)`);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export interface OpenedPage {
  page: Page;
  url: string;
  problems: string[]; // console errors / warnings (a CSP refusal is one) and page errors
  requests: string[]; // every request other than the page's own file
  dialogs: string[]; // alert() and friends: a hostile string that ran
}

/** Write `html` to `file` and open it from its file:// URL. */
export async function openHtml(browser: Browser, html: string, file: string): Promise<OpenedPage> {
  writeFileSync(file, html);
  const url = pathToFileURL(file).href;
  const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
  const problems: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url().slice(0, 100));
  });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, url, problems, requests, dialogs };
}
