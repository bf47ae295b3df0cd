#!/usr/bin/env bash
# End-to-end checks of the issue "Trust" on the release binary, each in a fresh
# temporary folder with a tiny CSV dataset (or a small Fashion-MNIST sample).
# Prints PASS/FAIL per case and exits non-zero on any FAIL. Runs in well under a
# minute. Called from scripts/test.sh; run alone with:
#
#   bash scripts/trust-e2e.sh                  # all cases
#   TRUST_CASES="1 6" bash scripts/trust-e2e.sh
#   QUANTLAB_BIN=/path/to/quantlab bash scripts/trust-e2e.sh
#
# Cases: 1 outputs never destroy the store · 6 Ctrl-C stops a runaway query (shell
# and `run`) · 8 a run stopped by Ctrl-C replays and verifies · 10 a foreign
# session cannot write outside the folder · 12 nor read outside it · 2 two sessions
# reusing configuration names keep their own runs · 4 a model whose input does not
# fit the data fails with an error, not a crash · 11 a full disk leaves the session
# file at the last whole command (mounts a 64 KiB tmpfs; skipped without root).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${QUANTLAB_BIN:-$ROOT/.build/release/quantlab}
CASES=${TRUST_CASES:-"1 6 8 10 12 2 4 11"}
[ -x "$BIN" ] || { echo "trust-e2e: no binary at $BIN; build with: swift build -c release --product quantlab" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/quantlab-trust.XXXXXX")
trap 'umount "$TMP"/full-disk/disk 2>/dev/null; rm -rf "$TMP"' EXIT
failures=0

pass() { echo "PASS  $1"; }
fail() { echo "FAIL  $1"; shift; for line in "$@"; do echo "      $line"; done; failures=$((failures + 1)); }

# A fresh folder holding toy.csv: 300 rows, four features, three classes.
fresh() {
    local dir="$TMP/$1"
    mkdir -p "$dir/home"
    awk 'BEGIN { print "f1,f2,f3,f4,label"; for (i = 0; i < 300; i++) { c = i % 3;
        printf "%d.%d,%d.%d,%d.%d,0.%d,k%d\n", c == 0, i % 7, c == 1, i % 5, c == 2, i % 3, i % 9, c } }' > "$dir/toy.csv"
    echo "$dir"
}

# The shell on a pipe, not recording: `shell DIR <<< "lines"`; output in DIR/out, DIR/err.
shell() { (cd "$1" && HOME="$1/home" "$BIN" --no-record > out 2> err); }

# Waits up to $2 seconds for process $1 to end; kills it (and fails) if it does not.
# Sets $status to its exit status.
wait_for() {
    local pid=$1 limit=$2 waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt $((limit * 10)) ]; do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; status=hung; return 1; fi
    wait "$pid"; status=$?
}

# Waits up to $2 seconds until file $1 contains the fixed string $3.
wait_text() {
    local file=$1 limit=$2 text=$3 waited=0
    until grep -qF -- "$text" "$file" 2>/dev/null; do
        sleep 0.1; waited=$((waited + 1)); [ "$waited" -lt $((limit * 10)) ] || return 1
    done
}

toy_setup='data load csv toy.csv label=label
model define m = dense 8 | relu | dense 3'

case_1() {   # An export can destroy the results store
    local d; d=$(fresh outputs)
    ln -s quantlab.db "$d/link.db"
    shell "$d" <<EOF
$toy_setup
config add a m w4a4
trial run all epochs=1 batch=16
trial final a epochs=1 batch=16
store export runs csv=quantlab.db
export a quantlab.db
plot curves svg=quantlab.db
sql "select 1" csv=quantlab.db
config list csv=quantlab.db
sql "select 1" json=quantlab.db-wal
config list csv=link.db
config list csv=costs.csv
config list csv=costs.csv
EOF
    local refused; refused=$(grep -c "refusing to write over the results store" "$d/err")
    printf 'sql "select count(*) as n from runs"\n' | shell "$d"
    local magic; magic=$(head -c 15 "$d/quantlab.db")
    if [ "$refused" = 7 ] && [ "$magic" = "SQLite format 3" ] && grep -qx "2" "$d/out" \
        && [ -s "$d/costs.csv" ]; then
        printf 'config list csv=costs.csv\n' | shell "$d"
        if grep -q "replaced costs.csv" "$d/out"; then pass "1  no output replaces the store (7 refused, store intact, 'replaced FILE' said)"
        else fail "1  overwriting an existing file is not announced" "$(tail -n 3 "$d/out")"; fi
    else
        fail "1  an output reached the results store" "refused $refused of 7; store starts with '$magic'" "$(head -n 5 "$d/err")"
    fi
}

