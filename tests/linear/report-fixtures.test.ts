/** The committed linear results under fixtures/reports/linear/ are exactly what the generator writes, and valid report input. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLinearResult } from '../../reports/linear/input.ts';
import { LINEAR_FIXTURE_DIR, LINEAR_FIXTURES, linearFixtureFiles } from './report-fixtures.ts';

describe('linear report fixtures', () => {
  it('match the generator (regenerate with npx tsx tests/linear/make-report-fixtures.ts)', async () => {
    const files = await linearFixtureFiles();
    expect(Object.keys(files)).toEqual(Object.keys(LINEAR_FIXTURES).map((n) => `${n}.json`));
    for (const [name, text] of Object.entries(files)) {
      const committed = readFileSync(join(LINEAR_FIXTURE_DIR, name), 'utf8');
      expect(committed === text, name).toBe(true);
      expect(() => checkLinearResult(JSON.parse(committed), name)).not.toThrow();
    }
  });
});
