#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs every test project in turn
# (one at a time: they start real portals, workers and a browser on a 2-core machine).
set -uo pipefail
cd "$(dirname "$0")"

MODELOPS_FOR_TESTS=1 bash scripts/setup.sh || exit 1
echo "[test] building the solution (Release)"
dotnet build ModelOpsPortal.sln -c Release -nologo -v quiet -clp:ErrorsOnly || exit 1

projects=(tests/Engine.Tests tests/Portal.Tests tests/Ui.Tests tests/Jobs.Tests tests/Api.Tests tests/Browser.Tests)
passed=0; failed=0; status=0
log=$(mktemp)
for project in "${projects[@]}"; do
  echo "[test] $project"
  if ! dotnet test "$project" -c Release --no-build -nologo 2>&1 | tee "$log"; then
    status=1
  fi
  # "Passed!  - Failed:     0, Passed:    32, Skipped:     0, Total:    32, ..."
  summary=$(grep -E "^(Passed|Failed)! +- Failed: " "$log" | tail -1 || true)
  if [[ -z "$summary" ]]; then
    echo "[test] $project printed no result line" >&2
    status=1
    continue
  fi
  p=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")
  f=$(sed -E 's/.*Failed: +([0-9]+), Passed.*/\1/' <<<"$summary")
  passed=$((passed + p)); failed=$((failed + f))
done
rm -f "$log"
echo "Tests: $passed passed, $failed failed"
if (( failed > 0 )); then status=1; fi
exit $status
