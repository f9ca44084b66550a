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
# Every shard must see the same scenario file and the same --param/--set arguments: the merge
# checks that the shards agree and that none is missing.
#SBATCH --job-name=fleetsim-tune
#SBATCH --array=1-16
#SBATCH --cpus-per-task=8
#SBATCH --mem=4G
#SBATCH --time=01:00:00
set -euo pipefail
N=16
K=${SLURM_ARRAY_TASK_ID}
fleetsim tune scenarios/bad-release.toml \
  --replications 500 \
  --param 'policy.stage[1].gate.check[1].max=0.0025..0.02:0.0025' \
  --param 'policy.stage[1].gate.min_devices=50,100,200' \
  --param 'policy.stage[1].bake=12h,24h' \
  --max-false-halt 0.01 \
  --threads "${SLURM_CPUS_PER_TASK}" \
  --shard "${K}/${N}" \
  --out "reports/tune-shards/${K}" \
  --quiet
