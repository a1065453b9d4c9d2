/** Rewrite fixtures/reports/linear/*.json from the generator: npx tsx tests/linear/make-report-fixtures.ts */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LINEAR_FIXTURE_DIR, linearFixtureFiles } from './report-fixtures.ts';

mkdirSync(LINEAR_FIXTURE_DIR, { recursive: true });
for (const [name, text] of Object.entries(await linearFixtureFiles()))
  writeFileSync(join(LINEAR_FIXTURE_DIR, name), text);
process.stdout.write(`wrote ${LINEAR_FIXTURE_DIR}\n`);
