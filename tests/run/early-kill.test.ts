/**
 * A run stopped before its first resume point (issue 14, defect 3: killed in its first second, or
 * while its directory was being created) used to be neither resumable nor restartable, each
 * command pointing at the other. `--resume` now starts it again from step 0 — the same run it
 * would have been — and never deletes checkpoints it cannot reproduce: it says what to remove.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend, type BackendInfo } from '../../src/backend/index.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { UserError } from '../../src/errors.ts';
import { resumeRun, startRun } from '../../src/run/session.ts';
import { checkpointName } from '../../src/run/store.ts';

const root = mkdtempSync(join(tmpdir(), 'groklens-early-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let backend: BackendInfo;
let whole = '';
const SETS = [
  'task.p=11',
  'model.d_model=16',
  'model.d_head=4',
  'model.d_mlp=32',
  'training.steps=20',
  'training.eval_every=5',
  'checkpoints.every=10',
  'checkpoints.log_spaced=0',
];

beforeAll(async () => {
  backend = await useBackend('wasm');
  const { config } = resolveConfig({ sets: SETS });
  whole = (await startRun({ config, name: 'whole', runsDir: root, preset: null, backend })).dir;
});

let copies = 0;
/** The directory as a kill at that moment leaves it: only `keep` of the run's files. */
function killedEarly(keep: string[]): string {
  const dir = join(root, `early-${copies++}`);
  cpSync(whole, dir, { recursive: true });
  for (const f of [
    'status.json',
    'resume.safetensors',
    'metrics.jsonl',
    ...[0, 10, 20].map((s) => join('checkpoints', checkpointName(s))),
  ]) {
    if (!keep.includes(f)) rmSync(join(dir, f), { force: true });
  }
  return dir;
}

const bytes = (dir: string, step: number) => readFileSync(join(dir, 'checkpoints', checkpointName(step)));

describe('a run stopped before its first resume point', () => {
  for (const [label, keep] of [
    ['while being created (run.json and split.json only)', []],
    ['before its first checkpoint (status.json and an empty log)', ['status.json', 'metrics.jsonl']],
    [
      'between the step-0 checkpoint and its resume state',
      ['status.json', 'metrics.jsonl', join('checkpoints', checkpointName(0))],
    ],
  ] as const) {
    it(`${label}: --resume trains it from step 0 into the run it would have been`, async () => {
      const dir = killedEarly([...keep]);
      const logs: string[] = [];
      const res = await resumeRun({ dir, backend, hooks: { log: (l) => logs.push(l) } });
      expect(res.state).toBe('finished');
      expect(logs.join('\n')).toMatch(/no resume point yet.*starting again from step 0/);
      for (const step of [0, 10, 20])
        expect(bytes(dir, step).equals(bytes(whole, step)), `checkpoint ${step}`).toBe(true);
      const rows = (d: string) =>
        readFileSync(join(d, 'metrics.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => {
            const { wall_time: _w, ...r } = JSON.parse(l);
            return r;
          });
      expect(rows(dir)).toEqual(rows(whole));
    });
  }

  it('with later checkpoints but no resume state, refuses and names what to delete; done as told, it restarts', async () => {
    const dir = killedEarly([
      'status.json',
      'metrics.jsonl',
      join('checkpoints', checkpointName(0)),
      join('checkpoints', checkpointName(10)),
    ]);
    const err = await resumeRun({ dir, backend }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(
      /resume\.safetensors is missing but checkpoints up to step 10 exist.*delete .*checkpoints, .*metrics\.jsonl and .*status\.json/,
    );
    expect(existsSync(join(dir, 'checkpoints', checkpointName(10)))).toBe(true); // nothing deleted for it
    for (const f of ['checkpoints', 'metrics.jsonl', 'status.json'])
      rmSync(join(dir, f), { recursive: true, force: true });
    const res = await resumeRun({ dir, backend });
    expect(res.state).toBe('finished');
    expect(bytes(dir, 20).equals(bytes(whole, 20))).toBe(true);
  });
});
