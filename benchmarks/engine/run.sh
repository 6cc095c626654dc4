#!/usr/bin/env bash
# The engine benchmark: TorchSharp (the engine's library, on LibTorch 2.10 from the libtorch-cpu-linux-x64
# package) and the engine's own Trainer against PyTorch from Debian's python3-torch (1.13, its own
# libtorch_cpu), in the same run. Installs what is missing, builds the bench in Release and runs it.
# Options after the script name, e.g. `bash benchmarks/engine/run.sh --quick`; --help lists them.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

# Debian's interpreter on purpose: a pyenv python3 earlier on PATH has no torch.
python=/usr/bin/python3
packages=(python3-torch libopenblas0-pthread dataset-fashion-mnist)
for a in "$@"; do
    # --help installs nothing (it still builds, to print the bench's own usage).
    if [ "$a" = "--help" ] || [ "$a" = "-h" ]; then packages=(); fi
done
missing=()
for p in ${packages[@]+"${packages[@]}"}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "[bench] installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y "${missing[@]}" || { $sudo apt-get update && $sudo apt-get install -y "${missing[@]}"; }
fi
if ((${#packages[@]})); then
    "$python" -c 'import torch, numpy' || { echo "[bench] $python cannot import torch and numpy" >&2; exit 1; }
fi

echo "[bench] building (Release)"
dotnet build benchmarks/engine/EngineBench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
exec benchmarks/engine/bin/Release/net10.0/linux-x64/EngineBench --python "$python" "$@"
