/**
 * The reports in a real browser: Debian's Chromium driven by playwright-core, opened from a
 * file:// URL. Every chart has a non-zero size, no console error, no request beyond the file
 * itself, no dialog from the hostile names, every heatmap PNG decodes, the hashed hover script runs
 * under the page's CSP, and the print layout hides the navigation. Screenshots are left in
 * scratch/reports/ (gitignored) for a person to look at.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCompareReport } from '../../reports/compare-report.ts';
import { renderRunReport } from '../../reports/run-report.ts';
import { SHOTS, haveChromium, launchChromium, openHtml } from './browser-helper.ts';
import { HOSTILE, hostileCompareRuns, hostileRun } from './hostile.ts';

describe.skipIf(!haveChromium)('reports in Chromium', () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'gl-browser-'));

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (html: string, name: string) => openHtml(browser, html, join(dir, `${name}.html`));

  async function checkCharts(page: Page): Promise<void> {
    const sizes = await page.$$eval('figure svg.chart', (svgs) =>
      svgs.map((s) => {
        const r = s.getBoundingClientRect();
        return { id: s.id, w: r.width, h: r.height };
      }),
    );
    expect(sizes.length).toBeGreaterThan(0);
    for (const s of sizes) expect(s.w > 0 && s.h > 0, `${s.id}: ${s.w} × ${s.h}`).toBe(true);
    // Every embedded PNG decodes (the page's CSP allows data: images).
    const decoded = await page.$$eval('svg image', async (imgs) =>
      Promise.all(
        imgs.map(async (el) => {
          const img = new Image();
          img.src = el.getAttribute('href')!;
          try {
            await img.decode();
            return img.naturalWidth * img.naturalHeight > 0;
          } catch {
            return false;
          }
        }),
      ),
    );
    expect(decoded.length).toBeGreaterThan(0);
    expect(decoded.every(Boolean)).toBe(true);
  }

  it('shows the run report: charts, hover read-outs, hostile names as text, no requests', async () => {
    const { page, problems, requests, dialogs } = await open(renderRunReport(hostileRun()), 'report');
    await checkCharts(page);
    expect(await page.textContent('h1')).toBe(HOSTILE.name);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.textContent('table.run')).toContain(HOSTILE.backend);
    // Hover over the middle of the loss chart: the read-out names the step and both losses.
    expect(problems).toEqual([]); // a CSP refusal of the script would show here
    await page.locator('#loss svg').scrollIntoViewIfNeeded();
    const box = (await page.locator('#loss svg').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
    await expect
      .poll(() => page.textContent('#loss output.readout'))
      .toMatch(/^step [\d.,k]+ · train loss [\d.e−-]+ · test loss /);
    await page.locator('#fourier-heatmap svg').scrollIntoViewIfNeeded();
    const heat = (await page.locator('#fourier-heatmap svg').boundingBox())!;
    await page.mouse.move(heat.x + heat.width * 0.5, heat.y + heat.height * 0.6);
    await expect
      .poll(() => page.textContent('#fourier-heatmap output.readout'))
      .toMatch(/^k \d+, step [\d.,k]+: norm /);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'report.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('nav').isVisible()).toBe(false);
    await checkCharts(page);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows the comparison with hostile names and config values as text, no requests', async () => {
    const { page, problems, requests, dialogs } = await open(renderCompareReport(hostileCompareRuns()), 'compare');
    const sizes = await page.$$eval('figure svg.chart', (svgs) =>
      svgs.map((s) => s.getBoundingClientRect().width * s.getBoundingClientRect().height),
    );
    expect(sizes.length).toBeGreaterThan(20);
    expect(sizes.every((a) => a > 0)).toBe(true);
    expect(await page.textContent('table.differs')).toContain(HOSTILE.configValue);
    expect(await page.textContent('table.differs')).toContain(HOSTILE.description);
    await page.screenshot({ path: join(SHOTS, 'compare.png'), fullPage: true });
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
