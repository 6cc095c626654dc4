#!/usr/bin/env bash
# Builds and starts ModelOps Portal at http://127.0.0.1:5000 on the embedded default
# (SQLite and files under ./data), seeding a demo on first start. Ctrl+C stops it.
set -euo pipefail
cd "$(dirname "$0")"

bash scripts/setup.sh
echo "[run] building the portal (Release)"
dotnet build src/Portal/ModelOps.Portal.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
echo "[run] starting on http://127.0.0.1:5000 (data folder: ./data)"
exec ./src/Portal/bin/Release/net10.0/linux-x64/ModelOps.Portal "$@"
