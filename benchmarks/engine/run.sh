#!/usr/bin/env bash
# The engine benchmark: ModelOps.Engine (C#) against PyTorch from Debian's python3-torch, which is
# built on the same libtorch, in the same run. Installs what is missing, builds the bench in Release
# and runs it. Options after the script name, e.g. `bash benchmarks/engine/run.sh --quick`; --help lists them.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

# Debian's interpreter on purpose: a pyenv python3 earlier on PATH has no torch.
python=/usr/bin/python3
packages=(python3-torch libopenblas0-pthread dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "[bench] installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get install -y "${missing[@]}" || { $sudo apt-get update && $sudo apt-get install -y "${missing[@]}"; }
fi
"$python" -c 'import torch, numpy' || { echo "[bench] $python cannot import torch and numpy" >&2; exit 1; }

echo "[bench] building (Release)"
dotnet build benchmarks/engine/EngineBench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
exec benchmarks/engine/bin/Release/net9.0/linux-x64/EngineBench --python "$python" "$@"
