// Entry script of one emscripten pthread of the threaded tfjs-backend-wasm build under Node
// (see ./wasm-threads.ts). tfjs ships the worker source only as a string, meant for a browser
// Blob URL, which node:worker_threads cannot load; this file runs that string instead.
// Direct eval, so the worker code sees this module's `require` and `__filename`. tfjs's
// string holds raw newlines inside string literals; escape them back first, as tfjs itself does.
'use strict';
const {
  wasmWorkerContents,
} = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');
eval(wasmWorkerContents.replace(/\n/g, '\\n'));
