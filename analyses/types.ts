/**
 * analysis.json — the public, versioned output of `groklens analyze` (documented in the README).
 * Every number is plain JSON; arrays indexed by frequency k run k = 0 (constant) … K = ⌊n/2⌋ where
 * n is the size of the cyclic group the task is analysed over (p for + and −, p − 1 for × and ÷).
 * Definitions: docs/measures.md.
 */

export { ANALYSIS_FORMAT_VERSION } from '../src/version.ts';

import type { ChainResult, SgldSettings } from './sgld.ts';
import type { TrajectoryResult } from './trajectory.ts';
export type { TrajectoryResult };

// The llc pass (./llc.ts) — here so that it can read TransitionSummary without an import cycle.
/** What analysis.json records under options.llc: every setting the estimate depends on. */
export interface LlcOptions extends SgldSettings {
  batch_size: number; // minibatch size m (the whole train split when larger)
  n: number; // training-set size n
  nbeta_rule: 'n/ln n' | 'given'; // how nβ was chosen
  /**
   * Which checkpoints get λ̂ (not a sampler setting: changing it never discards λ̂ already
   * computed): about this many log-spaced in step, first and last included, plus the checkpoints
   * around the phase boundaries (llcCheckpointSteps), or 'all'. Absent in files written before it
   * existed (they computed every checkpoint).
   */
  checkpoints?: number | 'all';
}

/** The per-checkpoint result in analysis.json (numbers rounded by the writer). */
export interface LlcResult {
  llc: number | null; // mean λ̂ over the healthy chains
  llc_std: number | null; // their standard deviation
  init_loss: number; // L_n(w*): the training loss at the checkpoint
  diverged_chains: number;
  chains: ChainResult[];
}

/** Passes with a result per checkpoint (a key of CheckpointResult). */
export type CheckpointPassName = 'metrics' | 'fourier' | 'circuit' | 'norms' | 'ntk' | 'llc';
/** Every pass: the per-checkpoint ones and the run-level `trajectory` (analysis.json → trajectory). */
export type PassName = CheckpointPassName | 'trajectory';
export const ALL_PASSES: PassName[] = ['metrics', 'fourier', 'circuit', 'norms', 'ntk', 'llc', 'trajectory'];
/** Run only when --passes names them, never by default (llc: seconds per checkpoint; trajectory: run-level). */
export const OPT_IN_PASSES: PassName[] = ['llc', 'trajectory'];

/** How the task's pairs map onto a cyclic group so that the answer is "a + b" in it. */
export interface GroupView {
  kind: 'additive' | 'multiplicative' | 'none';
  /** Group order: p (additive), p − 1 (multiplicative). 0 when kind is 'none'. */
  n: number;
  /** Multiplicative: the generator whose discrete log re-indexes the nonzero residues. */
  generator?: number;
  /** Operand maps, e.g. 'b ↦ −b' for subtraction, 'x ↦ log_g x' for multiplication. */
  description: string;
}

export interface MetricsResult {
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  all_loss: number;
  all_acc: number;
}

export interface FourierResult {
  /** ‖(F·W_E')[cos k]‖² + ‖(F·W_E')[sin k]‖², square-rooted; [0] is the constant row. Length K + 1. */
  embed_norms: number[];
  /** Same for the neuron-to-logit map W_L = W_out·W_U' (or the hidden→output map for mlp / quadratic). */
  logit_map_norms: number[];
  gini_embed: number;
  gini_logit_map: number;
  /** Mean inverse participation ratio over first-layer neurons (Gromov 2023). */
  ipr_mean: number;
  /** Share of W_E's squared Fourier mass outside the key frequencies and the constant. */
  non_fourier_energy: number;
  /** Only with --key-freqs per-checkpoint. */
  key_frequencies?: number[];
}

export interface CircuitResult {
  restricted_loss: number; // CE over all pairs
  restricted_loss_train: number;
  restricted_acc: number; // all pairs, this checkpoint's mean
  excluded_loss: number; // CE over train pairs, every key frequency removed
  /** Aligned with the analysis' key_frequencies: train CE with only that frequency removed. */
  excluded_loss_per_key: number[];
  /** Max over every k = 1…K of the single-frequency excluded loss (model-independent), and its argmax. */
  excluded_loss_max: number;
  excluded_loss_max_k: number;
  /** Cosine coefficients α_w for w = 0…K (unit-normalised C_w). */
  alpha: number[];
  test_restricted_ratio: number; // test loss / restricted loss
  /** × and ÷ only: the pairs with a zero operand, outside the group, reported apart (all p classes). */
  outside_group?: { n: number; loss: number; acc: number };
}

export interface NormsResult {
  sq_norm_total: number; // Σ θ² over every parameter
  sq_norm: Record<string, number>; // per tensor
  linf: number;
  rel_dist_total: number; // ‖θ_t − θ_0‖ / ‖θ_0‖
  rel_dist: Record<string, number>;
}

export interface KernelStats {
  kernel_distance: number; // S(K_t, K_0) = 1 − ⟨K_t,K_0⟩/(‖K_t‖‖K_0‖)
  change_abs: number; // ‖K_t − K_0‖_F
  change_rel: number; // ÷ ‖K_0‖_F
  alignment: number; // yᵀKy / (‖K‖_F ‖y‖²)
  alignment_centred: number;
  trace: number;
}

export interface NtkResult {
  projection: KernelStats; // f(x) = r·logits(x)
  first_output: KernelStats; // f(x) = logits(x)[0]
}

