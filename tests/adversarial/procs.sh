#!/bin/bash
# procs.sh - attacks on the supervisor and on processes outside the run:
# tracing and killing the supervisor, signalling an outside process,
# daemonizing to outlive the run, new user namespaces.  Judged by effect:
# the outside process is alive, the daemon is gone, the forbidden program
# did not run after the attempt, no new namespace.
. "$(dirname "$0")/lib.sh"

MK=$WS/marker

# A process the run did not start (a fresh one for each attack).
new_victim()
{
	sleep 1000 &
	VICTIM=$!
	disown $VICTIM
	CG_CLEANUP+=("kill $VICTIM")
}
new_victim

# Tracing the supervisor; killing it.  After the attempt the attacker
# tries to start the forbidden program: the guard must still hold, and
# guard-exec must report the run itself (not die of SIGKILL: 137).
FIRST_VICTIM=$VICTIM
for mode in ptrace-parent kill-parent; do
	rm -f "$MK"
	guard -- "$T/atk-proc" $mode "$FORBIDDEN" "$MK"
	name="procs: $mode, then exec the forbidden program"
	layer="seccomp (ptrace refused), Landlock signal scope / supervisor kill check"
	if grep -q TRACED "$WS/.out"; then
		fail "$name" "$layer" "the supervisor was traced"
	elif [ "$GUARD_RC" -eq 137 ]; then
		fail "$name" "$layer" "guard-exec died of SIGKILL"
	elif [ "$(marker_count "$MK")" -ne 0 ]; then
		fail "$name" "$layer" "the forbidden program ran after the attack"
	elif ! grep -q "$mode: failed" "$WS/.out"; then
		fail "$name" "$layer" "the attack did not report a refusal (exit $GUARD_RC; $(last_output))"
	else
		ok "$name ($(grep -o "$mode: failed: [A-Z]*" "$WS/.out"))" "$layer"
	fi
done

# Signals to a process outside the run: by the C program, by the shell's
# kill builtin inside a script the static check cannot read.
new_victim
guard -- "$T/atk-proc" kill "$VICTIM"
check "procs: kill(SIGKILL) of a process outside the run" "Landlock signal scope / supervisor kill check" \
	"the outside process died (exit $GUARD_RC)" alive "$VICTIM" "sleep 1000"
for mode in pidfd-kill tgkill; do
	new_victim
	guard -- "$T/atk-proc" $mode "$VICTIM"
	check "procs: $mode of a process outside the run" "Landlock signal scope / supervisor kill check" \
		"the outside process died (exit $GUARD_RC; $(last_output))" alive "$VICTIM" "sleep 1000"
done
new_victim
printf 'kill -9 %s\n' "$VICTIM" >"$WS/kill.sh"
guard -- sh "$WS/kill.sh"
check "procs: kill -9 from a shell script" "Landlock signal scope / supervisor kill check" \
	"the outside process died (exit $GUARD_RC)" alive "$VICTIM" "sleep 1000"

# kill(0): the process group the command was born in must not include
# guard-exec or its caller.  A shell in a session of its own runs
# guard-exec in its process group and records any SIGTERM it receives.
rm -f "$WS/hit"
setsid bash -c 'trap "echo HIT >>\"$1/hit\"" TERM
	cd "$1" && timeout --foreground -k 5 60 "$2" --workspace "$1" -- "$3/atk-proc" kill-group \
		>"$1/.out" 2>"$1/.err" </dev/null
	echo "rc=$?" >>"$1/.out"' _ "$WS" "$GUARD_EXEC" "$T"
check "procs: kill(0, SIGTERM) does not reach guard-exec's process group" "own process group / signal scope" \
	"guard-exec's group was hit ($(last_output))" test ! -e "$WS/hit" -a -s "$WS/.out"

