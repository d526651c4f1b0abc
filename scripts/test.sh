#!/usr/bin/env bash
# The tests, as the README names them: starts a throw-away PostgreSQL for the
# PostgreSQL store's tests (scripts/postgres.sh), runs go test with the given
# arguments (default ./...), and stops the server at the end.
#
# Where PostgreSQL cannot be installed or started, the tests still run and
# the PostgreSQL ones skip, saying so — except in CI (CI=true), where that is
# a failure: the PostgreSQL store must never go untested unnoticed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/postgres.sh
if ! . scripts/postgres.sh; then
  if [ "${CI:-}" = true ]; then
    echo "test.sh: could not start PostgreSQL, which CI needs for the PostgreSQL store's tests" >&2
    exit 1
  fi
  echo "test.sh: no PostgreSQL here: its tests will be skipped" >&2
fi
if [ "$#" -eq 0 ]; then
  set -- ./...
fi
go test "$@"