case_6() {   # A runaway read-only query cannot be stopped
    local d; d=$(fresh sql-interrupt)
    local q='sql "with recursive c(x) as (select 1 union all select x+1 from c) select count(*) from c"'
    printf '%s\necho after the query\n' "$q" > "$d/in"
    (cd "$d" && HOME="$d/home" exec "$BIN" --no-record < in > out 2> err) &
    local pid=$!
    sleep 1.5
    kill -INT "$pid"
    wait_for "$pid" 15
    if [ "$status" = 0 ] && grep -qx "error: interrupted" "$d/err" && grep -qx "after the query" "$d/out"; then
        pass "6  Ctrl-C interrupts a runaway query in the shell, which goes on"
    else
        fail "6  the shell did not stop the query (status $status)" "$(cat "$d/err")"
    fi
    echo "$q" > "$d/q.qlab"
    (cd "$d" && exec "$BIN" run q.qlab > out 2> err) &
    pid=$!
    sleep 1.5
    kill -INT "$pid"
    wait_for "$pid" 15
    if [ "$status" = 1 ] && grep -qx "q.qlab:1: error: interrupted" "$d/err"; then
        pass "6  SIGINT interrupts a runaway query in 'quantlab run' (exit 1, q.qlab:1)"
    else
        fail "6  'quantlab run' did not stop the query (status $status)" "$(cat "$d/err")"
    fi
}

case_8() {   # A run stopped with Ctrl-C breaks its own replay
    local d; d=$(fresh interrupted)
    printf '%s\nthreads 2\nconfig add a m w4a4\nconfig add b m w32a32\ntrial run all epochs=1000 batch=1\ntrial show\n' "$toy_setup" > "$d/in"
    (cd "$d" && HOME="$d/home" exec "$BIN" --session s < in > out 2> err) &
    local pid=$!
    # Once the run has stored a few epochs, press Ctrl-C.
    wait_text "$d/sessions/s.qlab" 15 "config add b"
    sleep 1.5
    kill -INT "$pid"
    wait_for "$pid" 30
    local session="$d/sessions/s.qlab"
    if ! grep -q "^# stopped: Ctrl-C after epochs a=[0-9]* b=[0-9]*$" "$session" || ! grep -qx "# end: end of input" "$session"; then
        fail "8  the session does not record where the run stopped (status $status)" "$(grep -v '^#=' "$session" | tail -n 5)"
        return
    fi
    local r; r=$(fresh interrupted-replay)
    cp "$session" "$r/s.qlab"
    (cd "$r" && "$BIN" replay s.qlab --verify > out 2> err)
    status=$?
    if [ "$status" = 0 ] && grep -q "results verified (exact comparison)" "$r/out"; then
        pass "8  an interrupted run replays to the same epochs ($(grep '^# stopped' "$session" | sed 's/# stopped: Ctrl-C after epochs //')) and verifies"
    else
        fail "8  replay of the interrupted session failed (status $status)" "$(tail -n 2 "$r/err" "$r/out")"
    fi
}

case_10() {  # Replaying a foreign session can write anywhere
    local d; d=$(fresh foreign)
    mkdir -p "$d/work"
    printf '# quantlab session\necho shared\n#= shared\nsql "select '"'"'echo PWNED'"'"' as '"'"':'"'"'" csv=../outside_target.sh\n' > "$d/work/shared.qlab"
    (cd "$d/work" && "$BIN" replay shared.qlab --verify > out 2> err)
    status=$?
    if [ "$status" = 1 ] && [ ! -e "$d/outside_target.sh" ] && grep -q "leads outside with '..'; during replay" "$d/work/err"; then
        (cd "$d/work" && "$BIN" replay shared.qlab --verify --allow-writes-anywhere > out 2> err)
        if [ -e "$d/outside_target.sh" ]; then pass "10 replay refuses writes outside the folder; --allow-writes-anywhere allows them"
        else fail "10 --allow-writes-anywhere did not allow the write" "$(cat "$d/work/err")"; fi
    else
        fail "10 a replayed session wrote outside its folder (status $status)" "$(cat "$d/work/err")"
    fi
}

