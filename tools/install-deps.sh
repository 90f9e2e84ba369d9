#!/usr/bin/env bash
# Installs the Debian 12 packages roisim needs to build and test (packages only, no downloads).
# Usage: tools/install-deps.sh [--mpi] [--fuzz]   (run as root, or with sudo available)
set -euo pipefail
pkgs=(build-essential cmake pkg-config git
      libtbb-dev libeigen3-dev libboost-dev librandom123-dev libhdf5-dev libdeflate-dev zlib1g-dev
      libyaml-cpp-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
      python3 python3-numpy python3-scipy python3-yaml python3-h5py python3-xarray python3-h5netcdf
      python3-matplotlib chromium time)
for arg in "$@"; do
  case "$arg" in
    --mpi) pkgs+=(libopenmpi-dev openmpi-bin libhdf5-openmpi-dev) ;;
    --fuzz) pkgs+=(clang libclang-rt-14-dev) ;;  # libFuzzer + sanitizer runtimes (tools/fuzz.sh)
    *) echo "install-deps: unknown option '$arg' (expected --mpi, --fuzz)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
