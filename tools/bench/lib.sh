# Shared pieces of the benchmark scripts (sourced, not run): the anchors every figure is a
# ratio against — PostgreSQL 15 (an events table with a unique (stream, version) key,
# fsync=on, synchronous_commit=on) and nginx serving a static file (timed with wrk) — plus
# ports, medians and ratios. Everything listens on 127.0.0.1 or a Unix socket only.
# Callers set `work` (a scratch directory they remove) before using the anchors.

bench_log() { echo "$@" >&2; }
bench_die() { bench_log "$(basename "$0"): $*"; exit 1; }

# A free TCP port on 127.0.0.1 below the ephemeral range used by client sockets.
bench_free_port() {
  local p
  for _ in $(seq 50); do
    p=$((10000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  bench_die "no free port"
}

bench_median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  if (NR == 0) { print 0; exit }
  if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "null" }'; }
bench_meets() { awk -v r="$1" -v t="$2" 'BEGIN { print (r != "null" && r >= t) ? "yes" : "NO" }'; }

# --- PostgreSQL ---------------------------------------------------------------------------------
pg_bin=""
pg_data=""
pg_sock=""
pg_port=""

bench_pg_find() {
  local d
  for d in /usr/lib/postgresql/15/bin "$(dirname "$(command -v pg_ctl 2>/dev/null || echo /x/x)")"; do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/pgbench" ]]; then pg_bin="$d"; return 0; fi
  done
  return 1
}

bench_as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Starts a private PostgreSQL in $work/pg (Unix socket only) with durable commits and creates
# the events table. Arguments: max_connections.
bench_pg_start() {
  local pg_dir="$work/pg"
  mkdir -p "$pg_dir"
  pg_data="$pg_dir/data"
  pg_sock="$pg_dir/sock"
  pg_port=$((20000 + RANDOM % 20000))
  mkdir -p "$pg_sock"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres: "$pg_dir"
    chmod o+x "$work"
  fi
  bench_as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 --no-sync \
    >"$pg_dir/initdb.log" 2>&1 || bench_die "initdb failed: $(tail -5 "$pg_dir/initdb.log")"
  bench_as_pg timeout 60 "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_dir/server.log" -w -t 30 \
    -o "-c listen_addresses='' -k $pg_sock -p $pg_port -c fsync=on -c synchronous_commit=on \
        -c max_connections=$1 -c shared_buffers=256MB" start >/dev/null ||
    bench_die "PostgreSQL did not start: $(tail -5 "$pg_dir/server.log")"
  bench_pg_sql "create table events(position bigserial primary key, stream text not null,
      version bigint not null, type text not null, data jsonb not null, unique(stream, version));"
}

bench_pg_sql() {  # sql
  bench_as_pg "$pg_bin/psql" -q -h "$pg_sock" -p "$pg_port" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -c "$1" >/dev/null
}

# Runs a pgbench script file; prints transactions/s. Arguments: file clients seconds.
bench_pg_run() {
  chmod a+r "$1"
  bench_as_pg timeout $(($3 + 120)) "$pg_bin/pgbench" -n -c "$2" -j 2 -T "$3" -f "$1" \
    -h "$pg_sock" -p "$pg_port" -U postgres postgres 2>&1 | awk '/^tps = / { print $3; exit }'
}

bench_pg_stop() {
  if [[ -n "$pg_data" && -f "$pg_data/postmaster.pid" ]]; then
    bench_as_pg timeout 60 "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 ||
      bench_as_pg timeout 30 "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
}

# --- nginx + wrk --------------------------------------------------------------------------------
nginx_pid=""
nginx_port=""

