import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendName } from '../config/types.ts';
import { trainCommand } from './train.ts';

/** `groklens demo`: the embedded 'demo' preset, trained into a fresh runs/demo[-N]. */
export async function demoCommand(opts: { runsDir: string; backend: BackendName }): Promise<void> {
  let name = 'demo';
  for (let i = 2; existsSync(join(opts.runsDir, name)); i++) name = `demo-${i}`;
  await trainCommand(undefined, { preset: 'demo', set: [], name, runsDir: opts.runsDir, backend: opts.backend });
}
