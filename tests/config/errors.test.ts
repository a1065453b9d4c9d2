import { describe, expect, it } from 'vitest';
import { resolveConfig, validateConfig } from '../../src/config/load.ts';
import { DEFAULTS } from '../../src/config/schema.ts';
import { ConfigError, UserError } from '../../src/errors.ts';
import { configError, scratchDir } from './helpers.ts';

const files = scratchDir();
const viaSet = (...sets: string[]) => configError(() => resolveConfig({ sets })).message;
const viaFile = (name: string, content: string | object) => {
  const file = files.write(name, content);
  return { file, message: configError(() => resolveConfig({ file, sets: [] })).message };
};

describe('sections and key paths (issue 14, defect 11)', () => {
  it('a section set to a non-object is blamed on the layer that did it, not on a later --set', () => {
    const file = files.write('section-scalar.json', { optimizer: 5 });
    const message = configError(() => resolveConfig({ file, sets: ['optimizer.lr=0.01'] })).message;
    expect(message).toBe(`${file}: optimizer: 5 is not allowed; expected an object`);
  });

  it('a --set key of thousands of parts is refused at once, in a bounded message', () => {
    const key = ['model', ...Array(20000).fill('a')].join('.');
    const t0 = performance.now();
    const message = viaSet(`${key}=1`);
    expect(performance.now() - t0).toBeLessThan(100);
    expect(message.length).toBeLessThan(250);
    expect(message).toMatch(/^--set: model\.a\.a.*\.\.\.: not a config key: keys are section\.key/);
  });
});

describe('unknown keys', () => {
  it('from a file: full dotted key, the file, and the nearest valid key', () => {
    const { file, message } = viaFile('typo.json', { optimizer: { weight_decy: 0.5 } });
    expect(message).toBe(`${file}: optimizer.weight_decy: unknown key (did you mean optimizer.weight_decay?)`);
  });

  it('from --set', () => {
    expect(viaSet('optimizer.weight_decy=0.5')).toBe(
      '--set: optimizer.weight_decy: unknown key (did you mean optimizer.weight_decay?)',
    );
    expect(viaSet('model.d_modle=64')).toBe('--set: model.d_modle: unknown key (did you mean model.d_model?)');
  });

  it('in a misspelt section, reported at the full key', () => {
    expect(viaSet('optimiser.lr=0.1')).toBe('--set: optimiser.lr: unknown key (did you mean optimizer.lr?)');
    const { file, message } = viaFile('section.json', { optimiser: { lr: 0.1, weight_decay: 0 } });
    expect(message).toBe(`${file}: optimiser: unknown key (did you mean optimizer?)`);
  });

  it('a key in the wrong section, or with no section, suggests where it lives', () => {
    expect(viaSet('lr=0.1')).toBe('--set: lr: unknown key (did you mean optimizer.lr?)');
    expect(viaSet('training.lr=0.1')).toBe('--set: training.lr: unknown key (did you mean optimizer.lr?)');
    expect(viaSet('seed=1')).toBe('--set: seed: unknown key (did you mean split.seed or training.seed?)');
  });

  it('with nothing close, lists what the section takes', () => {
    expect(viaSet('checkpoints.zzz=1')).toBe(
      '--set: checkpoints.zzz: unknown key; checkpoints takes every, log_spaced',
    );
    expect(viaSet('zzz=1')).toBe(
      '--set: zzz: unknown key; the sections are task, split, model, optimizer, training, checkpoints',
    );
  });

  it('a "preset" key belongs in --preset, not --set', () => {
    expect(viaSet('preset=demo')).toBe('--set: preset: choose a preset with --preset NAME, not --set');
  });
});

