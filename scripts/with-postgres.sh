#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster (temp dir, local port),
# with DATABASE_URL pointing at it; the cluster is removed afterwards.
set -euo pipefail

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ]; then
  echo "with-postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi
port=${BEFFROI_PG_PORT:-54329}
dir=$(mktemp -d /tmp/beffroi-pg.XXXXXX)
as_owner=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root: the cluster belongs to the postgres user.
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi
cleanup() {
  "${as_owner[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

# The C locale by default, as CI; BEFFROI_PG_LOCALE=C.UTF-8 (or en_US.UTF-8) runs the same
# tests against a cluster whose upper()/lower() know accented letters, as most servers'.
locale_opt=(--no-locale)
if [ -n "${BEFFROI_PG_LOCALE:-}" ]; then
  locale_opt=(--locale="$BEFFROI_PG_LOCALE")
fi
"${as_owner[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -U beffroi -E UTF8 "${locale_opt[@]}" >/dev/null
"${as_owner[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
  "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null

export DATABASE_URL="postgres://beffroi@127.0.0.1:$port/beffroi"
echo "with-postgres: PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, locale ${BEFFROI_PG_LOCALE:-C}"
"$@"