case_12() {  # Replaying a foreign session can read (and show) any file
    local d; d=$(fresh foreign-read)
    mkdir -p "$d/work"
    { echo "private_SECRET,f2,f3,f4,label"; tail -n +2 "$d/toy.csv"; } > "$d/private.csv"
    printf '# quantlab session\necho shared\n#= shared\ndata load csv %s/private.csv label=x\n' "$d" > "$d/work/shared.qlab"
    (cd "$d/work" && "$BIN" replay shared.qlab --verify > out 2> err)
    status=$?
    if [ "$status" = 1 ] && grep -q "is an absolute path; during replay, commands read files only below the current folder (replay --allow-reads-anywhere allows more)" "$d/work/err" \
        && ! grep -q SECRET "$d/work/out" "$d/work/err"; then
        (cd "$d/work" && "$BIN" replay shared.qlab --verify --allow-reads-anywhere > out 2> err)
        if grep -q "private_SECRET" "$d/work/err"; then pass "12 replay refuses reads outside the folder; --allow-reads-anywhere allows them"
        else fail "12 --allow-reads-anywhere did not allow the read" "$(cat "$d/work/err")"; fi
    else
        fail "12 a replayed session read a file outside its folder (status $status)" "$(cat "$d/work/out" "$d/work/err")"
    fi
}

case_2() {   # Two sessions in one store reuse configuration names on different models (another helper's fix)
    local d; d=$(fresh two-sessions)
    shell "$d" <<'EOF'
data load csv toy.csv label=label
model define m = dense 8 | relu | dense 3
config add c m w4a4
trial run c epochs=1 batch=16
EOF
    shell "$d" <<'EOF'
data load csv toy.csv label=label
model define m = dense 16 | relu | dense 16 | relu | dense 3
config add c m w8a8
trial run c epochs=1 batch=16
EOF
    printf 'sql "select r.id, c.params, c.precision from runs r join configurations c on c.id = r.configuration_id order by r.id"\n' | shell "$d"
    local distinct; distinct=$(grep -E '^ *[0-9]+ ' "$d/out" | awk '{ $1 = ""; print }' | sort -u | wc -l)
    if [ "$distinct" = 2 ]; then pass "2  runs of two sessions keep their own configuration (params, precision)"
    else fail "2  two runs share one configuration row after a name was reused" "$(cat "$d/out")"; fi
}

case_4() {   # A model whose input does not fit the data (another helper's fix)
    local d; d=$(fresh mismatch)
    printf 'data load fashion-mnist\ndata sample 200\nmodel define m = conv 16 k3 | relu | dense 10 input=3x32x32\nconfig add x m w8a8\ntrial run x epochs=1\n' > "$d/m.qlab"
    (cd "$d" && "$BIN" run m.qlab > out 2> err)
    status=$?
    if [ "$status" = 1 ] && grep -q "^m.qlab:[0-9]*: error: " "$d/err"; then pass "4  a model that does not fit the data fails with $(head -c 100 "$d/err" | head -n 1)"
    else fail "4  no clear error for a model that does not fit the data (status $status)" "$(tail -n 3 "$d/err")"; fi
}

case_11() {  # A full disk cut the session file in the middle of a command
    local d; d=$(fresh full-disk)
    local disk="$d/disk"
    mkdir -p "$disk"
    if ! mount -t tmpfs -o size=64k tmpfs "$disk" 2>/dev/null; then
        echo "SKIP  11 a full disk (mounting a small tmpfs needs root)"; return
    fi
    # One free page: the session file's first; its second write that crosses 4 KiB fails part-way.
    head -c 4096 /dev/zero > "$disk/slack"
    head -c 1048576 /dev/zero > "$disk/filler" 2>/dev/null
    rm "$disk/slack"
    local long; long=$(printf 'x%.0s' $(seq 1 100))
    for i in $(seq 1 60); do echo "echo $i $long"; done > "$d/in"
    (cd "$disk" && HOME="$d/home" "$BIN" --session s < "$d/in" > "$d/out" 2> "$d/err")
    status=$?
    cp "$disk/sessions/s.qlab" "$d/s.qlab"
    umount "$disk"
    local last; last=$(tail -c 1 "$d/s.qlab" | od -An -c | tr -d ' ')
    (cd "$d" && "$BIN" replay s.qlab --verify > replay.out 2> replay.err)
    local replayed=$?
    if [ "$status" = 0 ] && grep -q "recording stopped: .*No space left on device; it ends with the last whole command" "$d/err" \
        && [ "$last" = '\n' ] && [ "$replayed" = 0 ] && grep -q "^60 $long$" "$d/out"; then
        pass "11 a full disk: recording stops with a warning on stderr, the file ends with the last whole command ($(grep -c '^echo' "$d/s.qlab") of 60) and replays"
    else
        fail "11 a full disk left a cut session file (status $status, replay $replayed, last byte '$last')" "$(grep "recording stopped" "$d/err")" "$(tail -c 120 "$d/s.qlab")"
    fi
}

for c in $CASES; do "case_$c"; done
if [ "$failures" -gt 0 ]; then echo "trust-e2e: $failures FAILED"; exit 1; fi
echo "trust-e2e: all passed"
