#!/bin/bash
# Example Slurm batch script for a distributed roisim run (README "Running on a cluster (MPI)"). Submit with
#   sbatch tools/slurm_example.sh sweep.yaml /shared/results/sweep.h5
# Assumes roisim was built with -DROISIM_WITH_MPI=ON against the cluster's OpenMPI and parallel
# HDF5 (Debian: tools/install-deps.sh --mpi), and that the output folder is on a file system every
# node sees (Lustre, GPFS, BeeGFS; NFS works for small runs only).
#
# Layout: 4 nodes x 2 ranks per node (one per socket) x 8 TBB threads per rank = 64 cores.
# Change --nodes, --ntasks-per-node and --cpus-per-task together; roisim's --threads follows
# --cpus-per-task below.
#SBATCH --job-name=roisim
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=8
#SBATCH --mem=0                  # all of each node's memory: every rank samples the whole trial set
#SBATCH --time=04:00:00
#SBATCH --output=roisim-%j.log
set -euo pipefail

scenario=${1:?usage: sbatch tools/slurm_example.sh SCENARIO.yaml OUTPUT.h5 [roisim run options...]}
output=${2:?usage: sbatch tools/slurm_example.sh SCENARIO.yaml OUTPUT.h5 [roisim run options...]}
shift 2
roisim=${ROISIM:-roisim}  # e.g. ROISIM=$HOME/roisim/build-mpi/roisim
threads=${SLURM_CPUS_PER_TASK:-1}

# Each rank gets its own cores (PE = cores per rank) and runs that many TBB threads; oneTBB reads
# the rank's CPU mask, so a rank bound to one core would run one thread only.
# With srun instead (Debian's OpenMPI supports PMIx):
#   srun --mpi=pmix --cpus-per-task="$threads" --cpu-bind=cores "$roisim" run ...
mpirun --map-by "ppr:${SLURM_NTASKS_PER_NODE:-1}:node:PE=${threads}" --bind-to core \
  "$roisim" run "$scenario" -o "$output" --threads "$threads" "$@"
