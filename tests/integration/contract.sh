#!/bin/bash
# contract.sh - the command-line contract of guard-exec and guardctl check
# (DESIGN.md): exit codes, the blocked message, --json, --log-dir, the
# output limit, the timeout and its clamping, and that a timeout leaves no
# process behind (one that ignores SIGTERM, a setsid grandchild).
. "$(dirname "$0")/../adversarial/lib.sh"

# json FILE EXPR: evaluate a Python expression on the last JSON line of FILE
# (bound to j); prints the value.
json()
{
	/usr/bin/python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
j = json.loads(lines[-1])
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

# exit codes 0..123 pass through
for code in 0 1 7 123; do
	guard -- sh -c "exit $code"
	check "exit: the command's status $code passes through" "contract" "got $GUARD_RC" test "$GUARD_RC" -eq $code
done
guard -- sh -c 'kill -USR1 $$'
check "exit: death by SIGUSR1 is 128+10" "contract" "got $GUARD_RC ($(last_output))" test "$GUARD_RC" -eq 138
guard -- sh -c 'kill -KILL $$'
check "exit: death by SIGKILL is 128+9" "contract" "got $GUARD_RC ($(last_output))" test "$GUARD_RC" -eq 137

# 124: timeout, and nothing left behind
guard --timeout 1 -- sh -c 'trap "" TERM; echo $$ >'"$WS"'/stubborn.pid; while :; do sleep 1; done'
pid=$(cat "$WS/stubborn.pid" 2>/dev/null)
check "timeout: exit 124 for a command that ignores SIGTERM" "contract" "got $GUARD_RC ($(last_output))" \
	test "$GUARD_RC" -eq 124
check "timeout: the process that ignored SIGTERM is gone" "supervisor kill (SIGKILL after grace)" \
	"${pid:+pid $pid is alive}${pid:-no pid was recorded: the command did not run}" eval '[ -n "$pid" ] && ! alive "$pid" sh'
rm -f "$WS/grandchild.pid"
guard --timeout 1 -- sh -c 'setsid sh -c "trap \"\" TERM HUP; echo \$\$ >'"$WS"'/grandchild.pid; while :; do sleep 1; done" & wait'
sleep 0.2
pid=$(cat "$WS/grandchild.pid" 2>/dev/null)
check "timeout: a setsid grandchild is killed too" "process tracking" "${pid:+pid $pid is alive}${pid:-no pid was recorded: the command did not run}" \
	eval '[ -n "$pid" ] && ! alive "$pid" sh'
[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
rm -f "$WS/grandchild.pid"
guard -- sh -c 'setsid sh -c "trap \"\" TERM HUP; echo \$\$ >'"$WS"'/grandchild.pid; exec sleep 100" & sleep 0.3'
sleep 0.2
pid=$(cat "$WS/grandchild.pid" 2>/dev/null)
check "exit: a setsid grandchild does not outlive a normal exit" "process tracking" "${pid:+pid $pid is alive}${pid:-no pid was recorded: the command did not run}" \
	eval '[ -n "$pid" ] && ! alive "$pid" sleep'
[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null

guard --timeout 9999 -- true
check "timeout: --timeout 9999 is clamped with a warning" "contract" "stderr: $(head -c 200 "$WS/.err")" \
	grep -q 'clamped to 600' "$WS/.err"
check "timeout: the clamped run still runs" "contract" "exit $GUARD_RC" test "$GUARD_RC" -eq 0

# 125: usage and configuration errors; the message names file:line
guard --no-such-option -- true
check "exit: an unknown option is 125" "contract" "got $GUARD_RC" test "$GUARD_RC" -eq 125
printf 'version = 1;\nlimits = {\n  timeout_s = ;\n};\n' >"$WS/bad.conf"
guard --config "$WS/bad.conf" -- true
check "exit: a bad config is 125" "contract" "got $GUARD_RC" test "$GUARD_RC" -eq 125
check "exit: the bad-config message names file:line" "contract" "stderr: $(head -c 200 "$WS/.err")" \
	grep -q "bad.conf:3" "$WS/.err"
guard --config "$WS/no-such.conf" -- true
check "exit: a missing config file is 125" "contract" "got $GUARD_RC" test "$GUARD_RC" -eq 125

# 126: blocked, with the rule and the reason on stderr, nothing run
rm -f "$WS/marker"
guard -- mount "$WS/marker"
check "blocked: mount is 126" "static check" "got $GUARD_RC" test "$GUARD_RC" -eq 126
check "blocked: the message names category/rule and reason" "static check" "stderr: $(head -c 200 "$WS/.err")" \
	grep -qx 'guard: blocked (system-modification/mount): Command contains blocked operation: mount' "$WS/.err"
check "blocked: nothing ran" "static check" "the marker exists" test ! -e "$WS/marker"
guard -c 'rm -rf /'
check "blocked: rm -rf / with the seed's wording" "static check" "exit $GUARD_RC, stderr: $(head -c 200 "$WS/.err")" \
	grep -qx 'guard: blocked (system-modification/rm-root): Command contains blocked operation: rm -rf /' "$WS/.err"
guard -- cat /etc/shadow
check "blocked: a path outside the allowed ones" "static check" "exit $GUARD_RC, stderr: $(head -c 200 "$WS/.err")" \
	grep -qx "guard: blocked (path): Path '/etc/shadow' is not in allowed paths" "$WS/.err"
(cd "$WS" && "$GUARDCTL" check --workspace "$WS" -- mount) >"$WS/.out" 2>"$WS/.err"
rc=$?
check "guardctl check: blocked is 126 with the same message" "contract" "exit $rc; $(head -c 200 "$WS/.err")" \
	eval '[ $rc -eq 126 ] && grep -q "guard: blocked (system-modification/mount)" "$WS/.err"'
(cd "$WS" && "$GUARDCTL" check --workspace "$WS" -c 'make && git status') >"$WS/.out" 2>"$WS/.err"
rc=$?
check "guardctl check: allowed is 0" "contract" "exit $rc; $(last_output)" test $rc -eq 0

# Runtime denials: one line on stderr each.
rm -f "$WS/marker"
guard -- "$T/atk-exec-static" execve "$FORBIDDEN" "$WS/marker"
check "denial: a runtime denial prints 'guard: denied execve ...'" "seccomp exec check" \
	"stderr: $(head -c 200 "$WS/.err")" grep -q '^guard: denied execve' "$WS/.err"

# Command-line policy reaches the runtime layers, not only the static check.
rm -f "$WS/marker"
guard --deny-run=helper -- "$T/atk-exec-static" execve "$INNOCENT" "$WS/marker"
check "flags: --deny-run=helper stops helper started at run time" "seccomp exec check (CLI rules)" \
	"it ran (exit $GUARD_RC)" test ! -e "$WS/marker"
# (a directory of its own: $OUTSIDE holds the guard's state, which no run may
# touch, and Landlock cannot let a command create files beside it)
mkdir -p "$OUTSIDE/flag-dir"
guard --allow-write="$OUTSIDE/flag-dir" -- "$T/atk-write-static" create "$OUTSIDE/flag-dir/allowed-by-flag" "$WS"
check "flags: --allow-write=DIR lets the command write there" "Landlock write set (CLI)" \
	"it could not (exit $GUARD_RC; $(last_output))" test -s "$OUTSIDE/flag-dir/allowed-by-flag"

# --monitor records and blocks nothing.
rm -f "$WS/marker"
guard --monitor -- "$T/atk-exec-static" execve "$FORBIDDEN" "$WS/marker"
check "monitor: the forbidden program runs and the violation is reported" "monitor mode" \
	"exit $GUARD_RC; $(last_output)" eval '[ -s "$WS/marker" ] && grep -qi "monitor\|would deny" "$WS/.err"'

# --json: one result object
guard --json -- sh -c 'echo hello; echo oops >&2; exit 3'
check "json: exit code 3 passes through with --json" "contract" "got $GUARD_RC" test "$GUARD_RC" -eq 3
for field in run_id exit_code signal duration_s timed_out stdout stderr dropped_bytes truncated denials; do
	check "json: the result has '$field'" "contract" "$(head -c 300 "$WS/.out")" \
		test -n "$(json "$WS/.out" "j['$field']")"
done
check "json: exit_code is 3" "contract" "$(json "$WS/.out" "j['exit_code']")" \
	test "$(json "$WS/.out" "j['exit_code']")" = 3
check "json: stdout and stderr are captured" "contract" "$(head -c 300 "$WS/.out")" \
	test "$(json "$WS/.out" "j['stdout'] == 'hello\\n' and j['stderr'] == 'oops\\n'")" = True
guard --json -- "$T/atk-exec-static" execve "$FORBIDDEN" "$WS/marker"
check "json: a runtime denial is listed" "seccomp exec check" "$(head -c 300 "$WS/.out")" \
	test "$(json "$WS/.out" "len(j['denials']) > 0")" = True
guard --json -- mount
check "json: a block is a result object with verdict block" "contract" "$(head -c 300 "$WS/.out")" \
	test "$(json "$WS/.out" "j['verdict'] + ' ' + str(j['exit_code'])")" = "block 126"

# --log-dir
guard --log-dir "$WS/logs" -- sh -c 'echo to-out; echo to-err >&2'
run_dir=$(find "$WS/logs" -mindepth 1 -maxdepth 1 -type d | head -n1)
check "log-dir: DIR/RUN_ID/ exists" "contract" "nothing under $WS/logs" test -n "$run_dir"
check "log-dir: stdout.log holds stdout" "contract" "$(cat "$run_dir/stdout.log" 2>&1 | head -c 100)" \
	grep -qx to-out "$run_dir/stdout.log"
check "log-dir: stderr.log holds stderr" "contract" "$(cat "$run_dir/stderr.log" 2>&1 | head -c 100)" \
	grep -qx to-err "$run_dir/stderr.log"
check "log-dir: result.json is a result object" "contract" "$(head -c 200 "$run_dir/result.json" 2>&1)" \
	test "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["exit_code"])' "$run_dir/result.json" 2>/dev/null)" = 0
check "log-dir: the output still passes through" "contract" "$(last_output)" grep -qx to-out "$WS/.out"

# --output-limit 1K
guard --output-limit 1K -- "$T/atk-limits" flood 1000000
out=$(stat -c %s "$WS/.out")
err=$(stat -c %s "$WS/.err")
check "output: --output-limit 1K keeps at most 1 KiB (+ notice)" "supervisor output cap" \
	"$out bytes out, $err bytes err" test $((out + err)) -le $((1024 + 512)) -a "$out" -gt 0
check "output: the notice says how many bytes were dropped" "supervisor output cap" \
	"stderr: $(head -c 200 "$WS/.err")" grep -qi 'dropped\|truncated' "$WS/.err"

# Environment: the guard's own variables and the deny-env patterns are gone.
GUARD_SECRET=x GITHUB_TOKEN=ghp_cgtest AWS_SECRET_ACCESS_KEY=cgtest KEEP_ME=yes guard -- env
check "env: GITHUB_TOKEN and AWS_SECRET_ACCESS_KEY are removed" "environment filter" "$(grep -E 'TOKEN|AWS' "$WS/.out")" \
	eval '! grep -qE "^(GITHUB_TOKEN|AWS_SECRET_ACCESS_KEY|GUARD_SECRET)=" "$WS/.out"'
check "env: other variables are kept" "environment filter" "KEEP_ME missing" grep -qx KEEP_ME=yes "$WS/.out"

# HOME: one the run may not read (root's) is replaced by one of the user's
# own in /tmp for this workspace and ticket, kept between their runs; a
# run of another ticket gets another; if the name is not a private
# directory of the user's, a HOME for the run alone is made and removed;
# --home DIR names another; a HOME the run may read is kept.
# (guard gives every run a ticket of its own; these share one)
HOME=/root guard --ticket cg-contract-home -- sh -c 'echo "$HOME"; echo "state $$" >"$HOME/.cg-contract-state" && echo wrote'
shared=$(head -n1 "$WS/.out")
check "home: HOME=/root becomes a private one in /tmp" "guard-exec HOME" "$(last_output)" \
	eval 'case "$shared" in /tmp/commandguard-home-$(id -u)-*) test -d "$shared" ;; *) false ;; esac'
check "home: the command can keep state in it" "guard-exec HOME" "$(last_output)" grep -qx wrote "$WS/.out"
HOME=/root guard --ticket cg-contract-home -- sh -c 'cat "$HOME/.cg-contract-state"'
check "home: the state is there for the next run" "guard-exec HOME" "$(last_output)" grep -q '^state ' "$WS/.out"
HOME=/root guard --ticket cg-contract-other -- sh -c 'echo "$HOME"; cat "$HOME/.cg-contract-state" 2>&1'
check "home: a run of another ticket gets another HOME" "guard-exec HOME" "$(last_output)" \
	eval '! grep -qx "$shared" "$WS/.out" && ! grep -q "^state " "$WS/.out"'
other=$(head -n1 "$WS/.out")
rm -rf "$shared/.cg-contract-state" "$other"
HOME=/root guard --ticket cg-contract-home --user 65534 -- sh -c 'echo "$HOME"'
nobody_home=$(head -n1 "$WS/.out")
if [ -d "$nobody_home" ]; then
	chown 0:0 "$nobody_home"   # no longer user 65534's: must not be used for it
	HOME=/root guard --ticket cg-contract-home --user 65534 -- sh -c 'echo "$HOME"'
	private=$(head -n1 "$WS/.out")
	check "home: a HOME in /tmp that is not the user's is not used" "guard-exec HOME" "$(last_output)" \
		eval 'case "$private" in /tmp/commandguard-home.*) true ;; *) false ;; esac'
	check "home: ... and the HOME made for the run alone is gone after it" "guard-exec HOME" \
		"$private still exists" test ! -e "$private"
	rm -rf "$nobody_home"
else
	fail "home: a HOME in /tmp that is not the user's is not used" "guard-exec HOME" \
		"set-up: the run as 65534 got no HOME in /tmp ($(last_output))"
fi
HOME=/root guard --home "$WS/home" -- sh -c 'echo "$HOME"; echo kept >"$HOME/state"'
check "home: --home DIR is the command's HOME" "guard-exec HOME" "$(last_output)" grep -qx "$WS/home" "$WS/.out"
check "home: --home DIR stays after the run" "guard-exec HOME" "no $WS/home/state" grep -qx kept "$WS/home/state"
guard --home /etc/cg-home-test -- true
check "home: --home outside the writable paths is 125" "contract" "got $GUARD_RC" test "$GUARD_RC" -eq 125
check "home: ... and makes nothing there" "contract" "/etc/cg-home-test exists" test ! -e /etc/cg-home-test
HOME="$WS" guard -- sh -c 'echo "$HOME"'
check "home: a HOME the run may read is kept" "guard-exec HOME" "$(last_output)" grep -qx "$WS" "$WS/.out"
"$BUILDDIR/cli/guardctl" check --home "$WS/home" -- true >/dev/null 2>"$WS/.err"
check "home: guardctl check refuses run-only options" "contract" "exit $? $(head -c 200 "$WS/.err")" \
	grep -q 'guard-exec runs only' "$WS/.err"

finish
