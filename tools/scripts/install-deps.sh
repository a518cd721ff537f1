#!/usr/bin/env bash
# Installs Aisle's build and test dependencies from Debian packages (skips what is present).
# The CUDA toolkit is not a Debian package here: when /usr/local/cuda/bin/nvcc exists the CUDA
# backend is built (AISLE_CUDA=AUTO); without it Aisle builds CPU-only.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libeigen3-dev libyaml-cpp-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenmpi-dev openmpi-bin
  libssl-dev                      # SHA-256 checksums of dataset files (libcrypto)
  liblzma-dev zlib1g-dev          # importers read .xz and .gz inputs directly
  clang libclang-rt-14-dev        # libFuzzer for the delimited-file parser fuzzer
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi

if [[ -x /usr/local/cuda/bin/nvcc ]]; then
  echo "install-deps: CUDA toolkit: $(/usr/local/cuda/bin/nvcc --version | tail -n 2 | head -n 1)"
else
  echo "install-deps: no CUDA toolkit at /usr/local/cuda: building the CPU backend only"
fi
