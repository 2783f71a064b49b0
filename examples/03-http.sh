#!/usr/bin/env bash
# The HTTP API with curl: submit a job, register a worker, claim the job, heartbeat, complete it, read the events.
# The worker's calls use the credential its registration answered: it acts on that worker only.
#
#   npm start                                   # prints an admin token on first start
#   BASE=http://127.0.0.1:8080 TOKEN=<token> bash examples/03-http.sh
#
# TOKEN needs the scopes jobs:read, jobs:write and queue:work (or admin), e.g.
#   npx overseer token create --workspace acme --scopes jobs:read,jobs:write,queue:work --ttl 1h
# Answers are printed as they come; JSON fields are read with node (no jq needed).
set -euo pipefail

: "${BASE:?set BASE, e.g. http://127.0.0.1:8080}"
: "${TOKEN:?set TOKEN to an API token (overseer token create ...)}"

# api METHOD PATH [BODY [IDEMPOTENCY-KEY]]: one call with $AUTH (default $TOKEN); prints the answer, or the error
# envelope to stderr and fails.
api() {
  local args=(-sS --fail-with-body -X "$1" "$BASE$2" -H "Authorization: Bearer ${AUTH:-$TOKEN}")
  if [ -n "${3:-}" ]; then args+=(-H 'Content-Type: application/json' --data "$3"); fi
  if [ -n "${4:-}" ]; then args+=(-H "Idempotency-Key: $4"); fi
  local out
  if ! out=$(curl "${args[@]}"); then
    echo "$1 $2 failed: $out" >&2
    return 1
  fi
  printf '%s\n' "$out"
}

# field PATH: a field of the JSON on stdin (`lease.token`).
field() {
  node -e '
    let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      let v = JSON.parse(s);
      for (const k of process.argv[1].split(".")) v = v == null ? undefined : v[k];
      process.stdout.write(typeof v === "object" ? JSON.stringify(v) : String(v));
    });' "$1"
}

key="example-$$-$RANDOM"

echo "== submit a job (Idempotency-Key: $key)"
job=$(api POST /api/jobs '{"title":"Add a login page","priority":"high","capabilities":["example"]}' "$key")
echo "$job"
job_id=$(field id <<<"$job")
echo "job $job_id $(field status <<<"$job")"

echo "== the same submit again: the key replays the first answer"
again=$(api POST /api/jobs '{"title":"Add a login page","priority":"high","capabilities":["example"]}' "$key")
echo "replayed $(field id <<<"$again")"

echo "== register a worker"
worker=$(api POST /api/v1/workers '{"name":"example-agent","capabilities":["example"]}')
echo "$worker"
worker_id=$(field id <<<"$worker")
echo "worker $worker_id $(field status <<<"$worker")"
# From here on the agent's calls carry the worker's own credential, never the token that registered it.
AUTH=$(field credential.token <<<"$worker")
echo "acting as $(api GET /api/v1/whoami | field workerId)"

echo "== claim (waits up to 5 s for a job the worker can run)"
claim=$(api POST /api/v1/queue/claim "{\"workerId\":\"$worker_id\",\"waitMs\":5000}")
echo "$claim"
claimed=$(field job.id <<<"$claim")
lease=$(field lease.token <<<"$claim")
echo "claimed $claimed with lease fence $(field lease.fence <<<"$claim")"

echo "== heartbeat (keeps the worker alive and extends the lease)"
beat=$(api POST "/api/v1/workers/$worker_id/heartbeat" "{\"leaseToken\":\"$lease\"}")
echo "$beat"
echo "directive $(field directive <<<"$beat")"

echo "== complete"
done_=$(api POST /api/v1/queue/complete "{\"jobId\":\"$claimed\",\"leaseToken\":\"$lease\",\"result\":{\"ok\":true}}")
echo "$done_"
echo "job $claimed $(field job.status <<<"$done_")"

echo "== the job's events (read with the registering token: a worker's credential does not read the journal)"
AUTH=$TOKEN
after=0
while :; do
  page=$(api GET "/api/v1/events?afterSeq=$after&limit=500")
  node -e '
    let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      for (const e of JSON.parse(s).events)
        if (e.id === process.argv[1]) console.log(`#${e.seq} ${e.kind} ${e.id} ${e.from ?? "∅"} → ${e.to} (${e.event})`);
    });' "$claimed" <<<"$page"
  after=$(field nextCursor <<<"$page")
  [ "$after" = "null" ] && break
done
