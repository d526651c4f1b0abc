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
# FUZZ_MINIMIZE is -fuzzminimizetime (default 2000x). Go's default, 60s,
# lets one new input stop its worker for up to a minute while it is made
# smaller (counted as no executions at all): with it FuzzCommandText made
# 115 executions a second, with 2000x about 8,000. A failing input is
# still written, only less shrunk.
# A failing input is written to the package's testdata/fuzz/<target>/ by go
# test, where it stays as a regression seed; the script then exits 1.
#
# Go 1.26's fuzzing coordinator can fail a target with a bare "context
# deadline exceeded" when a duration -fuzztime ends while a worker is busy
# (go.dev/issue/75804, fixed in Go 1.27); under load it is common. Such a
# run, which wrote no failing input, is reported "ok (deadline race)", not
# as a failure. A count ("10000000x") has no deadline and cannot hit it.
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

seeds() { ls "$1/testdata/fuzz/$2" 2>/dev/null | wc -l; }

run() { # pkgdir target
	local log="$logs/$(echo "$1" | tr / _)-$2"
	seeds "$1" "$2" >"$log.seeds"
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$dur" -fuzzminimizetime "${FUZZ_MINIMIZE:-2000x}" -parallel "$workers" "$1" >"$log" 2>&1
	echo $? >"$log.rc"
}

# seconds ELAPSED: Go's "1h2m3s", "4m5s" or "6s" as whole seconds.
seconds() { awk -v d="$1" 'BEGIN { n = 0; while (match(d, /^[0-9]+[hms]/)) { v = substr(d, 1, RLENGTH - 1); u = substr(d, RLENGTH, 1); n += v * (u == "h" ? 3600 : u == "m" ? 60 : 1); d = substr(d, RLENGTH + 1) } print n }'; }

while read -r pkg t; do
	while [ "$(jobs -rp | wc -l)" -ge "$conc" ]; do wait -n; done
	run "$pkg" "$t" &
done <<<"$targets"
wait

failed=0 total=0
printf '%-26s %-24s %14s %9s %8s  %s\n' package target executions seconds execs/s result
while read -r pkg t; do
	log="$logs/$(echo "$pkg" | tr / _)-$t"
	last=$(grep -o 'elapsed: [0-9hms]*, execs: [0-9]*' "$log" | tail -1)
	execs=$(echo "$last" | sed -n 's/.*execs: //p')
	secs=$(seconds "$(echo "$last" | sed -n 's/elapsed: \([0-9hms]*\),.*/\1/p')")
	rate=?
	if [ -n "$execs" ] && [ "${secs:-0}" -gt 0 ]; then rate=$((execs / secs)); fi
	if [ "$(cat "$log.rc")" = 0 ]; then
		res=ok
	elif grep -q '^    context deadline exceeded$' "$log" &&
		! grep -q -e '^    --- FAIL' -e 'Failing input written' -e 'panic:' "$log" &&
		[ "$(seeds "$pkg" "$t")" = "$(cat "$log.seeds")" ]; then
		res="ok (deadline race)"
	else
		res=FAIL
		failed=$((failed + 1))
	fi
	printf '%-26s %-24s %14s %9s %8s  %s\n' "${pkg#./}" "$t" "${execs:-?}" "${secs:-?}" "$rate" "$res"
	total=$((total + ${execs:-0}))
	if [ "$res" = FAIL ]; then sed 's/^/    /' "$log" | grep -v '^    fuzz: elapsed' | tail -60; fi
done <<<"$targets"
echo "total executions: $total; failed targets: $failed"
[ "$failed" = 0 ]
