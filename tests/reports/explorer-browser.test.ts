/**
 * The checkpoint explorer in Chromium (playwright-core, Debian's chromium): the slider and the
 * arrow keys move the marker on every timeline chart, the ringed trajectory point, the Fourier
 * bars and the read-out; no console error, no request; without JavaScript the page still shows
 * the last checkpoint. The neuron-cluster, neuron-grid and attention views move to the nearest
 * checkpoint that carries grids (drawn pixels compared). Screenshots in scratch/reports/ and
 * scratch/issue17/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fmtStep } from '../../reports/format.ts';
import { renderRunReport } from '../../reports/run-report.ts';
import { SHOTS, haveChromium, launchChromium, openHtml } from './browser-helper.ts';
import { withNewPasses } from './new-passes-fixture.ts';
import { withCheckpointGrids } from './synthetic-grids.ts';
import { ISSUE_SHOTS } from './browser-helper.ts';

describe.skipIf(!haveChromium)('checkpoint explorer in Chromium', () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'gl-explorer-'));
  const input = withCheckpointGrids(withNewPasses());
  const gridSteps = input.analysis.checkpoint_grids!.checkpoints.map((c) => c.step);
  const html = renderRunReport(input);
  const steps = input.analysis.checkpoints.map((c) => c.step);
  const nearest = (s: number) => gridSteps.reduce((b, t) => (Math.abs(t - s) < Math.abs(b - s) ? t : b));

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
    const state = () =>
      page.evaluate(() => ({
        readout: document.querySelector('output.explorer-readout')!.textContent,
        markers: Array.from(document.querySelectorAll('line.explorer-marker')).map((l) => Number(l.getAttribute('x1'))),
        ringed: Array.from(document.querySelectorAll('circle[data-step][stroke]')).map((c) =>
          c.getAttribute('data-step'),
        ),
        bars: Array.from(document.querySelectorAll('rect.explorer-bar')).map((r) => Number(r.getAttribute('height'))),
        disabled: (document.querySelector('input.explorer-slider') as HTMLInputElement).disabled,
        sprites: Array.from(document.querySelectorAll('image.explorer-grid')).map(
          (i) => i.getAttribute('href')!.length + ':' + i.getAttribute('href')!.slice(-40),
        ),
        clusters: Array.from(document.querySelectorAll('rect.explorer-cluster-bar')).map((r) =>
          Number(r.getAttribute('height')),
        ),
        clusterText: document.querySelector('output.explorer-cluster-text')!.textContent,
        ranges: Array.from(document.querySelectorAll('text.explorer-grid-range')).map((t) => t.textContent),
        gridNote: document.querySelector('output.explorer-grid-note')!.textContent,
      }));
    const pixels = async () =>
      Promise.all(
        ['#explorer-neurons', '#explorer-attention', '#explorer-clusters'].map((id) => page.locator(id).screenshot()),
      );
    const atEnd = await state();
    expect(atEnd.disabled).toBe(false);
    expect(atEnd.readout).toMatch(/^step /);
    // one marker per chart over training steps (loss, accuracy, circuit, per-key, norm, sparsity, distance, non-Fourier, llc, dimension …)
    expect(atEnd.markers.length).toBeGreaterThanOrEqual(8);
    expect(atEnd.ringed).toEqual([String(steps.at(-1)), String(steps.at(-1))]); // PC1–PC2 and PC1–PC3
    await page.screenshot({ path: join(SHOTS, 'explorer-end.png'), fullPage: false });
    expect(atEnd.sprites).toHaveLength(2); // the neuron view and the attention view, one image each
    expect(atEnd.gridNote).toBe(`grids of step ${fmtStep(steps.at(-1)!)}`);
    const shotsEnd = await pixels();

    await page.locator('input.explorer-slider').fill('10');
    const at10 = await state();
    expect(at10.readout).toMatch(/^step /);
    expect(at10.readout).not.toBe(atEnd.readout);
    expect(at10.ringed).toEqual([String(steps[10]), String(steps[10])]);
    for (let i = 0; i < at10.markers.length; i++) expect(at10.markers[i]).toBeLessThan(atEnd.markers[i]);
    expect(at10.bars).not.toEqual(atEnd.bars);
    // the grid views moved to the grid checkpoint nearest step 10's, and say which
    const g10 = gridSteps.reduce((b, t) => (Math.abs(t - steps[10]) < Math.abs(b - steps[10]) ? t : b));
    expect(at10.gridNote).toContain(`grids of step ${fmtStep(g10)}`);
    if (g10 !== steps[10]) expect(at10.gridNote).toContain('nearest checkpoint with grids');
    expect(at10.sprites[0]).not.toBe(atEnd.sprites[0]);
    expect(at10.sprites[1]).not.toBe(atEnd.sprites[1]);
    expect(at10.clusters).not.toEqual(atEnd.clusters);
    expect(at10.clusterText).not.toBe(atEnd.clusterText);
    expect(at10.ranges).not.toEqual(atEnd.ranges);
    const shots10 = await pixels();
    for (let v = 0; v < shots10.length; v++)
      expect(shots10[v].equals(shotsEnd[v]), `view ${v} drawn differently`).toBe(false);
    mkdirSync(ISSUE_SHOTS, { recursive: true });
    for (const [v, name] of ['neurons', 'attention', 'clusters'].entries()) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(ISSUE_SHOTS, `browser-${name}-end.png`), shotsEnd[v]);
      writeFileSync(join(ISSUE_SHOTS, `browser-${name}-step${steps[10]}.png`), shots10[v]);
    }
    // two checkpoints that share a grid checkpoint show the same grids (snapped), the read-out still moves
    const i = steps.findIndex(
      (s, j) =>
        j > 0 && !gridSteps.includes(s) && !gridSteps.includes(steps[j - 1]) && nearest(s) === nearest(steps[j - 1]),
    );
    expect(i).toBeGreaterThan(0); // 60 checkpoints, 24 with grids: such a pair exists
    {
      await page.locator('input.explorer-slider').fill(String(i - 1));
      const a = await state();
      await page.locator('input.explorer-slider').fill(String(i));
      const b = await state();
      expect(b.sprites).toEqual(a.sprites);
      expect(b.readout).not.toBe(a.readout);
    }

    await page.locator('input.explorer-slider').fill('10');
    await page.evaluate(() => window.scrollTo(0, 0)); // the element screenshots above scrolled the page
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
    expect(await page.locator('image.explorer-grid').count()).toBe(2);
    expect(await page.textContent('output.explorer-grid-note')).toBe(`grids of step ${fmtStep(steps.at(-1)!)}`);
    await page.locator('#explorer-neurons').screenshot({ path: join(ISSUE_SHOTS, 'browser-neurons-nojs.png') });
    await ctx.close();
  });
});
