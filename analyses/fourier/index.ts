/** The Fourier machinery of the analysis passes: basis, fast transforms, Z_p^* re-indexing, sparsity stats. */
export * from './basis.ts';
export { complexDft, type ComplexDft } from './bluestein.ts';
export * from './transform.ts';
export * from './group.ts';
export * from './stats.ts';
export { FourierInputError, type NumericArray } from './errors.ts';
