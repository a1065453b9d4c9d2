/**
 * Names of groklens's own kernels that ops outside src/backend call through tf.engine().runKernel
 * when the active backend registers them (./wasm-js-kernels.ts does, for wasm), without importing
 * the backend code itself.
 */
export const GATHER_ADD_ROWS = 'GroklensGatherAddRows';
