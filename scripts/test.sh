#!/usr/bin/env bash
# The tests, as the README names them: starts a throw-away PostgreSQL for the
# PostgreSQL store's tests (see postgres.sh), runs go test with the given
# arguments (default ./...), and stops the server at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/postgres.sh
. scripts/postgres.sh
if [ "$#" -eq 0 ]; then
  set -- ./...
fi
go test "$@"
