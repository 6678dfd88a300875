// scripts/bench-precision.mjs: what the default Winograd f32 trunk and the int8 trunk (model_options) change in the
// K+ estimate against the f32 reference with direct convolutions, on the 100 real validation ECGs
// (../shared/ecg/hmc, dyskalemia-validation-label.csv).
// Only differences between two arithmetics of the same shipped weights are measured; nothing is fitted.
//
//   node scripts/bench-precision.mjs [--kalium build/native/bin/kalium] [--json]
//
// Prints max / mean / 95th-percentile |delta K+| (mEq/L), how many estimates change their displayed value
// (one decimal) or their group, and the largest lead-attention change. Target of issue 5: |delta K+| <= 0.05.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const kalium = path.resolve(repo, option('--kalium', 'build/native/bin/kalium'));
const labels = path.join(repo, '../shared/ecg/hmc/labels/dyskalemia-validation-label.csv');
const hmcDir = path.join(repo, 'build/data/hmc/ecg');

for (const f of [kalium, labels, hmcDir]) {
  if (!fs.existsSync(f)) throw new Error(`${f} is missing (build the native preset; ../shared must be beside the repo)`);
}
const ids = fs.readFileSync(labels, 'utf8').split('\n').slice(1)
  .map((line) => line.split(',')[1]?.replace(/"/g, '')).filter(Boolean);
const files = ids.map((id) => path.join(hmcDir, `${id}.csv`));

function predict(precision) {
  const t0 = process.hrtime.bigint();
  const out = execFileSync(kalium, ['predict', '--format', 'jsonl', '--no-progress', '--precision', precision, ...files],
    { maxBuffer: 64 << 20 }).toString();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rows: out.trim().split('\n').map((l) => JSON.parse(l)), seconds };
}

// One arithmetic against the reference (f32 with direct convolutions): how far K+, its display and group move.
function compare(reference, other) {
  const deltas = [];
  let displayChanged = 0, groupChanged = 0, attentionMax = 0;
  for (let i = 0; i < reference.rows.length; i++) {
    const a = reference.rows[i], b = other.rows[i];
    if (a.file !== b.file || a.error || b.error) throw new Error(`row ${i}: ${a.file} / ${b.file}: ${a.error || b.error}`);
    deltas.push(Math.abs(a.k_plus - b.k_plus));
    if (a.k_plus_display !== b.k_plus_display) displayChanged++;
    if (a.group !== b.group) groupChanged++;
    for (const lead of Object.keys(a.lead_attention)) attentionMax = Math.max(attentionMax, Math.abs(a.lead_attention[lead] - b.lead_attention[lead]));
  }
  deltas.sort((x, y) => x - y);
  return {
    ecgs: deltas.length,
    max_abs_delta_k: round(deltas[deltas.length - 1], 7),
    mean_abs_delta_k: round(deltas.reduce((s, x) => s + x, 0) / deltas.length, 7),
    p95_abs_delta_k: round(deltas[Math.floor(0.95 * (deltas.length - 1))], 7),
    display_changed: displayChanged,
    group_changed: groupChanged,
    max_abs_delta_attention: round(attentionMax, 7),
  };
}
const round = (x, d = 4) => Number(x.toFixed(d));

const direct = predict('f32-direct');
const winograd = predict('f32');
const int8 = predict('int8');
const result = {
  reference: 'f32 with direct convolutions (--precision f32-direct)',
  winograd_f32: compare(direct, winograd),   // the default: k3 stride-1 convolutions by Winograd F(4,3)
  int8: compare(direct, int8),
  target_max_abs_delta_k: 0.05,
  cli_seconds: { f32_direct: round(direct.seconds, 2), f32_winograd: round(winograd.seconds, 2), int8: round(int8.seconds, 2) },
};
if (args.includes('--json')) {
  console.log(JSON.stringify(result));
} else {
  const line = (name, r) => {
    console.log(`${name} vs f32 direct on ${r.ecgs} validation ECGs (native CLI):`);
    console.log(`  |delta K+| max ${r.max_abs_delta_k}  mean ${r.mean_abs_delta_k}  p95 ${r.p95_abs_delta_k} mEq/L ` +
                `(target <= 0.05: ${r.max_abs_delta_k <= 0.05 ? 'met' : 'NOT met'})`);
    console.log(`  displayed value changed: ${r.display_changed}, group changed: ${r.group_changed}, ` +
                `max |delta attention| ${r.max_abs_delta_attention}`);
  };
  line('f32 Winograd (the default)', result.winograd_f32);
  line('int8 trunk', result.int8);
  console.log(`  CLI wall time for the 100: f32 direct ${result.cli_seconds.f32_direct} s, f32 Winograd ${result.cli_seconds.f32_winograd} s, ` +
              `int8 ${result.cli_seconds.int8} s`);
}
