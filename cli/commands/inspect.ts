import { formatInspect, readSafetensorsHeader } from '../../src/io/safetensors.ts';

export async function inspectCommand(file: string): Promise<void> {
  process.stdout.write(formatInspect(readSafetensorsHeader(file), file) + '\n');
}
