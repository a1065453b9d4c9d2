/**
 * The checkpoint explorer in Chromium (playwright-core, Debian's chromium): the slider and the
 * arrow keys move the marker on every timeline chart, the ringed trajectory point, the Fourier
 * bars and the read-out; no console error, no request; without JavaScript the page still shows
 * the last checkpoint. Screenshots in scratch/reports/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRunReport } from '../../reports/run-report.ts';
import { SHOTS, haveChromium, launchChromium, openHtml } from './browser-helper.ts';
import { withNewPasses } from './new-passes-fixture.ts';

describe.skipIf(!haveChromium)('checkpoint explorer in Chromium', () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'gl-explorer-'));
  const input = withNewPasses();
  const html = renderRunReport(input);
  const steps = input.analysis.checkpoints.map((c) => c.step);

  beforeAll(async () => {
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves every checkpoint-level view with the slider and the arrow keys', async () => {
    const { page, problems, requests } = await openHtml(browser, html, join(dir, 'explorer.html'));
    const state = () => page.evaluate(() => ({
      readout: document.querySelector('output.explorer-readout')!.textContent,
      markers: Array.from(document.querySelectorAll('line.explorer-marker')).map((l) => Number(l.getAttribute('x1'))),
      ringed: Array.from(document.querySelectorAll('circle[data-step][stroke]')).map((c) => c.getAttribute('data-step')),
      bars: Array.from(document.querySelectorAll('rect.explorer-bar')).map((r) => Number(r.getAttribute('height'))),
      disabled: (document.querySelector('input.explorer-slider') as HTMLInputElement).disabled,
    }));
    const atEnd = await state();
    expect(atEnd.disabled).toBe(false);
    expect(atEnd.readout).toMatch(/^step /);
    // one marker per chart over training steps (loss, accuracy, circuit, per-key, norm, sparsity, distance, non-Fourier, llc, dimension …)
    expect(atEnd.markers.length).toBeGreaterThanOrEqual(8);
    expect(atEnd.ringed).toEqual([String(steps.at(-1)), String(steps.at(-1))]); // PC1–PC2 and PC1–PC3
    await page.screenshot({ path: join(SHOTS, 'explorer-end.png'), fullPage: false });

    await page.locator('input.explorer-slider').fill('10');
    const at10 = await state();
    expect(at10.readout).toMatch(/^step /);
    expect(at10.readout).not.toBe(atEnd.readout);
    expect(at10.ringed).toEqual([String(steps[10]), String(steps[10])]);
    for (let i = 0; i < at10.markers.length; i++) expect(at10.markers[i]).toBeLessThan(atEnd.markers[i]);
    expect(at10.bars).not.toEqual(atEnd.bars);

    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('ArrowRight');
    const at11 = await state();
    expect(at11.ringed[0]).toBe(String(steps[11]));
    await page.keyboard.press('Home');
    expect((await state()).ringed[0]).toBe(String(steps[0]));
    await page.keyboard.press('End');
    expect((await state()).ringed[0]).toBe(String(steps.at(-1)));

    await page.locator('input.explorer-slider').fill('20');
    await page.locator('#llc').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'explorer-llc-step20.png'), fullPage: false });
    await page.locator('#trajectory-pc1-pc2').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'explorer-trajectory-step20.png'), fullPage: false });
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  }, 60_000);

  it('reads without JavaScript: the slider is inactive and the views show the last checkpoint', async () => {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    const file = join(dir, 'explorer-nojs.html');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, html);
    await page.goto(`file://${file}`);
    expect(await page.locator('input.explorer-slider').isDisabled()).toBe(true);
    expect(await page.textContent('output.explorer-readout')).toMatch(/^step /);
    expect(await page.locator('rect.explorer-bar').count()).toBeGreaterThan(0);
    expect(await page.locator('line.explorer-marker').count()).toBe(0);
    await ctx.close();
  });
});
