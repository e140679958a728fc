#!/usr/bin/env bash
# The write path's serialisation points in isolation (issue #18), before and after, with
# pgbench on one PostgreSQL database: each script is one transaction shaped like an
# intake (ten single-row INSERTs) plus the point under test, 16 clients, fsync on.
#
#   examples/serialisation_points.sh [postgres://user:pass@host/db] [seconds]
#
# It creates and drops its own database (motcua_points_<pid>) on that server.
set -euo pipefail
admin=${1:-${MOTCUA_TEST_PG_URL:-postgres://motcua:motcua@127.0.0.1:5432/motcua}}
secs=${2:-10}
clients=16
db="motcua_points_$$"
base=${admin%/*}
url="$base/$db"
psql "$admin" -qAtc "CREATE DATABASE $db"
trap 'psql "$admin" -qAtc "DROP DATABASE IF EXISTS $db" >/dev/null' EXIT
psql "$url" -q <<'SQL'
CREATE TABLE filler (id BIGSERIAL PRIMARY KEY, k INT NOT NULL, v TEXT NOT NULL);
-- the old audit head (one row) and the new per-entity heads
CREATE TABLE audit_head (id INT PRIMARY KEY, last_id BIGINT NOT NULL, last_hash TEXT NOT NULL);
INSERT INTO audit_head VALUES (1, 0, repeat('0', 64));
CREATE TABLE audit_streams (stream TEXT PRIMARY KEY, last_seq BIGINT NOT NULL, last_hash TEXT NOT NULL);
CREATE TABLE audit_log (id BIGSERIAL PRIMARY KEY, stream TEXT NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL);
-- the rollup cell (one row per agency, procedure, day) and its deltas
CREATE TABLE stats_daily (agency INT, proc INT, day DATE, received BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (agency, proc, day));
CREATE TABLE stats_delta (id BIGSERIAL PRIMARY KEY, agency INT, proc INT, day DATE, received BIGINT NOT NULL DEFAULT 0);
-- the agency-day code counter
CREATE TABLE code_seq (agency INT PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO code_seq SELECT g, 0 FROM generate_series(1, 26) g;
SQL
dir=$(mktemp -d)
filler='INSERT INTO filler (k, v) VALUES (:client_id, repeat('"'"'x'"'"', 200));'
ten() { for _ in $(seq 1 "$1"); do echo "$filler"; done; }
{ echo 'BEGIN;'; ten 10; echo 'COMMIT;'; } > "$dir/ceiling.sql"
{ echo 'BEGIN;'; ten 8
  echo 'SELECT last_id FROM audit_head WHERE id = 1 FOR UPDATE;'
  echo "INSERT INTO audit_log (stream, seq, hash) VALUES ('', 0, repeat('a', 64));"
  echo "UPDATE audit_head SET last_id = last_id + 1, last_hash = repeat('b', 64) WHERE id = 1;"
  echo 'COMMIT;'; } > "$dir/audit_one_head.sql"
{ echo '\set e random(1, 100000000)'; echo 'BEGIN;'; ten 8
  echo "INSERT INTO audit_streams VALUES ('dossier:' || :e, 0, repeat('0', 64)) ON CONFLICT (stream) DO UPDATE SET last_seq = audit_streams.last_seq RETURNING last_seq, last_hash;"
  echo "INSERT INTO audit_log (stream, seq, hash) VALUES ('dossier:' || :e, 1, repeat('a', 64));"
  echo "UPDATE audit_streams SET last_seq = last_seq + 1, last_hash = repeat('b', 64) WHERE stream = 'dossier:' || :e;"
  echo 'COMMIT;'; } > "$dir/audit_streams.sql"
{ echo 'BEGIN;'; ten 9
  echo "INSERT INTO stats_daily VALUES (1, 1, current_date, 1) ON CONFLICT (agency, proc, day) DO UPDATE SET received = stats_daily.received + excluded.received;"
  echo 'COMMIT;'; } > "$dir/rollup_one_cell.sql"
{ echo 'BEGIN;'; ten 9
  echo "INSERT INTO stats_delta (agency, proc, day, received) VALUES (1, 1, current_date, 1);"
  echo 'COMMIT;'; } > "$dir/rollup_deltas.sql"
{ echo 'BEGIN;'; echo 'UPDATE code_seq SET n = n + 1 WHERE agency = 1 RETURNING n;'; ten 9; echo 'COMMIT;'; } > "$dir/code_one_agency.sql"
{ echo '\set a random(1, 26)'; echo 'BEGIN;'; echo 'UPDATE code_seq SET n = n + 1 WHERE agency = :a RETURNING n;'; ten 9; echo 'COMMIT;'; } > "$dir/code_26_agencies.sql"
echo "pgbench, $clients clients, $secs s each, $(psql "$url" -Atc "SELECT 'PostgreSQL ' || current_setting('server_version') || ', fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit')"); $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "| point | before (shared row) | after | ceiling (10 INSERTs) |"
echo "|---|---|---|---|"
tps() { pgbench -n -c "$clients" -j 2 -T "$secs" -f "$dir/$1.sql" "$url" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1 | xargs printf '%.0f'; }
c=$(tps ceiling)
echo "| audit chain head | $(tps audit_one_head) tps (one head row) | $(tps audit_streams) tps (a head per entity) | $c tps |"
echo "| rollup cell | $(tps rollup_one_cell) tps (one agency, procedure and day) | $(tps rollup_deltas) tps (appended deltas) | $c tps |"
echo "| code sequence (stays) | $(tps code_one_agency) tps (one agency) | $(tps code_26_agencies) tps (26 agencies) | $c tps |"
rm -rf "$dir"