describe('invalid values', () => {
  it('enum: names the value and the choices', () => {
    expect(viaSet('model.act=sigmoid')).toBe('--set: model.act: "sigmoid" is not allowed; expected one of relu, gelu');
    expect(viaSet('model.kind=cnn')).toBe(
      '--set: model.kind: "cnn" is not allowed; expected one of transformer, mlp, quadratic',
    );
    expect(viaSet('task.op=pow')).toBe(
      '--set: task.op: "pow" is not allowed; expected one of add, sub, mul, div, x2+y2, x2+xy+y2, x2+xy+y2+x, x3+xy, x3+xy2+y',
    );
  });

  it('out of range', () => {
    expect(viaSet('training.steps=0')).toBe('--set: training.steps: 0 is not allowed; expected a positive integer');
    expect(viaSet('split.train_fraction=1')).toBe(
      '--set: split.train_fraction: 1 is not allowed; expected a number in (0, 1)',
    );
    expect(viaSet('task.p=1')).toBe('--set: task.p: 1 is not allowed; expected an integer ≥ 2');
    expect(viaSet('optimizer.lr=-0.001')).toBe('--set: optimizer.lr: -0.001 is not allowed; expected a number > 0');
    expect(viaSet('optimizer.betas=[0.9,1]')).toBe(
      '--set: optimizer.betas: [0.9,1] is not allowed; expected [β1, β2], two numbers each in [0, 1), e.g. [0.9, 0.98]',
    );
    expect(viaSet('task.p=1e999')).toBe('--set: task.p: Infinity is not allowed; expected an integer ≥ 2');
  });

  it('wrong type', () => {
    expect(viaSet('training.steps=abc')).toBe(
      '--set: training.steps: "abc" is not allowed; expected a positive integer',
    );
    expect(viaSet('training.batch_size=1.5')).toBe(
      '--set: training.batch_size: 1.5 is not allowed; expected a positive integer, or null for full batch',
    );
    expect(viaSet('model.layer_norm=yes')).toBe(
      '--set: model.layer_norm: "yes" is not allowed; expected true or false',
    );
    expect(viaSet('optimizer.betas=0.9')).toMatch(/^--set: optimizer\.betas: 0\.9 is not allowed; expected \[β1, β2\]/);
    expect(viaSet('model=5')).toBe('--set: model: 5 is not allowed; expected an object');
  });

  it('blames the file when the file set the bad value', () => {
    const { file, message } = viaFile('bad-value.json', { training: { eval_every: -5 } });
    expect(message).toBe(`${file}: training.eval_every: -5 is not allowed; expected a positive integer`);
  });

  it('cross-field rules blame the key set last', () => {
    expect(viaSet('task.op=div', 'task.p=98')).toBe(
      '--set: task.p: task.op "div" needs a prime modulus; task.p 98 is not prime',
    );
    const file = files.write('div.json', { task: { op: 'div' } });
    expect(configError(() => resolveConfig({ file, sets: ['task.p=100'] })).message).toBe(
      '--set: task.p: task.op "div" needs a prime modulus; task.p 100 is not prime',
    );
    expect(configError(() => resolveConfig({ preset: 'power-2022', sets: ['task.p=100'] })).key).toBe('task.p');
    expect(viaSet('task.kind=sparse-parity', 'task.n_bits=2')).toBe(
      '--set: task.n_bits: task.k (3) must not exceed task.n_bits (2)',
    );
    expect(viaSet('task.kind=sparse-parity', 'task.labels=pm1')).toBe(
      '--set: task.labels: task.labels "pm1" needs training.loss "mse" (got "cross-entropy")',
    );
  });

  it('validateConfig blames one source (e.g. a run.json)', () => {
    const bad = { ...structuredClone(DEFAULTS), training: { ...DEFAULTS.training, steps: -1 } };
    expect(configError(() => validateConfig(bad, 'runs/x/run.json')).message).toBe(
      'runs/x/run.json: training.steps: -1 is not allowed; expected a positive integer',
    );
    const extra = { ...structuredClone(DEFAULTS), optimizer: { ...DEFAULTS.optimizer, weight_decy: 1 } };
    expect(configError(() => validateConfig(extra, 'runs/x/run.json')).message).toBe(
      'runs/x/run.json: optimizer.weight_decy: unknown key (did you mean optimizer.weight_decay?)',
    );
  });
});

describe('files', () => {
  it('not valid JSON: the file and the line and column', () => {
    const { file, message } = viaFile('trailing.json', '{\n  "optimizer": {\n    "lr": 0.01,\n  }\n}\n');
    expect(message).toBe(`${file}: line 4, column 3: not valid JSON: trailing comma before "}" is not allowed in JSON`);
    expect(viaFile('missing-comma.json', '{\n  "task": {"p": 97}\n  "split": {}\n}').message).toMatch(
      /missing-comma\.json: line 3, column 3: not valid JSON: expected "," or "}" after a property value, found "\\""$/,
    );
    expect(viaFile('empty.json', '').message).toMatch(
      /empty\.json: line 1, column 1: not valid JSON: expected a value, found the end of the file$/,
    );
  });

  it('not an object', () => {
    const { file, message } = viaFile('list.json', '[1, 2]');
    expect(message).toBe(
      `${file}: (top level): expected a JSON object such as {"optimizer": {"lr": 0.001}}, got a list`,
    );
  });

  it('missing: names the path', () => {
    const e = configError(() => resolveConfig({ file: 'no/such/config.json', sets: [] }));
    expect(e.message).toMatch(
      /^config file: no\/such\/config\.json: not found \(looked for \/.*no\/such\/config\.json\)$/,
    );
  });

  it('preset named in a file: must be known, and agree with --preset', () => {
    const unknown = viaFile('unknown-preset.json', { preset: 'nanda' });
    expect(unknown.message).toBe(
      `${unknown.file}: preset: "nanda" is not a preset; valid presets: nanda-2023, power-2022, truong-2026, demo`,
    );
    const file = files.write('power.json', { preset: 'power-2022' });
    expect(configError(() => resolveConfig({ preset: 'demo', file, sets: [] })).message).toBe(
      `${file}: preset: "power-2022" conflicts with --preset demo; use one or the other`,
    );
    expect(viaFile('numeric-preset.json', { preset: 3 }).message).toMatch(
      /preset: 3 is not allowed; expected a preset name: nanda-2023/,
    );
  });
});

describe('command line', () => {
  it('unknown --preset lists the valid names', () => {
    expect(configError(() => resolveConfig({ preset: 'nanda', sets: [] })).message).toBe(
      '--preset: preset: "nanda" is not a preset; valid presets: nanda-2023, power-2022, truong-2026, demo',
    );
  });

  it('--set without "=" names the argument', () => {
    expect(viaSet('optimizer.lr')).toBe('--set: optimizer.lr: expected key=value, e.g. --set optimizer.lr=3e-4');
    expect(viaSet('=3')).toBe('--set: =3: expected a dotted key before "=", e.g. optimizer.lr');
    expect(viaSet('optimizer..lr=3')).toBe(
      '--set: optimizer..lr=3: expected a dotted key before "=", e.g. optimizer.lr',
    );
  });

  it('every error is a UserError (printed without a stack trace)', () => {
    const e = configError(() => resolveConfig({ sets: ['x'] }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e).toBeInstanceOf(UserError);
  });
});
