#!/usr/bin/env bash
# Does the CI gate cry wolf, and does it still catch real slowdowns? Runs, on this machine:
#   1. RUNS identical `bench --preset ci` runs and every pairwise `compare` (want: no exit 1);
#   2. the preset at --threads 2 as baseline against the preset (one thread) (want: exit 1);
#   3. relative mode (`bench --against`) on two identical checkouts (want: exit 0) and from a
#      checkout whose favor-pos adds log(exp(·)) over its L×m feature blocks (want: exit 1);
#   4. a copy of one run with every process's samples scaled by 1.15 (want: exit 1).
# Usage: scripts/ci-gate-check.sh [work-dir]   (RUNS=10 by default; about 25 minutes on 2 cores)
#        PARTS="3 4" scripts/ci-gate-check.sh dir   runs only those parts (4 reads dir/run1, dir/run2)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
runs=${RUNS:-10}
parts=${PARTS:-1 2 3 4}
mkdir -p "$work"
perf() { node "$root/bin/performer.js" "$@"; }
verdicts() { node -e 'const d=JSON.parse(require("fs").readFileSync(0,"utf8"));const c={};for(const r of d.comparisons)c[r.verdict]=(c[r.verdict]||0)+1;console.log(JSON.stringify(c))'; }
echo "work directory: $work"

if [[ " $parts " == *" 1 "* ]]; then
echo "== 1. $runs identical runs of bench --preset ci, all pairwise compares"
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  perf bench --preset ci --no-roofline --out "$work/run$i" --format json >/dev/null || echo "run $i exited $?"
  echo "run $i: $(( $(date +%s) - start )) s"
done
declare -A codes=()
for i in $(seq 1 "$runs"); do for j in $(seq $((i + 1)) "$runs"); do
  out=$(perf compare "$work/run$i/results.json" "$work/run$j/results.json" --json); code=$?
  codes[$code]=$(( ${codes[$code]:-0} + 1 ))
  echo "compare run$i run$j: exit $code $(echo "$out" | verdicts)"
done; done
echo "pairwise exit codes: $(for c in "${!codes[@]}"; do printf '%s×%s ' "${codes[$c]}" "exit $c"; done)"
fi

if [[ " $parts " == *" 2 "* ]]; then
echo "== 2. --threads 2 (baseline) against one thread (current): a real slowdown"
perf bench --preset ci --threads 2 --no-roofline --out "$work/threads2" --format json >/dev/null
perf compare "$work/threads2/results.json" "$work/run1/results.json" --allow-env-change; echo "exit $? (want 1)"
fi

if [[ " $parts " == *" 3 "* ]]; then
echo "== 3. relative mode"
git -C "$root" worktree add --detach -f "$work/same" HEAD >/dev/null 2>&1 || true
ln -sfn "$root/node_modules" "$work/same/node_modules"
perf bench --preset ci --no-roofline --against "$work/same"; echo "identical checkouts: exit $? (want 0)"
git -C "$root" worktree add --detach -f "$work/slow" HEAD >/dev/null 2>&1 || true
ln -sfn "$root/node_modules" "$work/slow/node_modules"
# favor-pos with log(exp(x)) over each L×m feature block of queries and keys: the same values,
# four more transcendental passes over L×m (about +30% at L = 2048; plain x + x − x adds ~5%).
node -e '
const f=process.argv[1]; const fs=require("fs"); let s=fs.readFileSync(f,"utf8");
s=s.replace("return linearAttention(b, phiQ, phiK, ctx.v, ctx.config);", "const slow = (p: typeof phiQ) => ({ ...p, blocks: p.blocks.map((x) => b.log(b.exp(x))) });\n    return linearAttention(b, slow(phiQ), slow(phiK), ctx.v, ctx.config);");
fs.writeFileSync(f,s);' "$work/slow/src/kernels/favor-pos.ts"
grep -q "b.log(b.exp(x))" "$work/slow/src/kernels/favor-pos.ts" || echo "the slowing patch did not apply"
node "$work/slow/bin/performer.js" bench --preset ci --no-roofline --against "$work/same"; echo "slowed favor-pos against identical: exit $? (want 1)"
fi

if [[ " $parts " == *" 4 "* ]]; then
echo "== 4. an injected 15% slowdown (every process's samples of run1 × 1.15)"
node -e '
const fs=require("fs"); const d=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));
for (const r of d.records) if (r.status==="ok") { r.samplesMs=r.samplesMs.map((x)=>x*1.15); r.processMediansMs=r.processMediansMs.map((x)=>x*1.15); r.medianMs*=1.15; }
fs.writeFileSync(process.argv[2], JSON.stringify(d));' "$work/run1/results.json" "$work/slow15.json"
perf compare "$work/run2/results.json" "$work/slow15.json"; echo "exit $? (want 1)"
fi
git -C "$root" worktree remove --force "$work/same" >/dev/null 2>&1
git -C "$root" worktree remove --force "$work/slow" >/dev/null 2>&1
