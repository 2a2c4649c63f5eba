#!/usr/bin/env bash
# The whole suite in stages, then one summary of every stage.
#
#   SQLite                  everything but the browser and schemathesis runs
#   browser                 Playwright driving Debian's Chromium (SQLite)
#   schemathesis (SQLite)   generated requests against the OpenAPI document
#   PostgreSQL              the suite on a throw-away server, but the slow and
#                           browser tests, which exercise no SQL of their own
#   schemathesis (PostgreSQL)
#
# Every stage runs even when an earlier one failed, so the summary is whole;
# the script exits non-zero when any stage failed or collected no test.
#   scripts/run-tests.sh [sqlite|browser|schemathesis|postgres ...]
set -uo pipefail
cd "$(dirname "$0")/.."

PYTEST=${PYTEST:-.venv/bin/pytest}
PYTHON=${PYTHON:-.venv/bin/python}
OUT=test-output
STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] && STAGES=(sqlite browser schemathesis postgres)

rm -rf "$OUT/junit" "$OUT"/schemathesis-*.json
mkdir -p "$OUT/junit"
failed=0

# run_stage NAME [with-postgres] -- pytest arguments...
run_stage() {
  local name=$1; shift
  local prefix=()
  if [ "$1" = "with-postgres" ]; then
    prefix=(scripts/with-postgres.sh --); shift
  fi
  [ "$1" = "--" ] && shift
  echo
  echo "=== $name ==="
  "${prefix[@]}" "$PYTEST" -q --junitxml="$OUT/junit/$name.xml" "$@"
  local status=$?
  case $status in
    0) ;;
    5) echo "!!! $name: no test was collected; that is a failure here" >&2
       failed=1 ;;
    *) echo "!!! $name: pytest exited with $status" >&2
       failed=1 ;;
  esac
}

started=$(date +%s)
for stage in "${STAGES[@]}"; do
  case $stage in
    sqlite)
      run_stage sqlite -- -m "not browser and not schemathesis" ;;
    browser)
      run_stage browser -- -m browser ;;
    schemathesis)
      run_stage schemathesis-sqlite -- -m schemathesis ;;
    postgres)
      # Each stage on a server of its own, so each starts from an empty one.
      run_stage postgresql with-postgres -- \
        -m "not browser and not slow and not schemathesis"
      run_stage schemathesis-postgresql with-postgres -- -m schemathesis ;;
    *)
      echo "unknown stage $stage" >&2; exit 2 ;;
  esac
done

"$PYTHON" -m scripts.test_summary "$OUT" "$(( $(date +%s) - started ))" || failed=1
exit $failed