# Serves $work/www on 127.0.0.1:$nginx_port with the given worker count; retries on a port
# race. Arguments: workers file-to-probe.
bench_nginx_start() {
  local attempt
  mkdir -p "$work/nginx"
  for attempt in 1 2 3 4 5; do
    nginx_port=$(bench_free_port)
    cat >"$work/nginx/nginx.conf" <<CONF
user root;
worker_processes $1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  default_type application/json;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    etag on;
  }
}
CONF
    nginx -c "$work/nginx/nginx.conf" 2>>"$work/nginx/start.log" &
    nginx_pid=$!
    for _ in $(seq 50); do
      curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/$2" && return 0
      kill -0 "$nginx_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=""
  done
  bench_die "nginx did not start: $(cat "$work/nginx/start.log")"
}

bench_nginx_stop() {
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  nginx_pid=""
}

# wrk against a URL → "rps p50_ms p99_ms". Arguments: url threads connections seconds.
bench_wrk() {
  # WRK_HEADER: one extra request header, e.g. "Authorization: Bearer …" (nginx ignores it).
  wrk -t"$2" -c"$3" -d"$4s" --latency ${WRK_HEADER:+-H "$WRK_HEADER"} "$1" | awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v + 0
    }
    /Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { if (bad > 0) { print "non-2xx responses: " bad > "/dev/stderr" } printf "%s %s %s\n", rps, p50, p99 }'
}

# --- CPU per operation ----------------------------------------------------------------------------
# What a figure cost in CPU time (user + system), so a ratio can be read against what the two
# cores can give: a server's processes from /proc, a client's from this shell's reaped children.

# Clock ticks (user + system) spent so far by a process and every live process below it,
# including the children they have already reaped (a PostgreSQL backend that has exited).
bench_tree_ticks() {  # pid
  local f line rest pid ppid
  local -A children ticks
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue  # (gone meanwhile)
    pid="${line%% *}"
    rest="${line##*) }"  # the fields after the command name, from the state on
    read -r _ ppid _ _ _ _ _ _ _ _ _ ut st cut cst _ <<<"$rest"
    children[$ppid]+=" $pid"
    ticks[$pid]=$((ut + st + cut + cst))
  done
  local total=0 queue=("$1") p
  while [[ ${#queue[@]} -gt 0 ]]; do
    p="${queue[0]}"
    queue=("${queue[@]:1}" ${children[$p]:-})
    total=$((total + ${ticks[$p]:-0}))
  done
  echo "$total"
}

# Sets the named variable to the CPU seconds of this shell's children reaped so far (the
# `times` builtin; it has to run in this shell, not in a $(...) subshell).
bench_children_cpu() {  # variable
  times >"$work/.times"
  printf -v "$1" '%s' "$(awk 'function s(v, m) { m = v; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", v)
    sub(/s$/, "", v); return m * 60 + v } NR == 2 { print s($1) + s($2) }' "$work/.times")"
}

# Runs a client command in this shell and sets: bench_out to its output, bench_client_s to the
# CPU seconds it took and bench_server_s to those of the server's processes (pid; 0: none),
# counted until a second after the client ends, so that work the round queued is in.
bench_measured() {  # server_pid command...
  local server="$1" s0=0 s1=0 c0 c1
  shift
  [[ "$server" -gt 0 ]] && s0="$(bench_tree_ticks "$server")"
  bench_children_cpu c0
  bench_out="$("$@")" || return 1
  sleep 1
  bench_children_cpu c1
  [[ "$server" -gt 0 ]] && s1="$(bench_tree_ticks "$server")"
  bench_client_s="$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')"
  bench_server_s="$(awk -v t=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }')"
}

# a x b, rounded to a whole number (a rate times seconds, a target's multiple of a rate).
bench_product() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a * b }'; }

# Microseconds of CPU per operation. Arguments: seconds operations.
bench_cpu_us() {
  awk -v v="$1" -v n="$2" 'BEGIN { if (n <= 0) print "null"; else printf "%.1f", v * 1e6 / n }'
}

# The CPU budget per operation a target rate leaves on this machine's cores (microseconds).
bench_budget_us() {  # rate
  awk -v r="$1" -v c="$(nproc)" 'BEGIN { if (r <= 0) print "null"; else printf "%.1f", c * 1e6 / r }'
}
