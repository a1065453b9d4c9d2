/**
 * `groklens import` speed and memory on a run file of Nanda et al.'s size: 400 state dicts of the
 * nanda-2023 model (p 113, d_model 128, d_mlp 512, 4 heads × 32) in their layout, plus the final
 * model and 40k-epoch loss lists, written as a torch.save zip by our own code (no torch needed),
 * then imported by the CLI in a child process: wall time and peak RSS. Targets: < 60 s, < 1 GB.
 *
 *   npm run bench:import          (or: npx tsx bench/import.ts [--checkpoints 400] [--keep])
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { Rng } from '../src/rng.ts';
import { PickleWriter } from '../tests/io/torch-build.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const N_CKPT = Number(flag('checkpoints') ?? 400);
const EPOCHS = 40_000;
const here = fileURLToPath(new URL('.', import.meta.url));

// Their layout (src/import/nanda.ts): D = 128, H = 4, E = 32, M = 512, V = p + 1 = 114.
const [P, D, H, E, M] = [113, 128, 4, 32, 512];
const V = P + 1;
const SHAPES: [string, number[]][] = [
  ['embed.W_E', [D, V]],
  ['pos_embed.W_pos', [3, D]],
  ['blocks.0.attn.W_K', [H, E, D]],
  ['blocks.0.attn.W_Q', [H, E, D]],
  ['blocks.0.attn.W_V', [H, E, D]],
  ['blocks.0.attn.W_O', [D, H * E]],
  ['blocks.0.attn.mask', [3, 3]],
  ['blocks.0.mlp.W_in', [M, D]],
  ['blocks.0.mlp.b_in', [M]],
  ['blocks.0.mlp.W_out', [D, M]],
  ['blocks.0.mlp.b_out', [D]],
  ['unembed.W_U', [D, V]],
];
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const stride = (s: number[]) => s.map((_, i) => numel(s.slice(i + 1)));

/** A stored (uncompressed) zip written entry by entry: local header, data, then the central directory. */
class ZipStream {
  private pos = 0;
  private readonly central: Buffer[] = [];
  constructor(private readonly fd: number) {}
  add(name: string, data: Uint8Array): void {
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(nameBytes.length, 28);
    cd.writeUInt32LE(this.pos, 42);
    this.central.push(cd, nameBytes);
    for (const part of [local, nameBytes, data]) this.write(part);
  }
  finish(): void {
    const start = this.pos;
    for (const part of this.central) this.write(part);
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(this.central.length / 2, 8);
    eocd.writeUInt16LE(this.central.length / 2, 10);
    eocd.writeUInt32LE(this.pos - start, 12);
    eocd.writeUInt32LE(start, 16);
    this.write(eocd);
  }
  private write(b: Uint8Array): void {
    writeSync(this.fd, b, 0, b.length, this.pos);
    this.pos += b.length;
  }
}

function buildRunFile(file: string): void {
  const rng = new Rng(0);
  const base = SHAPES.map(([, s]) => Float32Array.from({ length: numel(s) }, () => rng.normal() / Math.sqrt(D)));
  const fd = openSync(file, 'w');
  const zip = new ZipStream(fd);
  const w = new PickleWriter().proto(2);
  let key = 0;
  // One state dict: {name: _rebuild_tensor_v2(('storage', FloatStorage, key, 'cuda:0', numel), 0, size, stride, False, OrderedDict())}
  const stateDict = (scale: number) => {
    w.global('collections', 'OrderedDict').op(')').op('R').mark();
    SHAPES.forEach(([name, shape], i) => {
      const k = String(key++);
      const data = new Float32Array(base[i].length);
      for (let j = 0; j < data.length; j++) data[j] = base[i][j] * scale;
      zip.add(`archive/data/${k}`, new Uint8Array(data.buffer));
      w.str(name).global('torch._utils', '_rebuild_tensor_v2').mark();
      w.mark().str('storage').global('torch', 'FloatStorage').str(k).str('cuda:0').int(data.length).op('t').op('Q');
      w.int(0)
        .ints(shape)
        .ints(stride(shape))
        .bool(false)
        .global('collections', 'OrderedDict')
        .op(')')
        .op('R')
        .op('t')
        .op('R');
    });
    w.op('u');
  };
  const floats = (n: number, f: (i: number) => number) => {
    w.op(']').mark();
    for (let i = 0; i < n; i++) w.float(f(i));
    w.op('e');
  };
  w.op('}').mark();
  w.str('config').op('}').mark();
  for (const [k, v] of Object.entries({
    lr: 1e-3,
    weight_decay: 1,
    p: P,
    d_model: D,
    frac_train: 0.3,
    num_epochs: EPOCHS,
    save_every: EPOCHS / N_CKPT,
    seed: 0,
    d_mlp: M,
    num_heads: H,
    d_head: E,
  })) {
    w.str(k);
    if (Number.isInteger(v)) w.int(v);
    else w.float(v);
  }
  w.str('fn_name').str('add').str('act_type').str('ReLU').op('u');
  w.str('model');
  stateDict(0.5);
  w.str('state_dicts').op(']').mark();
  for (let c = 0; c < N_CKPT; c++) stateDict(1 - c / (2 * N_CKPT));
  w.op('e');
  w.str('epochs').op(']').mark();
  for (let c = 0; c < N_CKPT; c++) w.int((c * EPOCHS) / N_CKPT);
  w.op('e');
  w.str('train_losses');
  floats(EPOCHS, (i) => 4.7 * Math.exp(-i / 1000));
  w.str('test_losses');
  floats(EPOCHS, (i) => 4.7 * Math.exp(-i / 10000));
  w.op('u').stop();
  zip.add('archive/data.pkl', w.bytes());
  zip.add('archive/version', new TextEncoder().encode('3\n'));
  zip.finish();
  closeSync(fd);
}

const dir = mkdtempSync(join(tmpdir(), 'groklens-bench-import-'));
try {
  const file = join(dir, 'full_run_data.pth');
  let t = performance.now();
  buildRunFile(file);
  const size = statSync(file).size;
  console.log(
    `built ${file}: ${N_CKPT} checkpoints + final model, ${(size / 1e6).toFixed(0)} MB, in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const load0 = loadavg()[0];
  t = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      '--require',
      join(here, 'maxrss.cjs'),
      join(here, '../bin/groklens.js'),
      'import',
      file,
      '--name',
      'b',
      '--runs-dir',
      dir,
      '--quiet',
    ],
    { encoding: 'utf8' },
  );
  const wall = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`groklens import failed (${r.status}): ${r.stderr}`);
  const mb = Number(/MAXRSS_KB (\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024;
  console.log(r.stdout.split('\n')[0]);
  console.log(
    `groklens import: ${wall.toFixed(1)} s wall (target < 60 s), peak RSS ${mb.toFixed(0)} MB (target < 1024 MB); load average ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)} on ${availableParallelism()} cores`,
  );
  if (wall > 60 || mb > 1024) process.exitCode = 1;
} finally {
  if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
}