# kill(-1): run only inside a PID namespace of our own, so that a broken
# guard kills nothing but the test.
require "PID namespaces (unshare --pid --fork --mount-proc)" unshare --pid --fork --mount-proc true
unshare --pid --fork --mount-proc bash -c '
	sleep 1000 & victim=$!
	cd "$1" && timeout -k 5 60 "$2" --workspace "$1" -- "$3/atk-proc" kill-all >"$1/.out" 2>"$1/.err" </dev/null
	echo "rc=$?" >>"$1/.out"
	if kill -0 $victim 2>/dev/null; then echo VICTIM-ALIVE >>"$1/.out"; fi
	kill $victim' _ "$WS" "$GUARD_EXEC" "$T"
check "procs: kill(-1, SIGKILL) (inside a test PID namespace)" "Landlock signal scope / supervisor kill check" \
	"a process outside the run died ($(last_output))" grep -q VICTIM-ALIVE "$WS/.out"

# Daemonizing: double fork + setsid, ignore SIGTERM/SIGHUP.  Once
# guard-exec returns the daemon must be gone.
rm -f "$WS/daemon.pid"
unguarded "$T/atk-proc" daemon "$WS/daemon.pid"
sleep 0.5
pid=$(cat "$WS/daemon.pid" 2>/dev/null)
if [ -z "$pid" ] || ! alive "$pid" atk-proc; then
	fail "procs: a double-forked setsid daemon outlives the run" "process tracking" \
		"baseline: the daemon did not start without the guard"
else
	kill -9 "$pid"
	rm -f "$WS/daemon.pid"
	guard -- "$T/atk-proc" daemon "$WS/daemon.pid"
	pid=$(cat "$WS/daemon.pid" 2>/dev/null)
	if [ -z "$pid" ]; then
		fail "procs: a double-forked setsid daemon outlives the run" "process tracking" \
			"the daemon never wrote its pid (exit $GUARD_RC; $(last_output))"
	elif alive "$pid" atk-proc; then
		kill -9 "$pid"
		fail "procs: a double-forked setsid daemon outlives the run" "process tracking" \
			"pid $pid is still alive after guard-exec returned"
	else
		ok "procs: a double-forked setsid daemon is gone when guard-exec returns" \
			"process tracking (subreaper / cgroup / PID namespace)"
	fi
fi

# The daemon's parent stays alive (ignoring SIGTERM), so the daemon is a
# grandchild, not an orphan, when the command's main process exits.
rm -f "$WS/deep.pid"
guard -- "$T/atk-proc" daemon-deep "$WS/deep.pid"
pid=$(cat "$WS/deep.pid" 2>/dev/null)
left=$(pgrep -f "$WS/t/atk-proc daemon-deep" | tr '\n' ' ')
if [ -z "$pid" ]; then
	fail "procs: a daemon under a living middle process" "process tracking" "no pid written ($(last_output))"
elif alive "$pid" atk-proc || [ -n "$left" ]; then
	pkill -9 -f "$WS/t/atk-proc daemon-deep"
	fail "procs: a daemon under a living middle process" "process tracking" "still alive: $pid $left"
else
	ok "procs: a daemon under a living middle process is gone when guard-exec returns" "process tracking"
fi

# A fork-and-exit runner: its pid changes all the time, so it is judged
# by its log growing after guard-exec returned.
# (pkill cannot stop such a runner either: the baseline's stops itself when
# told to by a file.)
unguarded "$T/atk-proc" runner "$WS/base-runner.pid"
sleep 0.3
hops=$(marker_count "$WS/base-runner.pid")
sleep 0.3
later=$(marker_count "$WS/base-runner.pid")
touch "$WS/base-runner.pid.stop"
[ "$later" -gt "$hops" ] ||
	fail "procs: a fork-and-exit runner" "process tracking" "baseline: the runner does not keep running without the guard"
rm -f "$WS/runner.pid"
guard -- "$T/atk-proc" runner "$WS/runner.pid"
hops=$(marker_count "$WS/runner.pid")
sleep 0.5
later=$(marker_count "$WS/runner.pid")
if [ "$hops" -eq 0 ]; then
	fail "procs: a fork-and-exit runner" "process tracking" "the runner never ran ($(last_output))"
elif [ "$later" -gt "$hops" ]; then
	touch "$WS/runner.pid.stop"
	fail "procs: a fork-and-exit runner outlives the run" "process tracking" "$((later - hops)) hops after guard-exec returned"
