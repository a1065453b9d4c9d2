// Loaded with `node --require bench/maxrss.cjs …` by the benchmarks: reports the process's peak
// resident memory on exit, on a line of its own that the benchmark parses.
process.on('exit', () => process.stderr.write(`\nMAXRSS_KB ${process.resourceUsage().maxRSS}\n`));
