#!/usr/bin/env bash
# The tracking benchmark: builds the portal and the bench in Release, then starts the real portal
# on a free loopback port with its own temporary data folder and drives it. Options after the
# script name, e.g. `bash benchmarks/tracking/run.sh --runs 1000`; --help lists them.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
echo "[bench] building (Release)"
dotnet build benchmarks/tracking/TrackingBench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
exec benchmarks/tracking/bin/Release/net10.0/linux-x64/TrackingBench "$@"
