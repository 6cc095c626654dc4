#!/usr/bin/env bash
# The job-queue benchmark: builds the portal and the bench in Release, then starts the real portal
# twice (the portal's poll interval, Hangfire's default) and times queued -> worker started.
# Options: --runs 50 --default-runs 8 --poll-ms 100.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
echo "[bench] building (Release)"
dotnet build benchmarks/jobs/JobsBench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
exec benchmarks/jobs/bin/Release/net10.0/linux-x64/JobsBench "$@"
