#!/usr/bin/env bash
# Soak: many operators at once. SOAK_CLIENTS shell loops (default 8) run
# the real CLI for SOAK_SECONDS (default 60), each picking a random campaign
# and a random action (pause, resume, launch, rollback, retry-failed, now
# and then cancel or stop-all) and recording what came back. Nothing else
# touches the database (no demo backend), so afterwards every change must
# be accounted for:
#
#   * every call exits 0 or 3 (never 1 "error" or 5 "outcome unknown"), and
#     its JSON outcome agrees with its exit status;
#   * the audit rows written are exactly those of the calls that said
#     "applied" (stop-all: one per campaign it paused), request id by
#     request id;
#   * each campaign's version went up by exactly its number of audited
#     transitions, and its audit rows chain version to version and status
#     to status from where it started to where it ended;
#   * no audit row has a status pair outside campaign_status_pairs, nor an
#     (action, from, to) outside campaign_actions.
#
#   SOAK_SECONDS=10 SOAK_SEED=123 tests/run.sh tests/integration/soak.sh
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 is needed to read the results"
GEN=$T_BUILD/marketing-demo-gen
[ -x "$GEN" ] || fail "$GEN is missing; run 'make'"

SOAK_SECONDS=${SOAK_SECONDS:-60}
SOAK_CLIENTS=${SOAK_CLIENTS:-8}
SOAK_SEED=${SOAK_SEED:-$((RANDOM * 32768 + RANDOM))}
[[ $SOAK_SECONDS =~ ^[1-9][0-9]*$ && $SOAK_CLIENTS =~ ^[1-9][0-9]*$ && $SOAK_SEED =~ ^[0-9]+$ ]] ||
    fail "SOAK_SECONDS, SOAK_CLIENTS and SOAK_SEED must be numbers"

# the caller's configuration must not leak in
while read -r v; do
    [ "$v" = MARKETING_BUILD ] || unset "$v"
done < <(compgen -e | grep '^MARKETING_' || true)
unset SSH_CLIENT SSH_CONNECTION PGOPTIONS PGAPPNAME
export XDG_CONFIG_HOME=$T_TMP/xdg HOME=$T_TMP/home
mkdir -p "$HOME"

pg_up
export MARKETING_DSN=$PGDSN
"$MKT" db migrate >/dev/null
"$GEN" --dsn "$PGDSN" --contacts 2000 --campaigns 24 --quiet
# failed deliveries for retry-failed to find, on every campaign that has sent
sql "UPDATE deliveries d SET status = 'failed', error = 'smtp 451'
       FROM (SELECT id, row_number() OVER (PARTITION BY campaign_id ORDER BY id) AS rn
               FROM deliveries WHERE status = 'sent') s
      WHERE d.id = s.id AND s.rn <= 3" >/dev/null

