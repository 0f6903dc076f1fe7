# Starts a throw-away PostgreSQL on loopback for the side-by-side benchmarks, stopped and
# removed on exit. Sourced by scripts/bench, scripts/segment-bench and scripts/churn-bench.
#   start_pg WORKDIR [extra server options]  → sets PGBIN, PORT and PG_CONNINFO
start_pg() {
  local work=$1
  shift
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  PORT=$((40000 + RANDOM % 20000))
  chmod 755 "$work"
  chown postgres "$work"
  trap "runuser -u postgres -- '$PGBIN/pg_ctl' -D '$work/pg' -m immediate stop >/dev/null 2>&1 || true; rm -rf '$work'" EXIT
  runuser -u postgres -- "$PGBIN/initdb" -D "$work/pg" -A trust -U postgres >/dev/null
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
    -o "-p $PORT -k $work -c listen_addresses=127.0.0.1 $*" start >/dev/null
  PG_CONNINFO="host=127.0.0.1 port=$PORT user=postgres dbname=postgres"
}
