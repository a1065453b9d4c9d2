/**
 * The sweep report in a real browser (Debian's Chromium driven by playwright-core, from a file://
 * URL), with hostile names, run ids and config values: every chart has a non-zero size, the colour
 * bar's PNG decodes, no console error, no request, no dialog, the hashed hover script runs under
 * the page's CSP, the print layout hides the navigation, and the link to a run's report (its id
 * full of markup) opens that file. The screenshot is left in scratch/reports/sweep.png.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSweepReport } from '../../reports/sweep/report.ts';
import { HOSTILE } from './hostile.ts';
import { SHOTS, haveChromium, launchChromium, openHtml } from './browser-helper.ts';
import { HOSTILE_IDS, hostileSweepInput } from './sweep-fixture.ts';

describe.skipIf(!haveChromium)('sweep report in Chromium', () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'gl-sweep-browser-'));

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows charts, tables and hostile strings as text, makes no request, and links to run reports', async () => {
    const sweepDir = join(dir, 'sweep');
    mkdirSync(join(sweepDir, 'runs', HOSTILE_IDS.linked), { recursive: true });
    writeFileSync(
      join(sweepDir, 'runs', HOSTILE_IDS.linked, 'report.html'),
      '<!DOCTYPE html><html><head><title>linked run report</title></head><body></body></html>\n',
    );
    const file = join(sweepDir, 'report.html');
    const { page, problems, requests, dialogs } = await openHtml(
      browser,
      renderSweepReport(hostileSweepInput(), { phaseAxes: ['optimizer.kind', 'optimizer.weight_decay'] }),
      file,
    );

    const sizes = await page.$$eval('figure svg.chart', (svgs) =>
      svgs.map((s) => ({ id: s.id, w: s.getBoundingClientRect().width, h: s.getBoundingClientRect().height })),
    );
    expect(sizes.map((s) => s.id)).toEqual([
      'phase-diagram-svg',
      'fit-tgrok-vs-inv-wd-svg',
      'fit-tgrok-vs-inv-lr-svg',
      'fit-delay-vs-norm-law-svg',
      'predictor-scatter-svg',
      'accuracy-0-svg',
      'accuracy-1-svg',
      'accuracy-2-svg',
      'accuracy-3-svg', // one per weight decay, the phase diagram's row axis
      'key-frequencies-svg',
    ]);
    for (const s of sizes) expect(s.w > 0 && s.h > 0, `${s.id}: ${s.w} × ${s.h}`).toBe(true);
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
    expect(decoded).toEqual([true]); // the delay colour bar

    expect(await page.textContent('h1')).toBe(`Sweep ${HOSTILE.name}`);
    expect(await page.locator('img').count()).toBe(0);
    const table = (await page.textContent('table.runs'))!;
    for (const t of [HOSTILE_IDS.linked, HOSTILE_IDS.failed, HOSTILE.configValue, HOSTILE.reason])
      expect(table).toContain(t);

    // The hashed script runs: hovering a bar of the key-frequency chart fills its read-out.
    await page.locator('#key-frequencies svg').scrollIntoViewIfNeeded();
    const box = (await page.locator('#key-frequencies svg').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.6);
    await expect.poll(() => page.textContent('#key-frequencies output.readout')).toMatch(/^\d+: \d+$/);

    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'sweep.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('nav').isVisible()).toBe(false);
    await page.emulateMedia({ media: 'screen' });
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([]);
    expect(problems).toEqual([]);

    // The run link: a relative path whose one segment is the encoded id, opening that run's report.
    await page.locator('table.runs td.link a').click();
    await page.waitForURL(/\/report\.html$/);
    expect(await page.title()).toBe('linked run report');
    expect(decodeURIComponent(new URL(page.url()).pathname)).toBe(
      join(sweepDir, 'runs', HOSTILE_IDS.linked, 'report.html'),
    );
    expect(dialogs).toEqual([]);
    await page.close();
  });
});