# The campaigns played with: all but the cancelled ones (nothing can be done
# to those). Every fourth of them may also be cancelled; the rest never are,
# so they keep moving until the end.
mapfile -t ids < <(sql "SELECT id FROM campaigns WHERE status <> 'cancelled' ORDER BY id")
[ ${#ids[@]} -ge 8 ] || fail "too few campaigns to play with: ${ids[*]}"
declare -A cancellable=()
for ((i = 0; i < ${#ids[@]}; i += 4)); do cancellable[${ids[i]}]=1; done

# nobody else is connected: no backend, no console
eq "other sessions" "$(sql "SELECT count(*) FROM pg_stat_activity
                             WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")" 0
base=$(sql "SELECT coalesce(max(id), 0) FROM audit_log")
sql "SELECT id, status, version FROM campaigns ORDER BY id" >"$T_TMP/before"

# client C: random actions until the deadline; one line per call in
# $T_TMP/cC/index ("N ACTION ID EXIT"), its output in N.json and N.err
client() {
    local c=$1 dir=$T_TMP/c$1 n=0 id act r rc
    mkdir -p "$dir"
    RANDOM=$(((SOAK_SEED + c * 7919) % 1000000007))
    while :; do
        n=$((n + 1))
        id=${ids[RANDOM % ${#ids[@]}]}
        r=$((RANDOM % 200))
        if ((r < 2)); then act=stop-all
        elif ((r < 46)); then act=pause
        elif ((r < 90)); then act=resume
        elif ((r < 110)); then act=launch
        elif ((r < 145)); then act=rollback
        elif ((r < 180)); then act=retry-failed
        elif [ -n "${cancellable[$id]:-}" ]; then act=cancel
        else act=pause
        fi
        rc=0
        if [ "$act" = stop-all ]; then
            "$MKT" stop-all --yes --json >"$dir/$n.json" 2>"$dir/$n.err" </dev/null || rc=$?
            id=-
        else
            "$MKT" "$act" "$id" --yes --json >"$dir/$n.json" 2>"$dir/$n.err" </dev/null || rc=$?
        fi
        echo "$n $act $id $rc" >>"$dir/index"
        ((EPOCHSECONDS < deadline)) || break
    done
}

note "soak: $SOAK_CLIENTS clients, $SOAK_SECONDS s, ${#ids[@]} campaigns, seed $SOAK_SEED"
deadline=$((EPOCHSECONDS + SOAK_SECONDS))
pids=()
for ((c = 1; c <= SOAK_CLIENTS; c++)); do
    client "$c" &
    pids+=($!)
done
for p in "${pids[@]}"; do
    wait "$p" || fail "client (pid $p) failed"
done

sql "SELECT id, status, version FROM campaigns ORDER BY id" >"$T_TMP/after"
sql "SELECT id, request_id, action, coalesce(campaign_id, ''), coalesce(from_status, ''),
            coalesce(to_status, ''), coalesce(from_version, 0), coalesce(to_version, 0),
            application_name, db_user, coalesce(os_user, '')
       FROM audit_log WHERE id > $base ORDER BY id" >"$T_TMP/audit"
sql "SELECT action, from_status, to_status FROM campaign_actions" >"$T_TMP/actions"
sql "SELECT from_status, to_status FROM campaign_status_pairs" >"$T_TMP/pairs"

# the whole audit log, the demo's trail included: no status pair outside the table
eq "audit rows with a status pair outside campaign_status_pairs" \
    "$(sql "SELECT count(*) FROM audit_log a
             WHERE a.from_status <> a.to_status
               AND NOT EXISTS (SELECT 1 FROM campaign_status_pairs p
                                WHERE p.from_status = a.from_status AND p.to_status = a.to_status)")" 0
# the counters kept by triggers still match the ledger retry-failed rewrote
eq "campaign_stats that differ from the deliveries" \
    "$(sql "SELECT count(*) FROM campaign_stats s LEFT JOIN (
                SELECT campaign_id, count(*) FILTER (WHERE status = 'queued') AS q,
                       count(*) FILTER (WHERE status = 'failed') AS f,
                       count(*) FILTER (WHERE status = 'sent') AS st
                  FROM deliveries GROUP BY campaign_id) d USING (campaign_id)
             WHERE (s.queued, s.failed, s.sent) IS DISTINCT FROM
                   (coalesce(d.q, 0), coalesce(d.f, 0), coalesce(d.st, 0))")" 0

python3 - "$T_TMP" "$SOAK_CLIENTS" "$SOAK_SECONDS" "$SOAK_SEED" "$(id -un)" <<'PY'
import collections, json, os, sys

tmp, nclients, secs, seed, me = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
problems = []
def problem(msg):
    problems.append(msg)

def rows(name):
    with open(os.path.join(tmp, name)) as f:
        return [line.rstrip('\n').split('|') for line in f if line.strip()]

# ---- the calls ----
calls = []
for c in range(1, nclients + 1):
    d = os.path.join(tmp, f'c{c}')
    for n, act, cid, rc in (l.split() for l in open(os.path.join(d, 'index'))):
        out = open(os.path.join(d, f'{n}.json'), 'rb').read()
        err = open(os.path.join(d, f'{n}.err'), 'rb').read().decode('utf-8', 'replace')
        calls.append(dict(client=c, n=int(n), act=act, id=cid, rc=int(rc), out=out, err=err))

def where(k):
    return f"client {k['client']} call {k['n']} ({k['act']} {k['id']}, exit {k['rc']})"

counts = collections.Counter()
applied = {}
for k in calls:
    if k['rc'] not in (0, 3):
        problem(f"{where(k)}: exit status not 0 or 3: {k['err'].strip()[:300]} {k['out'][:300]!r}")
        continue
    if not k['out'].strip():
        # a launch refused by its pre-flight check says so without JSON
        if k['act'] == 'launch' and k['rc'] == 3 and 'pre-flight check failed' in k['err']:
            counts['refused'] += 1
        else:
            problem(f"{where(k)}: no JSON; stderr: {k['err'].strip()[:300]}")
        continue
    try:
        o = json.loads(k['out'])
    except ValueError as e:
        problem(f"{where(k)}: output is not JSON ({e}): {k['out'][:300]!r}")
        continue
    oc = o.get('outcome')
    counts[oc] += 1
    want_rc = {'applied': 0, 'already': 0, 'conflict': 3, 'invalid': 3}.get(oc)
    if want_rc is None:
        problem(f"{where(k)}: outcome {oc!r}: {o.get('message')}")
        continue
    if want_rc != k['rc']:
        problem(f"{where(k)}: outcome {oc} with exit {k['rc']}")
    if o.get('action') != k['act'].replace('-', '_'):
        problem(f"{where(k)}: JSON action {o.get('action')!r}")
    if k['act'] != 'stop-all' and o.get('campaign_id') != k['id']:
        problem(f"{where(k)}: JSON campaign {o.get('campaign_id')!r}")
    if oc == 'applied':
        if o['request_id'] in applied:
            problem(f"{where(k)}: request id {o['request_id']} used twice")
        applied[o['request_id']] = (k, o)

# ---- the audit rows written meanwhile ----
audit = [dict(zip(('id', 'rid', 'action', 'cid', 'from', 'to', 'fv', 'tv', 'app', 'db_user', 'os_user'), r))
         for r in rows('audit')]
for a in audit:
    a['fv'], a['tv'] = int(a['fv']), int(a['tv'])
by_rid = collections.defaultdict(list)
for a in audit:
    by_rid[a['rid']].append(a)
    if (a['app'], a['db_user'], a['os_user']) != ('marketing', 'postgres', me):
        problem(f"audit row {a['id']} was not written by the clients: {a}")
    if a['rid'] not in applied:
        problem(f"audit row {a['id']} ({a['action']} {a['cid']}) belongs to no call that said 'applied'")

expected_rows = 0
for rid, (k, o) in applied.items():
    got = by_rid.get(rid, [])
    if k['act'] == 'stop-all':
        n = o.get('paused')
        expected_rows += max(n, 1)
        if n == 0:
            ok = len(got) == 1 and got[0]['cid'] == '' and got[0]['tv'] == 0
        else:
            ok = (len(got) == n and len({a['cid'] for a in got}) == n
                  and all(a['cid'] and a['action'] == 'stop_all' for a in got))
        if not ok:
            problem(f"{where(k)}: stop-all paused {n}, audit rows {got}")
        continue
    expected_rows += 1
    if len(got) != 1:
        problem(f"{where(k)}: applied, with {len(got)} audit rows")
        continue
    a = got[0]
    if (a['action'], a['cid'], a['to'], a['tv']) != (o['action'], o['campaign_id'], o['status'], o['version']):
        problem(f"{where(k)}: applied {o}, but the audit row says {a}")
if len(audit) != expected_rows:
    problem(f"{len(audit)} audit rows, but the applied calls account for {expected_rows}")

# ---- every row a legal move ----
actions = {(a, f): t for a, f, t in rows('actions')}
pairs = {(f, t) for f, t in rows('pairs')}
for a in audit:
    if a['action'] == 'stop_all' and not a['cid']:
        continue
    if a['tv'] != a['fv'] + 1:
        problem(f"audit row {a['id']}: version {a['fv']} to {a['tv']}")
    if a['from'] != a['to'] and (a['from'], a['to']) not in pairs:
        problem(f"audit row {a['id']}: {a['from']} to {a['to']} is not in campaign_status_pairs")
    if a['action'] == 'stop_all':
        legal = (a['from'], a['to']) == ('active', 'paused')
    else:
        want = actions.get((a['action'], a['from']))
        legal = want == a['to'] or (a['action'], a['from'], a['to']) == ('launch', 'draft', 'scheduled')
    if not legal:
        problem(f"audit row {a['id']}: {a['action']} from {a['from']} to {a['to']} is not in campaign_actions")

# ---- each campaign: its version moved by its audited transitions, in a chain ----
before = {i: (s, int(v)) for i, s, v in rows('before')}
after = {i: (s, int(v)) for i, s, v in rows('after')}
if set(before) != set(after):
    problem(f"campaigns came or went: {set(before) ^ set(after)}")
trail = collections.defaultdict(list)
for a in audit:
    if a['cid']:
        trail[a['cid']].append(a)
for cid, (s0, v0) in sorted(before.items()):
    s1, v1 = after.get(cid, (None, None))
    t = sorted(trail.get(cid, []), key=lambda a: a['tv'])
    if v1 is None:
        continue
    if v1 - v0 != len(t):
        problem(f"{cid}: version {v0} to {v1}, but {len(t)} audited transitions")
    status, version = s0, v0
    for a in t:
        if (a['from'], a['fv']) != (status, version):
            problem(f"{cid}: audit row {a['id']} starts at {a['from']} v{a['fv']}, the campaign was {status} v{version}")
            break
        status, version = a['to'], a['tv']
    else:
        if (status, version) != (s1, v1):
            problem(f"{cid}: the audit trail ends at {status} v{version}, the campaign is {s1} v{v1}")

cancelled = sum(1 for i in after if after[i][0] == 'cancelled' and before[i][0] != 'cancelled')
print(f"soak: {len(calls)} calls by {nclients} clients in {secs} s (seed {seed}): "
      f"{counts['applied']} transitions, {counts['conflict']} conflicts, {counts['already']} already, "
      f"{counts['invalid']} invalid, {counts['refused']} refused by pre-flight; "
      f"{len(audit)} audit rows; {cancelled} campaigns cancelled")
if counts['applied'] == 0:
    problem("nothing was applied")
for p in problems[:40]:
    print('FAIL: ' + p, file=sys.stderr)
if len(problems) > 40:
    print(f'FAIL: ... and {len(problems) - 40} more', file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo ok
