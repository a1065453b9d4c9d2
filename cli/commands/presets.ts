import { listPresets } from '../../src/config/presets.ts';

export async function presetsCommand(): Promise<void> {
  for (const p of listPresets()) process.stdout.write(`${p.name.padEnd(14)} ${p.description}\n`);
}
