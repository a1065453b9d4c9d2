/**
 * `groklens` command line. Each command lives in cli/commands/; this file only wires them up and
 * turns user errors into one clean line on stderr (exit 2) instead of a stack trace.
 */
import { Command, Option } from 'commander';
import { runProgram } from './commands/run-program.ts';
import { PACKAGE_VERSION } from '../src/version.ts';

const collect = (v: string, prev: string[]) => [...prev, v];
const backendOption = () =>
  new Option('--backend <name>', 'tensor backend')
    .choices(['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'])
    .default('auto');
const threadsOption = () =>
  new Option(
    '--threads <n>',
    'threads for the matrix products (OpenBLAS) and the wasm backend (default 1; a sweep uses processes)',
  );

const program = new Command()
  .name('groklens')
  .description('Train grokking models, analyse their checkpoints and write static HTML reports.')
  .version(PACKAGE_VERSION)
  .showHelpAfterError();

program
  .command('train')
  .description('train a model; writes a run directory under --runs-dir (see README: "The run directory")')
  .argument('[config]', 'JSON config file (partial: defaults fill the rest)')
  .option('-p, --preset <name>', 'start from a preset: nanda-2023, power-2022, truong-2026, demo')
  .option(
    '-s, --set <key=value>',
    'override a config key by dotted path (repeatable), e.g. optimizer.weight_decay=0.5',
    collect,
    [],
  )
  .option('-n, --name <name>', 'run name (directory under --runs-dir); default: preset or file name + time')
  .option('--runs-dir <dir>', 'where new runs are created', 'runs')
  .option('-r, --resume <dir>', 'continue the run in <dir> from its last saved step')
  .option(
    '--on-divergence <what>',
    'when the loss, a gradient or the weights stop being finite: stop (exit 3, keep the last finite checkpoint) or continue (record it and train on)',
    'stop',
  )
  .option('-q, --quiet', 'no progress bar')
  .addOption(backendOption())
  .addOption(threadsOption())
  .action(async (file, opts) => {
    await (await import('./commands/train.ts')).trainCommand(file, opts);
  });

program
  .command('inspect')
  .description('list the tensors, shapes, dtypes and metadata of a .safetensors file')
  .argument('<file>')
  .action(async (file) => (await import('./commands/inspect.ts')).inspectCommand(file));

program
  .command('demo')
  .description(
    'train the embedded demo (a+b mod 53, small transformer) until it groks, analyse it and write its report',
  )
  .option('--runs-dir <dir>', 'where the demo run is created', 'runs')
  .addOption(backendOption())
  .action(async (opts) => (await import('./commands/demo.ts')).demoCommand(opts));

program
  .command('analyze')
  .description('analyse the checkpoints of a run into runs/NAME/analysis.json (only what is missing)')
  .argument('<run>', 'run directory, e.g. runs/demo')
  .option(
    '--passes <list>',
    `comma-separated passes: ${'metrics,fourier,circuit,norms,ntk,llc,trajectory'} (default: all that apply except the opt-in llc and trajectory)`,
  )
  .option(
    '--llc <settings>',
    'llc pass settings, e.g. epsilon=1e-4,gamma=100,nbeta=464,chains=4,draws=200,burnin=100,batch_size=256,seed=0,checkpoints=24; checkpoints=N (default 24) gives λ̂ to about N checkpoints log-spaced in step, first and last included, plus the three around each phase boundary, T_mem and T_grok; checkpoints=all to every one; changing it keeps λ̂ already computed',
  )
  .option('--trajectory-window <n>', 'checkpoints per sliding window of the trajectory pass (default 10)')
  .option(
    '--key-freqs <mode>',
    "key frequencies from the 'final' checkpoint, reused for all, or 'per-checkpoint'",
    'final',
  )
  .option('--probe-size <n>', 'inputs in the NTK probe set (default 64, or what analysis.json recorded)')
  .option('-w, --watch', 'keep analysing new checkpoints while the run trains')
  .option('--interval <seconds>', 'how often --watch looks for new checkpoints', '10')
  .option('-q, --quiet', 'no progress bar')
  .addOption(backendOption())
  .addOption(threadsOption())
  .action(async (dir, opts) => (await import('./commands/analyze.ts')).analyzeCommand(dir, opts));

program
  .command('report')
  .description('write a self-contained HTML report of one analysed run (default: RUN/report.html)')
  .argument('<run>', 'run directory, e.g. runs/NAME')
  .option('-o, --output <file>', 'where to write the HTML')
  .action(async (run, opts) => (await import('./commands/report.ts')).reportCommand(run, opts));

program
  .command('compare')
  .description('compare several analysed runs in one self-contained HTML file')
  .argument('<runs...>', 'run directories')
  .requiredOption('-o, --output <file>', 'where to write the HTML')
  .action(async (runs, opts) => (await import('./commands/compare.ts')).compareCommand(runs, opts));

