#!/usr/bin/env bash
# A large gate-tuning sweep as a Slurm job array: 48 settings × 500 replications in the defective
# and the healthy world (48 000 runs of a 20 100-device fleet), split into 16 shards of 3 points,
# then one merge that writes the same tune folder — tune.csv, tune.json, the trade-off plot and
# report.html — as one machine running it all would.
#
#   sbatch docs/slurm-array.sh                                   # the 16 shards
#   sbatch --dependency=afterok:<jobid> --wrap \
#     'fleetsim merge reports/tune-shards/* --out reports/bad-release-tune'   # the merge
#
# Outside Slurm (no SLURM_ARRAY_TASK_ID) the same script runs every point on this machine and
# writes the folder the merge writes: `bash docs/slurm-array.sh`.
#
# Every shard must see the same scenario file and the same --param/--set arguments: the merge
# checks that the shards agree and that none is missing. The environment can shrink the job
# without editing it (CI runs a tiny one, .ci/slurm.sh); the defaults are the production job:
#   FLEETSIM_BIN           the binary                        [fleetsim on PATH]
#   FLEETSIM_REPLICATIONS  replications per point and world  [500]
#   FLEETSIM_SHARDS        N; pass --array=1-N to sbatch too [16]
#   FLEETSIM_OUT           the folder of the shard folders   [reports/tune-shards]
#   FLEETSIM_MERGED_OUT    the folder of a run outside Slurm [reports/bad-release-tune]
# docs/k8s-indexed-job.yaml runs the same command; tests/manifests.rs checks that they agree.
#SBATCH --job-name=fleetsim-tune
#SBATCH --array=1-16
#SBATCH --cpus-per-task=8
#SBATCH --mem=4G
#SBATCH --time=01:00:00
set -euo pipefail
N=${FLEETSIM_SHARDS:-16}
OUT=${FLEETSIM_OUT:-reports/tune-shards}
if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
  K=${SLURM_ARRAY_TASK_ID}
  where=(--shard "${K}/${N}" --out "${OUT}/${K}")
  threads=${SLURM_CPUS_PER_TASK:-1}
else
  where=(--out "${FLEETSIM_MERGED_OUT:-reports/bad-release-tune}")
  threads=$(nproc)
fi
"${FLEETSIM_BIN:-fleetsim}" tune scenarios/bad-release.toml \
  --replications "${FLEETSIM_REPLICATIONS:-500}" \
  --param 'policy.stage[1].gate.check[1].max=0.0025..0.02:0.0025' \
  --param 'policy.stage[1].gate.min_devices=50,100,200' \
  --param 'policy.stage[1].bake=12h,24h' \
  --max-false-halt 0.01 \
  --threads "${threads}" \
  "${where[@]}" \
  --quiet
