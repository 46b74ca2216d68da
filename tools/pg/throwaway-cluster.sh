#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, in a temporary folder, run by an unprivileged user.
#
#   eval "$(bash tools/pg/throwaway-cluster.sh start)"   # prints the exports below, or exits non-zero
#   bash tools/pg/throwaway-cluster.sh stop "$RECSYS_PG_DIR"
#
# start: installs Debian's postgresql with apt-get when no initdb is found, runs initdb (trust
# authentication, loopback only, a free port, its socket in the folder) and pg_ctl start as the
# `postgres` user when run as root (initdb refuses root) or as the caller otherwise, then prints
#   export RECSYS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres
#   export RECSYS_PG_DIR=/tmp/recsys-pg.XXXXXX
# Everything it prints but those lines goes to stderr. stop: pg_ctl stop -m fast, then removes the folder.
set -euo pipefail

bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  if command -v initdb >/dev/null; then dirname "$(command -v initdb)"; return; fi
  return 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    if ! bin=$(bindir); then
      echo "throwaway-cluster: no initdb found; installing Debian's postgresql" >&2
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2 || { echo "throwaway-cluster: apt-get install postgresql failed" >&2; exit 1; }
      bin=$(bindir) || { echo "throwaway-cluster: postgresql installed but no initdb found" >&2; exit 1; }
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin postgres >&2
    fi
    dir=$(mktemp -d /tmp/recsys-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; echo "throwaway-cluster: initdb failed" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >&2 \
      || { cat "$dir/server.log" >&2; echo "throwaway-cluster: pg_ctl start failed" >&2; exit 1; }
    echo "export RECSYS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
    echo "export RECSYS_PG_DIR=$dir"
    ;;
  stop)
    dir="${2:-${RECSYS_PG_DIR:-}}"
    [ -n "$dir" ] && [ -d "$dir/data" ] || { echo "throwaway-cluster: no cluster folder given" >&2; exit 1; }
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: throwaway-cluster.sh start | stop DIR" >&2
    exit 2
    ;;
esac
