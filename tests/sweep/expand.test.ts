import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { expandSweep, MAX_ID_LENGTH } from '../../src/sweep/expand.ts';
import { parseSweep, readSweepFile } from '../../src/sweep/file.ts';
import { inShard, parseShard, shardFromEnv } from '../../cli/sweep/shard.ts';

const dir = mkdtempSync(join(tmpdir(), 'groklens-sweep-expand-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const expand = (doc: unknown) => expandSweep(parseSweep(doc, 'sweep.json'), 'sweep.json');
const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('sweep file', () => {
  it('fills defaults: seeds set training.seed and split.seed', () => {
    const s = parseSweep({ name: 'wd', seeds: [0, 1] }, 'sweep.json');
    expect(s).toEqual({
      name: 'wd',
      description: null,
      base: { preset: null, file: null, set: {} },
      grid: {},
      list: [],
      seeds: { values: [0, 1], keys: ['training.seed', 'split.seed'] },
      labels: {},
    });
  });

  it.each([
    [{ grid: {} }, 'sweep.json: name: missing (expected string)'],
    [{ name: '../x' }, 'sweep.json: name: expected a directory name'],
    [{ name: 'a', grid: { 'optimizer.lr': 0.1 } }, 'sweep.json: grid."optimizer.lr": expected array (got 0.1)'],
    [
      { name: 'a', grid: { 'optimizer.lr': [] } },
      'sweep.json: grid."optimizer.lr": expected a non-empty list of values (got [])',
    ],
    [
      { name: 'a', grid: { 'optimizer.lr': [0.1, 0.2, 0.1] } },
      'sweep.json: grid."optimizer.lr": the value 0.1 appears twice',
    ],
    [{ name: 'a', seeds: [0, -1] }, 'sweep.json: seeds[1]: expected a value ≥ 0 (got -1)'],
    [
      { name: 'a', seeds: 'all' },
      'sweep.json: seeds: expected a list of seeds such as [0, 1, 2], or {"values": [0, 1], "keys": ["training.seed"]} (got "all")',
    ],
    [{ name: 'a', seeds: [1, 1] }, 'sweep.json: seeds: each seed may appear once, got [1,1]'],
    [{ name: 'a', gird: {} }, 'sweep.json: (top level): unknown key(s) "gird"'],
    [{ name: 'a', list: [{ 'bad key!': 1 }] }, 'sweep.json: list[0]."bad key!": keys must be dotted config paths'],
    [{ name: 'a', base: { preset: 'nanda-2023', sett: {} } }, 'sweep.json: base: unknown key(s) "sett"'],
  ])('rejects %j with a message naming the key and value', (doc, message) => {
    expect(errorOf(() => parseSweep(doc, 'sweep.json'))).toContain(message);
  });

  it('reports JSON syntax errors by line and column, and resolves base.file next to the sweep file', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  "name": "x",\n  "grid": {,}\n}');
    expect(errorOf(() => readSweepFile(bad))).toMatch(/bad\.json: line 3, column 12: not valid JSON/);
    writeFileSync(join(dir, 'base.json'), JSON.stringify({ task: { p: 13 } }));
    writeFileSync(
      join(dir, 'ok.json'),
      JSON.stringify({ name: 'ok', base: { file: 'base.json' }, grid: { 'optimizer.lr': [0.01] } }),
    );
    const x = expandSweep(readSweepFile(join(dir, 'ok.json')), 'ok.json');
    expect(x.baseConfig.task).toMatchObject({ kind: 'modular', p: 13 });
  });
});

