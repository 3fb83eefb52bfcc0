#!/usr/bin/env bash
# Regenerates the real Locust files of the corpus: a local target on 127.0.0.1, ~20 s of load.
# Needs `pip install locust` (not a Liftoff dependency). Usage: make_locust.sh OUTPUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?output folder}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$here/locust_target.py" "$port" & target=$!
trap 'kill $target' EXIT
sleep 1
locust -f "$here/locustfile.py" --headless --host "http://127.0.0.1:$port" \
    --csv "$out/locust_scoring" --csv-full-history --only-summary >/dev/null 2>&1 || true
