#!/usr/bin/env bash
# The side-by-side benchmark of BENCHMARKS.md: this SDK, the official TypeScript client and
# python-wechaty, each doing the same tasks against the official TypeScript puppet service
# (tests/interop/server.mjs with WORLD=bench), one process per task and run so each starts cold.
#
#   bench/benches/side-by-side/run.sh            # RUNS=3 EVENTS=5000 by default
#
# Needs Node.js 20, Python 3.10 (python-wechaty 0.10 predates 3.11) and network access for
# the first `npm ci` / `pip install`. Prints the table; the raw lines go to results.jsonl.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
RUNS="${RUNS:-3}"
EVENTS="${EVENTS:-5000}"
PYTHON="${PYTHON:-python3.10}"

(cd "$root/tests/interop" && npm ci --silent --no-audit --no-fund)
(cd "$here" && npm ci --silent --no-audit --no-fund)
if [ ! -x "$here/.venv/bin/python" ]; then
  "$PYTHON" -m venv "$here/.venv"
  "$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
fi
(cd "$root" && cargo build -q --release --bench side_by_side)
rust() { (cd "$root" && cargo bench -q --bench side_by_side -- "$@"); }

server_out="$(mktemp)"
WORLD=bench PORT=0 node "$root/tests/interop/server.mjs" >"$server_out" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$server_out"' EXIT
for _ in $(seq 100); do
  grep -q '^control on' "$server_out" && break
  sleep 0.2
done
endpoint="$(sed -n 's/^listening on //p' "$server_out")"
control="$(sed -n 's/^control on //p' "$server_out")"
[ -n "$endpoint" ] && [ -n "$control" ] || { echo "the official server did not start" >&2; exit 1; }

export WECHATY_PUPPET_SERVICE_ENDPOINT="$endpoint"
export WECHATY_PUPPET_SERVICE_TOKEN="insecure_00000000-0000-0000-0000-000000000000"
export WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT=true

results="$here/results.jsonl"
: >"$results"
tasks=("member_list big500@chatroom" "member_list big5000@chatroom" "find_all" "events $EVENTS $control")
measure() {
  case "$1" in
    rust) rust "${@:2}" ;;
    # The official client keeps payloads on disk under $HOME/.wechaty between runs: a fresh
    # home per run keeps it cold like the others.
    typescript) home="$(mktemp -d)"; (cd "$here" && HOME="$home" node client.mjs "${@:2}"); rm -rf "$home" ;;
    python) (cd "$here" && .venv/bin/python client.py "${@:2}") ;;
  esac
}
clients=(rust typescript python)
for run in $(seq "$RUNS"); do
  for task in "${tasks[@]}"; do
    # Each run starts with another client, so none always follows the server's busiest moment.
    for k in 0 1 2; do
      client="${clients[$(( (run + k) % 3 ))]}"
      sleep 1 # let the server settle (garbage collection after the previous client)
      # shellcheck disable=SC2086 # the task is words on purpose
      measure "$client" $task >>"$results"
      if [ "$client" = rust ] && [ "${task%% *}" = events ]; then
        sleep 1
        rust events_bare ${task#events } >>"$results"
      fi
    done
  done
  echo "run $run of $RUNS done" >&2
done
python3 "$here/summarize.py" "$results"