describe('expandSweep', () => {
  const doc = {
    name: 'wd',
    base: { preset: 'truong-2026', set: { 'training.steps': 500 } },
    grid: { 'optimizer.weight_decay': [0.5, 1], 'optimizer.lr': [1e-3, 3e-3] },
    list: [{}, { 'optimizer.kind': 'sgd', 'optimizer.momentum': 0.9 }],
    seeds: [0, 7],
  };

  it('takes grid × list × seeds in nesting order with readable ids', () => {
    const x = expand(doc);
    expect(x.runs).toHaveLength(16);
    expect(x.runs.map((r) => r.index)).toEqual([...Array(16).keys()]);
    expect(x.runs.slice(0, 4).map((r) => r.id)).toEqual([
      'wd=0.5_lr=0.001_seed=0',
      'wd=0.5_lr=0.001_seed=7',
      'opt=sgd_momentum=0.9_wd=0.5_lr=0.001_seed=0',
      'opt=sgd_momentum=0.9_wd=0.5_lr=0.001_seed=7',
    ]);
    expect(x.runs.at(-1)!.id).toBe('opt=sgd_momentum=0.9_wd=1_lr=0.003_seed=7');
    expect(new Set(x.runs.map((r) => r.id)).size).toBe(16);
  });

  it('resolves each run exactly as `groklens train --preset … --set …` would', () => {
    const x = expand(doc);
    const r = x.runs[3];
    const direct = resolveConfig({
      preset: 'truong-2026',
      sets: [
        'training.steps=500',
        'optimizer.kind="sgd"',
        'optimizer.momentum=0.9',
        'optimizer.weight_decay=0.5',
        'optimizer.lr=0.001',
        'training.seed=7',
        'split.seed=7',
      ],
    });
    expect(r.config).toEqual(direct.config);
    expect(r.seed).toBe(7);
    expect(x.preset).toBe('truong-2026');
    expect(r.diff).toEqual(
      [
        { key: 'split.seed', from: 0, to: 7 },
        { key: 'optimizer.kind', from: 'adamw', to: 'sgd' },
        { key: 'optimizer.lr', from: 0.001, to: 0.001 },
        { key: 'optimizer.weight_decay', from: 1, to: 0.5 },
        { key: 'optimizer.momentum', from: 0, to: 0.9 },
        { key: 'training.seed', from: 0, to: 7 },
      ].filter((c) => c.from !== c.to),
    );
    expect(x.baseConfig.training.steps).toBe(500);
  });

  it('seeds may set chosen keys only', () => {
    const x = expand({ name: 's', seeds: { values: [3], keys: ['training.seed'] } });
    expect(x.runs[0].id).toBe('seed=3');
    expect(x.runs[0].config.training.seed).toBe(3);
    expect(x.runs[0].config.split.seed).toBe(x.baseConfig.split.seed);
  });

  it('spells out keys whose labels clash, and uses labels from the file', () => {
    const x = expand({
      name: 'c',
      grid: { 'split.seed': [1, 2] },
      seeds: { values: [0], keys: ['training.seed'] },
      labels: {},
    });
    expect(x.runs[0].id).toBe('split.seed=1_seed=0');
    const y = expand({ name: 'c', grid: { 'model.d_mlp': [64] }, labels: { 'model.d_mlp': 'mlp' } });
    expect(y.runs[0].id).toBe('mlp=64');
  });

  it('hashes ids that would be too long, and disambiguates ids equal after sanitising', () => {
    const entry = {
      'optimizer.betas': [0.9, 0.98],
      'model.d_model': 64,
      'model.d_mlp': 256,
      'model.n_heads': 2,
      'model.d_head': 32,
      'optimizer.eps': 1e-7,
    };
    const short = expand({ name: 'h', list: [entry] });
    expect(short.runs[0].id).toBe('betas=0.9-0.98_d_model=64_d_mlp=256_n_heads=2_d_head=32_eps=1e-7'); // 64 characters
    const x = expand({ name: 'h', list: [{ ...entry, 'training.batch_size': 64, 'training.eval_every': 50 }] }); // 85: too long
    expect(x.runs[0].id).toMatch(/^run-[0-9a-f]{10}$/);
    expect(MAX_ID_LENGTH).toBe(80);
    const y = expand({
      name: 'h',
      grid: { 'model.act': ['relu', 'gelu'] },
      list: [{ 'optimizer.betas': [0.9, 0.98] }, { 'optimizer.betas': [0.9, 0.999] }],
    });
    expect(y.runs.map((r) => r.id)).toEqual([
      'betas=0.9-0.98_act=relu',
      'betas=0.9-0.999_act=relu',
      'betas=0.9-0.98_act=gelu',
      'betas=0.9-0.999_act=gelu',
    ]);
    const z = expand({
      name: 'h',
      list: [{ 'optimizer.lr': 0.01 }, { 'optimizer.eps': 0.01 }],
      labels: { 'optimizer.lr': 'x', 'optimizer.eps': 'x' },
    });
    expect(z.runs.map((r) => r.id)).toEqual([
      expect.stringMatching(/^x=0\.01_[0-9a-f]{6}$/),
      expect.stringMatching(/^x=0\.01_[0-9a-f]{6}$/),
    ]);
    expect(z.runs[0].id).not.toBe(z.runs[1].id);
  });

  it('blames the sweep field that set a bad key or value', () => {
    expect(errorOf(() => expand({ name: 'e', grid: { 'optimizer.weight_decy': [1] } }))).toBe(
      'sweep.json: grid."optimizer.weight_decy": 1: optimizer.weight_decy: unknown key (did you mean optimizer.weight_decay?)',
    );
    expect(errorOf(() => expand({ name: 'e', list: [{ 'optimizer.lr': 0.1 }, { 'optimizer.lr': -1 }] }))).toMatch(
      /^sweep\.json: list\[1\]\."optimizer\.lr": .*-1.*number > 0/,
    );
    expect(errorOf(() => expand({ name: 'e', base: { set: { 'model.d_model': 'wide' } } }))).toMatch(
      /^sweep\.json: base\.set\."model\.d_model": .*"wide"/,
    );
    expect(errorOf(() => expand({ name: 'e', base: { preset: 'nanda-2032' } }))).toMatch(
      /^sweep\.json: base\.preset: "nanda-2032" is not a preset \(did you mean nanda-2023\?\)/,
    );
    expect(
      errorOf(() => expand({ name: 'e', grid: { 'task.p': [7] }, list: [{ 'task.op': 'div' }, { 'task.p': 9 }] })),
    ).toBe('sweep.json: list[1]."task.p": this key is also in the grid; set it in one place');
    expect(errorOf(() => expand({ name: 'e', grid: { 'training.seed': [1, 2] }, seeds: [0] }))).toBe(
      'sweep.json: grid."training.seed": this key is set by the seeds; set it in one place',
    );
  });

  it('refuses two runs with the same config', () => {
    expect(
      errorOf(() => expand({ name: 'd', base: { preset: 'nanda-2023' }, list: [{}, { 'optimizer.lr': 1e-3 }] })),
    ).toBe('sweep.json: lr=0.001: resolves to the same config as run base: two runs would train the same thing');
  });
});

describe('shards', () => {
  it('parses i/n and rejects the rest', () => {
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
    expect(() => parseShard('4/4')).toThrow(/shard index 4 is out of range for 4 shard\(s\): use 0 to 3/);
    expect(() => parseShard('1-4')).toThrow(/expected i\/n/);
    expect(() => parseShard('0/0')).toThrow(/at least 1/);
  });

  it('reads Slurm array variables, offset by the array minimum', () => {
    expect(shardFromEnv({})).toBeNull();
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '8' })).toEqual({ index: 3, count: 8 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '8', SLURM_ARRAY_TASK_COUNT: '8', SLURM_ARRAY_TASK_MIN: '1' })).toEqual({
      index: 7,
      count: 8,
    });
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '3' })).toThrow(/SLURM_ARRAY_TASK_COUNT is not set/);
  });

  it('gives every run to exactly one shard, balanced', () => {
    for (const n of [1, 2, 3, 7]) {
      const owners = Array.from({ length: 20 }, (_, i) =>
        [...Array(n).keys()].filter((s) => inShard(i, { index: s, count: n })),
      );
      expect(owners.every((o) => o.length === 1)).toBe(true);
      const sizes = [...Array(n).keys()].map((s) => owners.filter((o) => o[0] === s).length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });
});
