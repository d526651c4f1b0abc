#!/usr/bin/env bash
# Runs every fuzz target of the module for DURATION each and prints the
# executions each made. Usage:
#
#   scripts/fuzz.sh DURATION [CONCURRENT]     e.g. scripts/fuzz.sh 5s; scripts/fuzz.sh 10m 2
#
# DURATION is go test's -fuzztime (a duration, or "Nx" executions).
# CONCURRENT targets run at once (default 1); FUZZ_WORKERS sets each one's
# -parallel (default 1, so CONCURRENT is the number of cores used).
# FUZZ_MATCH, a regular expression, limits the run to the targets it matches.
# A failing input is written to the package's testdata/fuzz/<target>/ by go
# test, where it stays as a regression seed; the script then exits 1.
set -uo pipefail
cd "$(dirname "$0")/.."

dur=${1:?usage: scripts/fuzz.sh DURATION [CONCURRENT]}
conc=${2:-1}
workers=${FUZZ_WORKERS:-1}
match=${FUZZ_MATCH:-.}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# Targets are found in the sources: "pkgdir Target" per line.
targets=$(grep -rl --include='*_test.go' '^func Fuzz' . |
	while read -r f; do
		for t in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
			echo "$(dirname "$f") $t"
		done
	done | sort | grep -E -- "$match")

run() { # pkgdir target
	local log="$logs/$(echo "$1" | tr / _)-$2"
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$dur" -parallel "$workers" "$1" >"$log" 2>&1
	echo $? >"$log.rc"
}

while read -r pkg t; do
	while [ "$(jobs -rp | wc -l)" -ge "$conc" ]; do wait -n; done
	run "$pkg" "$t" &
done <<<"$targets"
wait

failed=0 total=0
printf '%-22s %-24s %14s  %s\n' package target executions result
while read -r pkg t; do
	log="$logs/$(echo "$pkg" | tr / _)-$t"
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	if [ "$(cat "$log.rc")" = 0 ]; then res=ok; else res=FAIL; failed=$((failed + 1)); fi
	printf '%-22s %-24s %14s  %s\n' "${pkg#./}" "$t" "${execs:-?}" "$res"
	total=$((total + ${execs:-0}))
	if [ "$res" = FAIL ]; then sed 's/^/    /' "$log" | grep -v '^    fuzz: elapsed' | tail -60; fi
done <<<"$targets"
echo "total executions: $total; failed targets: $failed"
[ "$failed" = 0 ]