else
	ok "procs: a fork-and-exit runner is gone when guard-exec returns ($hops hops before)" "process tracking"
fi

# The supervisor's memory.
guard -- "$T/atk-proc" parent-mem
if grep -q PARENT-MEM-OPEN "$WS/.out"; then
	fail "procs: open /proc/PPID/mem of the supervisor" "no CAP_SYS_PTRACE, seccomp/Landlock" "it opened"
elif ! grep -q "parent-mem: failed" "$WS/.out"; then
	fail "procs: open /proc/PPID/mem of the supervisor" "no CAP_SYS_PTRACE" "did not run ($(last_output))"
else
	ok "procs: open /proc/PPID/mem of the supervisor fails ($(grep -o 'failed: [A-Z]*' "$WS/.out"))" \
		"ptrace access mode (caps dropped), supervisor open check"
fi

# File descriptors: none of the guard's own (the seccomp listener above
# all), and none that the caller left open (a CI agent's secret file).
SECRET=/root/cg-secret-$$
TOKEN=CG-SECRET-$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >"$SECRET"
CG_CLEANUP+=("rm -f '$SECRET'")
exec 7<"$SECRET"
guard -- "$T/atk-proc" fds
exec 7<&-
if grep -q "$TOKEN" "$WS/.out"; then
	fail "procs: an fd the caller left open (7 -> a secret) reaches the command" "fd hygiene (close_range)" \
		"the secret was read through it"
elif grep -q LEAKED-FD "$WS/.out"; then
	fail "procs: open fds above 2 in the command" "fd hygiene (close_range)" "$(grep LEAKED-FD "$WS/.out" | tr '\n' ' ' | head -c 300)"
else
	ok "procs: no fd above 2 reaches the command (not the caller's, not the guard's)" "fd hygiene"
fi

# The supervisor dies (kill -9 from outside, an OOM kill): the command
# must not go on unguarded.  It beats and tries the forbidden program
# every 50 ms (in the main process, or in a setsid grandchild while the
# main process waits); after the kill the beats must stop and the program
# never run.
for mode in persist persist-deep; do
	rm -f "$WS/beat" "$MK"
	(cd "$WS" && exec "$GUARD_EXEC" --workspace "$WS" --ticket "adv-$$-$mode" -- \
		"$T/atk-proc" $mode "$WS/beat" "$FORBIDDEN" "$MK") >/dev/null 2>&1 </dev/null &
	sup=$!
	for i in $(seq 50); do
		[ "$(marker_count "$WS/beat")" -ge 3 ] && break
		sleep 0.1
	done
	kill -9 "$sup"
	wait "$sup" 2>/dev/null
	sleep 0.5
	b1=$(marker_count "$WS/beat")
	sleep 0.5
	b2=$(marker_count "$WS/beat")
	left=$(pgrep -f "$WS/t/atk-proc $mode" | tr '\n' ' ')
	name="procs: the supervisor is killed ($mode)"
	if [ "$b1" -lt 3 ]; then
		fail "$name" "fail closed" "the command never got going ($b1 beats)"
	elif [ "$(marker_count "$MK")" -ne 0 ]; then
		pkill -9 -f "$WS/t/atk-proc $mode"
		fail "$name" "fail closed" "the forbidden program ran"
	elif [ "$b2" -gt "$b1" ] || [ -n "$left" ]; then
		pkill -9 -f "$WS/t/atk-proc $mode"
		fail "$name" "PR_SET_PDEATHSIG, process tracking" \
			"the command outlived it (beats $b1 -> $b2; pids $left; the forbidden program did not run)"
	else
		ok "$name: the command dies with it ($b1 beats, then none)" \
			"PR_SET_PDEATHSIG / listener closed: fail closed"
	fi
done

