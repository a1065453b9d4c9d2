/**
 * A data-only reading of TransformerLens' HookedTransformerConfig, the dataclass the TL grokking
 * demo pickles beside its weights (`torch.save({..., "config": model.cfg})`). torch.save pickles it
 * with protocol 2 as NEWOBJ(cls, ()) then BUILD(state), state = the instance's __dict__. Here NEWOBJ
 * makes an empty HookedConfigData and BUILD copies the str-keyed fields into a plain PyDict; no
 * class is looked up, no __post_init__ or __setstate__ runs. Values stay whatever the allowlist
 * already rebuilds (numbers, strings, torch dtypes, lists, dicts); any other global inside the
 * state is refused as everywhere else.
 */
import {
  PickleDataError,
  PyCallable,
  PyDict,
  PyTuple,
  argCount,
  table,
  typeName,
  type Buildable,
  type PyValue,
} from './pickle.ts';

/** The fields of a pickled HookedTransformerConfig, as data. */
export class HookedConfigData implements Buildable {
  readonly pyType = 'transformer_lens.HookedTransformerConfig';
  readonly fields = new PyDict();
  private built = false;
  constructor(readonly qualname: string) {}
  build(state: PyValue): void {
    if (this.built) throw new PickleDataError(`${this.qualname}: BUILD applied twice`);
    this.built = true;
    let dict = state;
    if (state instanceof PyTuple && state.length === 2 && state.items[1] === null) dict = state.items[0]; // (dict, slots=None)
    if (!(dict instanceof PyDict))
      throw new PickleDataError(`${this.qualname}: BUILD state must be a dict of fields, got ${typeName(dict)}`);
    for (const [k, v] of dict) {
      if (typeof k !== 'string') throw new PickleDataError(`${this.qualname}: field name ${typeName(k)} is not a str`);
      this.fields.set(k, v);
    }
  }
}

/** The module paths TransformerLens versions have used for the class. */
export const HOOKED_CONFIG_QUALNAMES = [
  'transformer_lens.HookedTransformerConfig.HookedTransformerConfig',
  'transformer_lens.config.HookedTransformerConfig.HookedTransformerConfig',
] as const;

function configClass(qualname: string): PyCallable {
  return new PyCallable(qualname, undefined, (args) => {
    argCount(`${qualname} (NEWOBJ)`, args, 0); // cls.__new__(cls): no constructor arguments
    return new HookedConfigData(qualname);
  });
}

export const TRANSFORMER_LENS_GLOBALS: ReadonlyMap<string, PyValue> = table(
  ...HOOKED_CONFIG_QUALNAMES.map(configClass),
);
