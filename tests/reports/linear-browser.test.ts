/**
 * The linear report in a real browser: Debian's Chromium driven by playwright-core, from a file://
 * URL. Every chart has a non-zero size, no console error or warning (a CSP refusal would be one),
 * no request beyond the file itself, no dialog from hostile strings, tooltips present, print
 * layout hides the navigation. A screenshot is left in scratch/reports/ for a person to look at.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderLinearReport } from '../../reports/linear/report.ts';
import { LINEAR_FIXTURES, loadLinearFixture } from '../linear/report-fixtures.ts';
import { SHOTS, haveChromium, launchChromium, openHtml } from './browser-helper.ts';

describe.skipIf(!haveChromium)('linear report in Chromium', () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'gl-linear-browser-'));
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws every chart with a size, makes no request, logs no error, and shows hostile strings as text', async () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const inputs = Object.keys(LINEAR_FIXTURES).map((n) => ({
      result: loadLinearFixture(n),
      file: `fixtures/reports/linear/${n}.json`,
    }));
    inputs[0].result.source = hostile;
    inputs[0].result.definitions.note = '</script><script>alert(2)</script>';
    const { page, problems, requests, dialogs } = await openHtml(
      browser,
      renderLinearReport(inputs, { title: '<script>alert(3)</script>' }),
      join(dir, 'linear.html'),
    );

    const sizes = await page.$$eval('figure svg.chart', (svgs) =>
      svgs.map((s) => ({ id: s.id, w: s.getBoundingClientRect().width, h: s.getBoundingClientRect().height })),
    );
    expect(sizes.length).toBe(17);
    for (const s of sizes) expect(s.w > 200 && s.h > 100, `${s.id}: ${s.w} × ${s.h}`).toBe(true);
    expect(await page.textContent('h1')).toBe('<script>alert(3)</script>');
    expect(await page.textContent('#teacher-student')).toContain(hostile);
    // The marker tooltips are real SVG <title> elements (what the browser shows on hover).
    expect(await page.$$eval('#teacher-student-loss g.marker > title', (t) => t.map((x) => x.textContent))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^t_gen = \d+: first step with simulated L_gen ≤ ε\/4$/)]),
    );
    // Lines are drawn inside their plot area (a path of real length, not collapsed to a point).
    const lengths = await page.$$eval('#sweep-lambda-delta-t svg g.series path', (ps) =>
      ps.map((p) => (p as SVGPathElement).getTotalLength()),
    );
    expect(lengths.filter((l) => l > 100).length).toBeGreaterThanOrEqual(4);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'linear.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('nav').isVisible()).toBe(false);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