# Leaving the run's cgroups (the process limit, the kill at the end):
# write our pid into the root cgroups of pids and of the v2 hierarchy.
cat >"$WS/cgroup.sh" <<'END'
grep -E '^[0-9]+:(pids:|:)' /proc/self/cgroup | sed 's/^/before /'
echo $$ > /sys/fs/cgroup/pids/cgroup.procs
echo $$ > /sys/fs/cgroup/unified/cgroup.procs
grep -E '^[0-9]+:(pids:|:)' /proc/self/cgroup | sed 's/^/after /'
END
guard -- sh "$WS/cgroup.sh"
before=$(sed -n 's/^before //p' "$WS/.out")
after=$(sed -n 's/^after //p' "$WS/.out")
if [ -z "$before" ]; then
	fail "procs: move the run into the root cgroup" "Landlock (no writes to /sys)" "did not run ($(last_output))"
elif [ "$before" != "$after" ] || printf '%s\n' "$after" | grep -qE ':/$'; then
	fail "procs: move the run into the root cgroup" "Landlock (no writes to /sys)" "cgroups now: $after"
else
	ok "procs: the run cannot move itself out of its cgroups" "Landlock (no writes to /sys)"
fi

# The shim's report socket: the shim lives in the command's process, so
# the command can send the same datagrams.  One forged denial record, and
# a flood of 20000 (each becomes a denial in memory, in the result and in
# the audit log).
json_denials()
{
	/usr/bin/python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
j = json.loads(lines[-1])
print(len(j["denials"]), sum(sys.argv[2] in d.get("reason", "") for d in j["denials"]))' "$WS/.out" "$1" 2>/dev/null
}
FORGE_TOKEN=CG-FORGED-$RANDOM
guard --json -- "$T/atk-report" forge "$FORGE_TOKEN"
set -- $(json_denials "$FORGE_TOKEN")
if [ -z "${1:-}" ]; then
	fail "procs: a forged shim report" "supervisor" "no result object ($(last_output))"
elif [ "${2:-0}" -gt 0 ]; then
	gap "procs: a forged denial record sent to the shim's report socket is in the result" \
		"none (the shim reports from inside the command's process)" "the forged record was recorded"
else
	ok "procs: a forged shim report is not recorded" "supervisor"
fi
guard --json -- "$T/atk-report" flood 20000
sent=$(grep -o 'flood: ok ([0-9]*)' "$WS/.out" | tr -dc 0-9)
set -- $(json_denials /flood)
if [ -z "${1:-}" ]; then
	fail "procs: a flood of 20000 shim reports" "supervisor" "no result object (exit $GUARD_RC)"
elif [ "${sent:-0}" -ge 20000 ] && [ "$1" -ge 20000 ]; then
	fail "procs: a flood of 20000 forged shim reports" "supervisor (a cap on reports)" \
		"all $1 were recorded: the supervisor's memory, the result and the audit log grow without bound"
else
	ok "procs: a flood of forged shim reports is bounded ($1 recorded of ${sent:-?})" "supervisor (a cap on reports)"
fi

# New namespaces.
for mode in unshare-user clone-user clone3-user unshare-net; do
	guard -- "$T/atk-proc" $mode
	if grep -q NEWNS "$WS/.out"; then
		fail "procs: $mode" "seccomp (namespaces refused)" "a new namespace was made ($(last_output))"
	elif ! grep -q "$mode: failed" "$WS/.out"; then
		fail "procs: $mode" "seccomp (namespaces refused)" "the attack did not run (exit $GUARD_RC; $(last_output))"
	else
		ok "procs: $mode fails ($(grep -o "$mode: failed: [A-Z]*" "$WS/.out"))" "seccomp (namespaces refused)"
	fi
done
OUTER_NS=$(readlink /proc/self/ns/user)
printf 'unshare -U readlink /proc/self/ns/user\n' >"$WS/userns.sh"
guard -- sh "$WS/userns.sh"
if grep -q 'user:\[' "$WS/.out" && ! grep -qF "$OUTER_NS" "$WS/.out"; then
	fail "procs: unshare -U (in a script)" "seccomp (namespaces refused)" "a new user namespace was made"
else
	ok "procs: unshare -U (in a script) makes no user namespace" "seccomp (namespaces refused)"
fi

check "procs: the first outside process survived the ptrace and kill-parent attacks" "all" "it died" \
	alive "$FIRST_VICTIM" "sleep 1000"
finish
