/** Rewrite fixtures/reports/synthetic/ from the generator: npx tsx tests/reports/make-fixture.ts */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_DIR, fixtureFiles } from './fixture.ts';

mkdirSync(FIXTURE_DIR, { recursive: true });
for (const [name, text] of Object.entries(fixtureFiles())) writeFileSync(join(FIXTURE_DIR, name), text);
process.stdout.write(`wrote ${FIXTURE_DIR}\n`);
