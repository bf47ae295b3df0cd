#!/usr/bin/env bash
# on=slurm end to end on a one-node Slurm cluster started here (scripts/slurm-local.sh), with
# the release build:
#  1. a 6-configuration `trial run … on=slurm` stores bit-identical epochs to the same run on=local,
#     and its recorded session replays (locally) with --verify;
#  2. successive halving over Slurm picks the configuration the local search picks;
#  3. a worker cancelled mid-epoch (scancel of one array task), then `trial resume`, ends with the
#     numbers of an uninterrupted run;
#  4. the head killed while the job runs: a new shell's `trial resume` merges every finished task,
#     nothing twice;
#  5. a failing task is reported with its log path; dry-run=yes submits nothing;
#  6. CPT, dual precision and STQ: runs rows (trained line, trained BOPs, low-mode run) equal the local run's.
# The cluster is stopped at the end, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
ql=${QUANTLAB_BIN:-$root/.build/release/quantlab}   # QUANTLAB_BIN: another build (e.g. debug, while developing)
[ -x "$ql" ] || { echo "build the release binary first: swift build -c release --product quantlab"; exit 1; }
bash scripts/slurm-local.sh start >/dev/null
trap 'bash "$root/scripts/slurm-local.sh" stop >/dev/null' EXIT
eval "$(bash scripts/slurm-local.sh env)"
work=$(mktemp -d /tmp/quantlab-slurm-test.XXXXXX)
cd "$work"
fail() { echo "FAILED: $*"; exit 1; }

prelude='seed 7
data load fashion-mnist val=500
data sample 1200
model define net = conv 16 k3 | relu | maxpool 2 | conv 32 k3 | relu | maxpool 2 | dense 10
precision net first=w8a8 last=w8a8
config grid net w=2,4,8 a=4,8 layers=conv2'

# epochs(DB): every stored epoch as exact text, in a fixed order.
epochs() {
  python3 - "$1" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("""select c.name, r.kind, r.status, e.epoch, e.train_loss, e.train_acc, e.val_loss, e.val_acc
                    from epochs e join runs r on r.id = e.run_id join configurations c on c.id = r.configuration_id
                    order by r.kind, c.name, e.epoch""").fetchall()
for r in rows: print(" ".join(x.hex() if isinstance(x, float) else str(x) for x in r))
EOF
}
count() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$@"; }

# 1. Bit-identical to local; the session records the job and replays locally.
printf '%s\nstore open local.db\ntrial run all epochs=2 batch=32\n' "$prelude" >local.qlab
"$ql" run local.qlab >local.out
mkdir -p sessions
printf '%s\nstore open slurm.db\ntrial run all epochs=2 batch=32 on=slurm array-limit=2\nquit\n' "$prelude" | "$ql" --session slurm1 >slurm.out
grep -q "on Slurm" slurm.out || fail "trial run on=slurm: $(tail -5 slurm.out)"
[ "$(epochs slurm.db)" = "$(epochs local.db)" ] || fail "on=slurm epochs differ from on=local"
[ "$(epochs slurm.db | wc -l)" -eq 12 ] || fail "expected 12 stored epochs"
grep -q '^# slurm: job [0-9]* plan ' sessions/slurm1.qlab || fail "the session does not record the job and plan"
"$ql" replay sessions/slurm1.qlab --verify >replay.out 2>&1 || fail "replay --verify of the Slurm session: $(tail -3 replay.out)"
echo "1. 6 configurations on Slurm: 12 epochs bit-identical to the local run; the session replays locally"

# 2. Successive halving: the same pick.
search='search halving all eta=3 min=1 max=3 batch=32'
printf '%s\nstore open hl.db\n%s\n' "$prelude" "$search" >hl.qlab
printf '%s\nstore open hs.db\n%s on=slurm\n' "$prelude" "$search" >hs.qlab
"$ql" run hl.qlab >hl.out
"$ql" run hs.qlab >hs.out
chosen_local=$(grep '^chosen: ' hl.out); chosen_slurm=$(grep '^chosen: ' hs.out || true)
[ -n "$chosen_local" ] && [ "$chosen_local" = "$chosen_slurm" ] || fail "search picks differ: local '$chosen_local', slurm '$chosen_slurm'"
[ "$(epochs hs.db)" = "$(epochs hl.db)" ] || fail "search epochs on Slurm differ from local"
echo "2. successive halving on Slurm ($(grep -c '^rung' hs.out) rungs as array jobs) picks the local search's $chosen_local"

