#!/usr/bin/env bash
# A large fleetsim run as a Slurm job array: 20 shards of 10 000 replications, then one merge.
#
#   sbatch docs/slurm-array.sh                      # the shards
#   sbatch --dependency=afterok:<jobid> --wrap \
#     'fleetsim merge reports/shards/* --out reports/bad-release'   # the merge
#
#SBATCH --job-name=fleetsim
#SBATCH --array=1-20
#SBATCH --cpus-per-task=8
#SBATCH --mem=4G
#SBATCH --time=00:30:00
set -euo pipefail
N=20
K=${SLURM_ARRAY_TASK_ID}
fleetsim run scenarios/bad-release.toml \
  --replications 10000 \
  --threads "${SLURM_CPUS_PER_TASK}" \
  --shard "${K}/${N}" \
  --out "reports/shards/${K}" \
  --quiet
