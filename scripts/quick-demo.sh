#!/usr/bin/env bash
# Quick demo of the seed flow: start devbot, submit a shell task that serves a page, follow its
# event stream, fetch the preview URL and print the page. Needs root, bubblewrap and python3
# (apt-get install bubblewrap python3) and Redis (REDIS_URL, or a local redis-server).
#
#   scripts/quick-demo.sh            # uses a throwaway data dir and port 3900
#   PORT=4000 scripts/quick-demo.sh
#   KEEP_DATA=1 scripts/quick-demo.sh   # keep the data dir (logs, database) afterwards
set -euo pipefail

cd "$(dirname "$0")/.."
export PORT="${PORT:-3900}"
export HOST=127.0.0.1
export DEVBOT_DATA_DIR="${DEVBOT_DATA_DIR:-$(mktemp -d /tmp/devbot-demo.XXXXXX)}"
export LOG_LEVEL="${LOG_LEVEL:-warn}"
export DEVBOT_PREVIEW_TTL="${DEVBOT_PREVIEW_TTL:-300}"
BASE="http://127.0.0.1:${PORT}"
COMMAND='echo "Hello from devbot" > index.html && python3 -m http.server 8000'

command -v bwrap >/dev/null || { echo "bubblewrap is missing: apt-get install bubblewrap" >&2; exit 1; }

echo "==> starting devbot on ${BASE} (data: ${DEVBOT_DATA_DIR})"
node bin/devbot.js start >"${DEVBOT_DATA_DIR}/devbot.log" 2>&1 &
DEVBOT_PID=$!
cleanup() {
  # SIGTERM lets devbot close its sandboxes; bin/devbot.js runs tsx in-process, so this is the whole tree.
  kill -TERM "${DEVBOT_PID}" 2>/dev/null || true
  wait "${DEVBOT_PID}" 2>/dev/null || true
  if [ -z "${KEEP_DATA:-}" ]; then rm -rf "${DEVBOT_DATA_DIR}"; fi
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  curl -fsS "${BASE}/healthz" >/dev/null 2>&1 && break
  if ! kill -0 "${DEVBOT_PID}" 2>/dev/null; then
    echo "devbot exited; its log:" >&2
    cat "${DEVBOT_DATA_DIR}/devbot.log" >&2
    exit 1
  fi
  sleep 0.5
done

TOKEN="$(node bin/devbot.js token --user demo | tail -n 1)"

echo "==> POST /tasks: ${COMMAND}"
BODY="$(node -e 'process.stdout.write(JSON.stringify({kind:"shell",command:process.argv[1],preview:{port:8000}}))' "${COMMAND}")"
RESPONSE="$(curl -fsS -X POST "${BASE}/tasks" -H "authorization: Bearer ${TOKEN}" -H 'content-type: application/json' -d "${BODY}")"
TASK_ID="$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).id)' "${RESPONSE}")"
echo "    task ${TASK_ID}"

echo "==> following ws ${BASE}/tasks/${TASK_ID}/stream"
PREVIEW_URL="$(BASE="${BASE}" TOKEN="${TOKEN}" TASK_ID="${TASK_ID}" node --input-type=module -e '
import WebSocket from "ws";
const ws = new WebSocket(`${process.env.BASE.replace(/^http/, "ws")}/tasks/${process.env.TASK_ID}/stream`, {
  headers: { authorization: `Bearer ${process.env.TOKEN}` },
});
let url = "";
const timer = setTimeout(() => { console.error("no result within 120 s"); process.exit(1); }, 120_000);
ws.on("message", (raw) => {
  const e = JSON.parse(String(raw));
  const detail = e.type === "output" ? JSON.stringify(e.data.text) : JSON.stringify(e.data);
  console.error(`    #${e.seq} ${e.type} ${detail}`);
  if (e.type === "preview_ready") url = e.data.url;
  if (["task.succeeded", "task.failed", "task.cancelled"].includes(e.type)) ws.close();
});
ws.on("close", () => { clearTimeout(timer); process.stdout.write(url); process.exit(url ? 0 : 1); });
ws.on("error", (err) => { console.error(String(err)); process.exit(1); });
')"

echo "==> GET ${PREVIEW_URL}"
curl -fsS "${PREVIEW_URL}"
echo "==> done"