# wait_for FILE PATTERN SECONDS
wait_for() { for _ in $(seq $(( $3 * 10 ))); do grep -qs "$2" $1 && return 0; sleep 0.1; done; return 1; }
plan_of() { ls -d "$work/$1"/*/ | tail -1; }

# 3. Cancel one task mid-epoch, resume, same numbers as uninterrupted. Eight epochs (about
# 0.45 s each here): with three, a task could finish its last two between the poll that
# saw epoch 1 and scancel taking effect (CI saw that once after training got faster).
printf '%s\nstore open local3.db\ntrial run all epochs=8 batch=16\n' "$prelude" >l3.qlab
"$ql" run l3.qlab >/dev/null
printf '%s\nstore open s3.db\ntrial run all epochs=8 batch=16 on=slurm plans=p3\n' "$prelude" >s3.qlab
"$ql" run s3.qlab >s3.out 2>&1 &
head=$!
wait_for "p3/*/results/task-0.jsonl" '"epoch":1,' 60 || fail "task 0 wrote no epoch"
plan=$(plan_of p3); job=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['jobIDs'][0])" "$plan/head.json")
scancel "${job}_0"
wait $head || true
grep -q "log: $plan" s3.out || fail "the cancelled task is not reported with its log: $(tail -5 s3.out)"
[ "$(grep -c '"type":"epoch"' "$plan/results/task-0.jsonl")" -lt 8 ] || fail "task 0 finished before it was cancelled"
printf 'store open s3.db\ntrial resume %s\n' "$plan" >r3.qlab
"$ql" run r3.qlab >r3.out
grep -q "resubmitted task(s) 0 " r3.out || fail "trial resume did not resubmit task 0: $(tail -5 r3.out)"
[ "$(epochs s3.db)" = "$(epochs local3.db)" ] || fail "resumed epochs differ from the uninterrupted run"
[ "$(count s3.db "select count(*) from runs where status != 'done'")" -eq 0 ] || fail "runs not done after resume"
echo "3. task 0 cancelled mid-epoch ($(grep -c '"type":"epoch"' "$plan/results/task-0.jsonl") epochs in its file, restarted from its checkpoint): resumed run equals the uninterrupted one"

# 4. Kill the head while the job runs; a new shell merges everything once.
printf '%s\nstore open local4.db\ntrial run all epochs=3 batch=16\n' "$prelude" >l4.qlab
"$ql" run l4.qlab >/dev/null
printf '%s\nstore open s4.db\ntrial run all epochs=3 batch=16 on=slurm plans=p4\n' "$prelude" >s4.qlab
"$ql" run s4.qlab >s4.out 2>&1 &
head=$!
wait_for "p4/*/results/task-*.jsonl" '"type":"finished"' 60 || fail "no task finished"
kill -9 $head; wait $head 2>/dev/null || true
plan=$(plan_of p4)
merged_before=$(count s4.db "select count(*) from epochs")
printf 'store open s4.db\ntrial resume %s\n' "$plan" >r4.qlab
"$ql" run r4.qlab >r4.out
[ "$(epochs s4.db)" = "$(epochs local4.db)" ] || fail "after the head was killed, merged epochs differ from the local run"
[ "$(count s4.db "select count(*) from runs")" -eq 6 ] || fail "runs counted twice"
"$ql" run r4.qlab >/dev/null
[ "$(count s4.db "select count(*) from epochs")" -eq 18 ] || fail "a second resume stored epochs again"
echo "4. head killed with $merged_before epochs merged: trial resume merged the rest; 6 runs, 18 epochs, none twice"

# 5. A failing task; dry-run.
printf '%s\nstore open s5.db\ntrial run w2a4 epochs=1 on=slurm plans=p5\n' "$prelude" >s5.qlab
QUANTLAB_EXECUTABLE=/bin/false "$ql" run s5.qlab >s5.out 2>&1 || true
grep -q "task 0 (w2a4) .*log: .*/p5/.*/logs/task-0.out" s5.out || fail "a failing task is not reported with its log: $(tail -5 s5.out)"
printf '%s\ntrial run all epochs=1 on=slurm dry-run=yes plans=p6\n' "$prelude" >s6.qlab
"$ql" run s6.qlab >s6.out
grep -q -- "--array=0-5%6" s6.out && [ ! -e p6 ] || fail "dry-run"
echo "5. a failing task is reported with its log; dry-run=yes prints the plan and submits nothing"
# 6. Training methods: what a local run stores besides its epochs (the trained cost, the methods'
#    trained line, a dual network's low-mode run and its parent) comes back from the workers alike.
methods='config add cpt net w8a8 schedule=cpt:3-8
config add dual net w8a8 dual=w2a2
config add stq net wta4 first=w8a8 last=w8a8 stq=0.5'
runs() {
  python3 - "$1" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("""select c.name, r.status, r.test_acc, r.trained, r.trained_bops, r.mode, pc.name
                    from runs r join configurations c on c.id = r.configuration_id
                    left join runs p on p.id = r.parent_run left join configurations pc on pc.id = p.configuration_id
                    order by c.name""").fetchall()
for r in rows: print(" ".join(x.hex() if isinstance(x, float) else str(x) for x in r))
EOF
}
printf '%s\n%s\nstore open m-local.db\ntrial run cpt dual stq epochs=1 batch=32\n' "$prelude" "$methods" >ml.qlab
printf '%s\n%s\nstore open m-slurm.db\ntrial run cpt dual stq epochs=1 batch=32 on=slurm plans=p7\n' "$prelude" "$methods" >ms.qlab
"$ql" run ml.qlab >ml.out
"$ql" run ms.qlab >ms.out
[ "$(runs m-slurm.db)" = "$(runs m-local.db)" ] || fail "on=slurm runs rows (trained, trained_bops, low mode) differ from on=local: $(diff <(runs m-local.db) <(runs m-slurm.db))"
[ "$(epochs m-slurm.db)" = "$(epochs m-local.db)" ] || fail "on=slurm method epochs differ from on=local"
[ "$(count m-slurm.db "select count(*) from runs where mode = 'low' and parent_run is not null")" -eq 1 ] || fail "no low-mode run from Slurm"
[ "$(count m-slurm.db "select count(*) from runs where trained_bops is null")" -eq 0 ] || fail "a run without trained BOPs from Slurm"
echo "6. CPT, dual and STQ on Slurm: runs rows (trained line, trained BOPs, the low mode and its parent) and epochs equal the local run's"
cd "$root"; rm -rf "$work"
echo "slurm: all checks passed"
