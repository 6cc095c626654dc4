#!/usr/bin/env bash
# Installs what the portal and its tests need on Debian 12, idempotently, saying what it does.
# Used by ./run.sh and ./test.sh; safe to run by hand. Needs root or sudo for apt.
set -euo pipefail

for_tests=${MODELOPS_FOR_TESTS:-0}

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# LibTorch itself comes from NuGet with TorchSharp (libtorch-cpu-linux-x64): no C++ toolchain and
# no Debian libtorch. build/TorchSharp.Debian12.targets makes its shim load on Debian 12's libstdc++.
packages=(
  dataset-fashion-mnist   # the demo image dataset
  libicu72                # .NET's globalization: numbers, dates and durations in en and zh-CN
  fonts-dejavu-core       # the TTF fonts the review PDF export embeds (docs/review.md)
)
if [[ "$for_tests" == 1 ]]; then
  packages+=(chromium)       # browser tests drive Debian's Chromium through Playwright
  # A CJK font, as any desktop that reads Chinese has: the portal serves no web fonts, so the
  # zh-CN screenshots and browser tests rely on the browser's own fonts, like a user's would.
  packages+=(fonts-wqy-microhei)
  packages+=(python3-torch)  # the engine tests load the PyTorch state-dict export in real PyTorch
  packages+=(postgresql)     # the PostgreSQL job-store test starts a server of its own (initdb, pg_ctl)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if (( ${#missing[@]} )); then
  say "installing Debian packages: ${missing[*]}"
  as_root=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    # -n: fail rather than wait for a password nobody can type (CI has no terminal).
    as_root=(sudo -n)
  fi
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  say "Debian packages present: ${packages[*]}"
fi

command -v dotnet >/dev/null || { echo "the .NET SDK (dotnet) is required" >&2; exit 1; }
say "dotnet $(dotnet --version)"
