/**
 * SVG snapshot comparison against committed files in fixtures/reports/. On a mismatch the new
 * output is written beside the committed file as NAME-changed.svg (gitignored) for a person to
 * look at, and the test fails. UPDATE_SNAPSHOTS=1 rewrites the committed file instead. A missing
 * snapshot is written and the test fails, so a fresh snapshot is never passed silently.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SNAPSHOT_DIR } from './fixture.ts';

export function matchSnapshot(
  name: string,
  actual: string,
  dir = SNAPSHOT_DIR,
): { ok: true } | { ok: false; message: string } {
  const file = join(dir, `${name}.svg`);
  const changed = join(dir, `${name}-changed.svg`);
  if (process.env.UPDATE_SNAPSHOTS === '1') {
    writeFileSync(file, actual);
    if (existsSync(changed)) rmSync(changed);
    return { ok: true };
  }
  if (!existsSync(file)) {
    writeFileSync(file, actual);
    return { ok: false, message: `snapshot ${file} did not exist: written now; check it and re-run` };
  }
  const expected = readFileSync(file, 'utf8');
  if (expected === actual) {
    if (existsSync(changed)) rmSync(changed);
    return { ok: true };
  }
  writeFileSync(changed, actual);
  return { ok: false, message: `${file} differs from the rendered chart; the new output is in ${changed}` };
}