export interface CheckpointResult {
  step: number;
  file: string; // checkpoint file name inside checkpoints/
  metrics?: MetricsResult;
  fourier?: FourierResult;
  circuit?: CircuitResult;
  norms?: NormsResult;
  ntk?: NtkResult;
  llc?: LlcResult; // the local learning coefficient (opt-in, ./llc.ts)
}

export interface NeuronCluster {
  frequency: number;
  neurons: number; // how many neurons have this argmax frequency with explained fraction ≥ 0.85
  mean_explained: number;
}

export type PhaseName = 'memorisation' | 'circuit_formation' | 'cleanup' | 'stable';

export interface PhaseBoundary {
  from: PhaseName;
  to: PhaseName;
  step: number;
  /** One sentence: which signal did what, e.g. "excluded loss reached its minimum and began to rise". */
  reason: string;
}

export interface ContractionFit {
  /** V(t) ≈ v_mem_fit·exp(−c·(t − t_mem)), least squares on log V over [from, to]. */
  c: number;
  c_over_lr_wd: number | null; // null when lr·wd = 0
  v_mem: number; // measured ‖θ‖² at T_mem
  v_mem_fit: number;
  v_at_grok: number | null; // ‖θ‖² at T_grok (95 %), the delay law's V; null if the run never grokked (absent in version 1)
  v_fit_end: number; // ‖θ‖² at the end of the fit window (the start of the stable phase, or the last checkpoint); v_post in version 1
  r2: number;
  from: number;
  to: number;
}

export interface TransitionSummary {
  t_mem: number | null; // first checkpoint with train acc ≥ 0.99
  t_grok_95: number | null; // first with test acc ≥ 0.95
  t_grok_99: number | null;
  delay_95: number | null;
  delay_99: number | null;
  phases: { name: PhaseName; start: number; end: number | null }[];
  boundaries: PhaseBoundary[];
  contraction: ContractionFit | null;
  /** Why a boundary or the fit could not be placed, if any. */
  notes: string[];
}

/** Attention of the last position ('=') to the operand positions, last layer, per head (transformers). */
export interface AttentionMaps {
  step: number; // the checkpoint they come from (the key-frequency checkpoint)
  p: number;
  heads: { layer: number; head: number; to_a: number[][]; to_b: number[][] }[]; // [a][b], rounded to 1e-4
}

/** One p × p grid quantised to uint8 (../analyses/checkpoint-grids.ts): value ≈ lo + code·(hi − lo)/254, code 255 = no value. */
export interface QuantisedGrid {
  lo: number;
  hi: number;
  data: string; // base64 of the p² codes, a-major [a][b]
}

/** The explorer's grids at one checkpoint. */
export interface CheckpointGridsEntry {
  step: number;
  /** The neuron rule at this checkpoint (as neuron_clusters, which is for key_frequencies_step). */
  neuron_clusters: NeuronCluster[];
  unclustered_neurons: number;
  neurons: QuantisedGrid[]; // aligned with CheckpointGrids.neurons: activation over (a, b)
  attention: { to_a: QuantisedGrid; to_b: QuantisedGrid }[]; // aligned with CheckpointGrids.heads, range [0, 1]
}

/** Per-checkpoint grids for a chosen subset of checkpoints (analysis.json → checkpoint_grids, optional). */
export interface CheckpointGrids {
  version: number; // CHECKPOINT_GRIDS_VERSION
  p: number; // operands 0 … p − 1
  quantisation: 'uint8'; // 255 levels per grid over its own [lo, hi], code 255 = gap
  selection: string; // how the checkpoints were chosen, one sentence
  /** The neurons followed: the strongest of each key frequency at neurons_step. */
  neurons: { neuron: number; frequency: number; explained: number }[];
  neurons_step: number | null;
  heads: { layer: number; head: number }[];
  checkpoints: CheckpointGridsEntry[]; // ascending step
}

export interface AnalysisFile {
  format: 'groklens-analysis';
  format_version: number;
  groklens_version: string;
  run: {
    name: string;
    task: string; // human description, e.g. "a+b mod 113"
    model: string;
    n_params: number;
    n_train: number;
    n_test: number;
    lr: number;
    weight_decay: number;
    optimizer: string;
    seed: number;
    backend: string;
    steps: number; // budget
    /**
     * Copied from status.json when training found a non-finite loss, gradient or weights (absent
     * otherwise, and in files written before groklens 0.2.0).
     */
    divergence?: { step: number; what: string; detail: string; last_finite_checkpoint: number | null };
  };
  options: {
    passes: PassName[];
    key_freq_source: 'final' | 'per-checkpoint';
    probe: { n: number; seed: number; indices: number[]; projection: number[] } | null;
    /** Every setting of the llc pass (present when it ran). */
    llc?: LlcOptions;
  };
  group: GroupView;
  /** Key frequencies by the neuron rule on key_frequencies_step (the final checkpoint by default). */
  key_frequencies: number[];
  key_frequencies_step: number | null;
  neuron_clusters: NeuronCluster[];
  unclustered_neurons: number;
  attention?: AttentionMaps;
  /** Grids over (a, b) at a subset of checkpoints, for the report's explorer (./checkpoint-grids.ts). */
  checkpoint_grids?: CheckpointGrids;
  /** The run's path through weight space (the trajectory pass, ./trajectory.ts). */
  trajectory?: TrajectoryResult;
  checkpoints: CheckpointResult[]; // ascending step
  summary: TransitionSummary;
  warnings: { file: string; problem: string }[];
  updated_at: string;
}
