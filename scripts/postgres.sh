# shellcheck shell=bash
# Source this file: it starts a throw-away PostgreSQL for the tests and
# exports REFILLBOT_TEST_DATABASE_URL; the server is stopped and its files
# removed when the sourcing shell exits.
#
# PostgreSQL comes from Debian's package (installed when missing; CI runs as
# root). The server refuses to run as root, so the data directory belongs to
# the postgres system user, which runs it. It listens on 127.0.0.1 on a free
# port, with its socket in the data directory, so it never meets a system
# server or another test run.

refillbot_pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

refillbot_pg_start() {
  local bin
  bin=$(refillbot_pg_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "postgres.sh: installing Debian's postgresql package" >&2
    if [ "$(id -u)" -ne 0 ]; then
      echo "postgres.sh: PostgreSQL is not installed and installing it needs root (apt-get install -y postgresql)" >&2
      return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 || return 1
    bin=$(refillbot_pg_bin)
  fi

  local run_as=()
  if [ "$(id -u)" -eq 0 ]; then
    run_as=(runuser -u postgres --)
  fi

  REFILLBOT_PG_DIR=$(mktemp -d /tmp/refillbot-pg.XXXXXX)
  chmod 755 "$REFILLBOT_PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$REFILLBOT_PG_DIR"
  trap refillbot_pg_stop EXIT

  "${run_as[@]}" "$bin/initdb" -D "$REFILLBOT_PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale >"$REFILLBOT_PG_DIR/initdb.log" 2>&1 || {
    cat "$REFILLBOT_PG_DIR/initdb.log" >&2
    return 1
  }

  # A free port: ask the kernel for one, then hand it to the server. Another
  # process could take it in between; the start then fails loudly and the
  # loop tries another.
  local port try
  for try in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
      echo $((20000 + RANDOM % 20000)))
    if "${run_as[@]}" "$bin/pg_ctl" -D "$REFILLBOT_PG_DIR/data" -l "$REFILLBOT_PG_DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $REFILLBOT_PG_DIR -c max_connections=200 -c fsync=on" start >/dev/null; then
      break
    fi
    port=""
  done
  if [ -z "$port" ]; then
    cat "$REFILLBOT_PG_DIR/server.log" >&2
    return 1
  fi
  "${run_as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres refillbot_test || return 1
  export REFILLBOT_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/refillbot_test?sslmode=disable"
  echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port for the tests" >&2
}

refillbot_pg_stop() {
  [ -n "${REFILLBOT_PG_DIR:-}" ] || return 0
  local bin run_as=()
  bin=$(refillbot_pg_bin)
  [ "$(id -u)" -eq 0 ] && run_as=(runuser -u postgres --)
  if [ -f "$REFILLBOT_PG_DIR/data/postmaster.pid" ]; then
    "${run_as[@]}" "$bin/pg_ctl" -D "$REFILLBOT_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$REFILLBOT_PG_DIR"
  REFILLBOT_PG_DIR=""
}

refillbot_pg_start
