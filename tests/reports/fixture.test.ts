/** The committed synthetic run is exactly what the generator writes, and it is a plausible grokking run. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkReportInput } from '../../reports/input.ts';
import { FIXTURE_DIR, fixtureFiles, loadFixture } from './fixture.ts';
import { syntheticRun } from './synthetic.ts';

describe('synthetic fixture', () => {
  it('matches the generator (regenerate with npx tsx tests/reports/make-fixture.ts)', () => {
    for (const [name, text] of Object.entries(fixtureFiles())) {
      expect(readFileSync(join(FIXTURE_DIR, name), 'utf8') === text, name).toBe(true);
    }
  });

  it('is valid renderer input and tells the grokking story in order', () => {
    const f = loadFixture();
    expect(() => checkReportInput(f)).not.toThrow();
    const s = f.analysis.summary;
    expect(s.t_mem! < s.t_grok_95! && s.t_grok_95! <= s.t_grok_99!).toBe(true);
    expect(s.boundaries.map((b) => b.to)).toEqual(['circuit_formation', 'cleanup', 'stable']);
    // T_mem is the first checkpoint with train accuracy ≥ 0.99, as the spec defines it.
    const first = f.analysis.checkpoints.find((c) => c.metrics!.train_acc >= 0.99)!;
    expect(s.t_mem).toBe(first.step);
    // Excluded loss rises in circuit formation, test loss collapses in cleanup, Gini rises.
    const at = (step: number) =>
      f.analysis.checkpoints.reduce((a, c) => (Math.abs(c.step - step) < Math.abs(a.step - step) ? c : a));
    const [b1, b2, b3] = s.boundaries.map((b) => b.step);
    expect(at(b2).circuit!.excluded_loss).toBeGreaterThan(10 * at(b1).circuit!.excluded_loss);
    expect(at(b3).metrics!.test_loss).toBeLessThan(at(b2).metrics!.test_loss / 100);
    expect(at(b3).fourier!.gini_embed).toBeGreaterThan(at(b1).fourier!.gini_embed + 0.3);
    // The contraction fit recovers the planted rate c = 1.4·lr·wd.
    expect(s.contraction!.c_over_lr_wd).toBeGreaterThan(1.3);
    expect(s.contraction!.c_over_lr_wd).toBeLessThan(1.5);
  });

  it('is deterministic and scales to the benchmark size', () => {
    const a = syntheticRun({ checkpoints: 400, metricsRows: 4000 });
    expect(a.analysis.checkpoints.length).toBe(400);
    expect(a.metrics.length).toBe(4000);
    expect(JSON.stringify(syntheticRun({ checkpoints: 40 }))).toBe(JSON.stringify(syntheticRun({ checkpoints: 40 })));
  });
});