program
  .command('export')
  .description(
    'write checkpoints of a transformer run as TransformerLens state dicts (safetensors, optionally .pt) with config.json',
  )
  .argument('<run>', 'run directory, e.g. runs/NAME')
  .option('-f, --format <format>', 'export format: transformer-lens')
  .option('-o, --output <dir>', 'output directory (default: RUN/transformer-lens)')
  .option('--steps <steps>', "checkpoints: 'all', 'last' or a comma-separated list such as 0,1000,2000", 'all')
  .option('--pt', 'also write a .pt per step that torch.load(f, weights_only=True) reads')
  .action(async (run, opts) => (await import('./commands/export.ts')).exportCommand(run, opts));

program
  .command('linear')
  .description(
    'linear grokking without a network (docs/measures.md#linear-grokking): teacher-student, ridge and their sweeps, exact dynamics beside the theory; writes JSON',
  )
  .argument('<setup>', 'teacher-student | ridge | sweep-lambda | sweep-gamma | sweep-ridge-nu2 | sweep-ridge-lambda')
  .option('-s, --set <key=value>', 'a setting, e.g. lambda=0.7, dIn=500, nu2=10 (repeatable)', collect, [])
  .option('--values <list>', 'swept values: 0.1,0.5 or start:stop:count or start:stop:count:log')
  .option('--seeds <list>', 'seeds of a sweep (default 0,1,2)')
  .option('--max-steps <n>', 'budget of the threshold searches (default 1e7)')
  .option('--points <n>', 'curve points of a single run (default 160)')
  .option('--n-test <n>', 'teacher-student: fresh inputs for the test accuracy (default 1000; 0: none)')
  .option('--no-accuracy', 'teacher-student: skip the accuracy curves')
  .option('-o, --out <file>', 'JSON result (default runs/linear/<setup>.json)')
  .option('-q, --quiet', 'no progress lines')
  .option('--workers <n>', 'sweeps: threads for the eigendecompositions (default: one per core)')
  .option(
    '--eigensolver <name>',
    "auto (default: the system's LAPACK when installed, else ml-matrix) | lapack | ml-matrix",
  )
  .option('--report [file]', 'also write the HTML report (default: beside the JSON, .html)')
  .action(async (setup, opts) => {
    await (await import('./commands/linear.ts')).linearCommand(setup, opts);
  });

program
  .command('linear-report')
  .description('one self-contained HTML report of saved linear results (JSON from groklens linear)')
  .argument('<results...>', 'JSON results of groklens linear')
  .option('-o, --out <file>', 'HTML file (default: beside the first result; linear-report.html for several)')
  .option('--title <text>', 'page title')
  .action(async (files, opts) => {
    await (await import('./commands/linear.ts')).linearReportCommand(files, opts);
  });

program
  .command('import')
  .description(
    'turn checkpoints trained elsewhere (PyTorch, TransformerLens, Nanda et al.) into a run directory; nothing in them is executed',
  )
  .argument('<sources...>', 'torch files (.pt/.pth), .safetensors files, or a directory of them')
  .option('-n, --name <name>', 'run name (directory under --runs-dir)')
  .option('--runs-dir <dir>', 'where the run is created', 'runs')
  .option('--layout <name>', 'transformer-lens | nanda | tl-demo (default: detected from keys and shapes)')
  .option('--task <op>', 'the modular operation, when the source does not record it: add, sub, mul, div, …')
  .option('--p <n>', 'the modulus (default: d_vocab − 1, or what the source records)')
  .option('--train-fraction <f>', 'split rule, when the source records none')
  .option('--split-seed <n>', 'split rule seed')
  .option('--split-mode <mode>', 'python-random (CPython random.shuffle, default) | shuffle')
  .option('--train-indices <file>', 'JSON list of the train example indices (a-major pairs)')
  .option('--steps-from <how>', 'epochs+1 (default: updates applied) | epochs | index')
  .option('--step <n>', 'the step of a single state dict that does not record one')
  .option('--act <fn>', 'relu | gelu, when the source does not record it (default relu, with a note)')
  .option('--seed <n>', 'training seed, for the record')
  .option('-s, --set <key=value>', 'correct a record-only config key, e.g. optimizer.lr=1e-3 (repeatable)', collect, [])
  .option('-q, --quiet', 'no hint line')
  .action(async (sources, opts) => (await import('./commands/import.ts')).importCommand(sources, opts));

program
  .command('presets')
  .description('list the configuration presets')
  .action(async () => (await import('./commands/presets.ts')).presetsCommand());

program.addCommand((await import('./commands/sweep.ts')).sweepCli());

await runProgram(program);
