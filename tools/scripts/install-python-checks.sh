#!/usr/bin/env bash
# Python packages for artifact checks only (never the product's runtime): the PyPI `safetensors`
# package loads what Aisle exports. Without network access the interop tests skip (exit 77) and
# say so; nothing else depends on this.
set -uo pipefail

if ! command -v python3 > /dev/null; then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends python3 python3-pip ||
    { echo "install-python-checks: could not install python3; interop tests will skip"; exit 0; }
fi
if python3 -c "import safetensors, numpy" 2> /dev/null; then exit 0; fi
python3 -m pip --version > /dev/null 2>&1 || {
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends python3-pip || true
}
# Debian's system Python refuses plain pip installs (PEP 668); a user install with the override is
# the least invasive choice on a CI machine.
python3 -m pip install --quiet --user safetensors numpy 2> /dev/null ||
  python3 -m pip install --quiet --user --break-system-packages safetensors numpy ||
  python3 -m pip install --quiet safetensors numpy ||
  echo "install-python-checks: pip install safetensors numpy failed; the safetensors interop tests will skip"
exit 0
