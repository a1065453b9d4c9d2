/** The data-only reading of a pickled HookedTransformerConfig (src/io/tl-config-global.ts). */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPickle, PyDict, UnsafeGlobalError } from '../../src/io/pickle.ts';
import { CHECKPOINT_GLOBALS } from '../../src/io/torch-checkpoint.ts';
import { readTorchFile } from '../../src/io/torch-file.ts';
import { TorchDtype } from '../../src/io/torch-globals.ts';
import { HookedConfigData } from '../../src/io/tl-config-global.ts';
import { PickleWriter } from '../io/torch-build.ts';

const load = (bytes: Uint8Array) =>
  loadPickle(bytes, 0, { file: 'cfg.pkl', where: 'data.pkl', globals: CHECKPOINT_GLOBALS }).value;
const MODULE = 'transformer_lens.HookedTransformerConfig';

/** NEWOBJ(cls, ()) then BUILD({fields}), as protocol 2 pickles a dataclass instance. */
function configPickle(module: string, fields: (w: PickleWriter) => void): Uint8Array {
  const w = new PickleWriter().proto(2).global(module, 'HookedTransformerConfig').op(')').raw(0x81).op('}').mark();
  fields(w);
  return w.op('u').op('b').stop().bytes();
}

describe('HookedTransformerConfig as data', () => {
  it("the TL demo fixture's config becomes a plain dict of fields, with torch dtypes as data", async () => {
    const f = await readTorchFile(join(import.meta.dirname, '../../fixtures/import/tl-demo.pt'));
    const cfg = (f.root as PyDict).get('config');
    expect(cfg).toBeInstanceOf(HookedConfigData);
    const fields = (cfg as HookedConfigData).fields;
    expect([fields.get('d_model'), fields.get('n_heads'), fields.get('act_fn'), fields.get('d_vocab_out')]).toEqual([
      16,
      2,
      'relu',
      8,
    ]);
    expect(fields.get('dtype')).toBeInstanceOf(TorchDtype);
  });

  it('both module paths TL has used are read; the fields are whatever the pickle holds', () => {
    for (const module of [MODULE, 'transformer_lens.config.HookedTransformerConfig']) {
      const v = load(configPickle(module, (w) => w.str('d_model').int(128).str('device').str('cuda')));
      expect((v as HookedConfigData).fields.get('d_model')).toBe(128);
    }
  });

  it('a global hidden in its state is still refused; another class of the same name is refused', () => {
    const hostile = configPickle(MODULE, (w) =>
      w.str('seed').global('posix', 'system').mark().str('touch /tmp/x').op('t').op('R'),
    );
    expect(() => load(hostile)).toThrow(UnsafeGlobalError);
    expect(() => load(hostile)).toThrow(/posix\.system/);
    expect(() => load(configPickle('__main__', (w) => w.str('d_model').int(1)))).toThrow(
      /__main__\.HookedTransformerConfig/,
    );
  });

  it('it cannot be called (REDUCE) or given a non-dict state', () => {
    const called = new PickleWriter().proto(2).global(MODULE, 'HookedTransformerConfig').op(')').op('R').stop().bytes();
    expect(() => load(called)).toThrow(/cannot be called/);
    const listState = new PickleWriter()
      .proto(2)
      .global(MODULE, 'HookedTransformerConfig')
      .op(')')
      .raw(0x81)
      .op(']')
      .op('b')
      .stop()
      .bytes();
    expect(() => load(listState)).toThrow(/BUILD state must be a dict/);
  });
});
