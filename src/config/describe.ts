/**
 * One line describing a model config, the same everywhere: analysis.json's run.model, the run
 * report's summary and the sweep report's base config.
 */
import { fmtValue } from '../format.ts';
import type { ModelConfig } from './types.ts';

export function describeModel(m: ModelConfig): string {
  switch (m.kind) {
    case 'transformer':
      return (
        `transformer: ${m.n_layers} layer${m.n_layers === 1 ? '' : 's'}, d_model ${m.d_model}, ${m.n_heads} heads × d_head ${m.d_head}, d_mlp ${m.d_mlp}, ${m.act}, ${m.layer_norm ? 'LayerNorm' : 'no LayerNorm'}${m.attn_bias === true ? ', trained attention biases' : ''}` +
        (m.init_scale !== 1 ? `, init scale ${fmtValue(m.init_scale)}` : '')
      );
    case 'mlp':
      return (
        `MLP: embedding ${m.d_embed}, hidden [${m.hidden.join(', ')}], ${m.act}` +
        (m.init_scale !== 1 ? `, init scale ${fmtValue(m.init_scale)}` : '')
      );
    case 'quadratic':
      return (
        `quadratic network: hidden ${m.hidden}` + (m.init_scale !== 1 ? `, init scale ${fmtValue(m.init_scale)}` : '')
      );
    default:
      return fmtValue((m as { kind?: unknown }).kind);
  }
}
