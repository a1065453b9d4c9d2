/**
 * The command line as a user meets it: bad input is one line on stderr naming the file / key /
 * value, exit status 2, no stack trace; `inspect` lists a checkpoint's tensors and metadata.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors.ts';

const BIN = join(import.meta.dirname, '../../bin/groklens.js');
const root = mkdtempSync(join(tmpdir(), 'groklens-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: root });

function expectUserError(r: ReturnType<typeof cli>, ...parts: (string | RegExp)[]): void {
  expect(r.status).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^groklens: /);
  for (const p of parts) expect(lines[0]).toMatch(p);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('groklens CLI', () => {
  it('rejects a bad --set value naming the key and the value', () => {
    expectUserError(cli('train', '--set', 'optimizer.lr=-1'), 'optimizer.lr', '-1');
  });

  it('a usage error (a bad --backend choice, an unknown command) exits 2, not 1', () => {
    const r = cli('train', '--backend', 'foo');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/argument 'foo' is invalid/);
    expect(cli('nosuch').status).toBe(2);
    expect(cli('--help').status).toBe(0);
  });

  it('rejects an unknown key and an unknown preset', () => {
    expectUserError(cli('train', '--set', 'optimizer.learning_rate=0.1'), 'optimizer.learning_rate');
    expectUserError(cli('train', '--preset', 'nanda-2024'), 'nanda-2024');
  });

  it('rejects a config file that is not JSON, naming the file', () => {
    const f = join(root, 'bad.json');
    writeFileSync(f, '{"task": {"p": 7,}}');
    expectUserError(cli('train', f), 'bad.json');
  });

  it('says how to install a missing optional backend', () => {
    expectUserError(
      cli('train', '--backend', 'tensorflow', '--set', 'task.p=5'),
      '@tensorflow/tfjs-node',
      /npm install/,
    );
  });

  it('refuses --resume on something that is not a run', () => {
    expectUserError(cli('train', '--resume', join(root, 'nope')), 'nope', /not a run directory/);
  });

  it('inspects a safetensors file and rejects a corrupt one', () => {
    const f = join(root, 'x.safetensors');
    writeSafetensors(f, { 'embed.W_E': { dtype: 'F32', shape: [4, 2], data: new Float32Array(8) } }, { step: '12' });
    const r = cli('inspect', f);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/embed\.W_E/);
    expect(r.stdout).toMatch(/F32/);
    expect(r.stdout).toMatch(/\[4, ?2\]/);
    expect(r.stdout).toMatch(/step/);
    writeFileSync(f, Buffer.from([255, 255, 255, 255, 255, 255, 0, 0, 123]));
    expectUserError(cli('inspect', f), 'x.safetensors', /header/);
  });
});
