#!/bin/bash
# limits.sh - resource abuse: an output flood, a fork bomb, memory and
# file-size limits.  Judged by what reached us and what is left.
. "$(dirname "$0")/lib.sh"
require "a process-count layer for the fork bomb (cgroup pids; layers: $CG_LAYERS)" \
	eval 'case $CG_LAYERS in *pids*) true ;; *) false ;; esac'

# 100 MB on stdout: at most 1 MiB passes, plus a one-line notice.
guard -- "$T/atk-limits" flood 104857600
out=$(stat -c %s "$WS/.out")
err=$(stat -c %s "$WS/.err")
if [ "$GUARD_RC" -eq 124 ] || [ "$GUARD_RC" -eq 125 ]; then
	fail "limits: 100 MB output flood" "supervisor output cap" "guard-exec exited $GUARD_RC"
elif [ $((out + err)) -gt $((1048576 + 512)) ]; then
	fail "limits: 100 MB output flood" "supervisor output cap" "$out bytes on stdout, $err on stderr"
elif [ "$out" -lt 1000000 ]; then
	fail "limits: 100 MB output flood" "supervisor output cap" "only $out bytes passed: the cap is not 1 MiB"
else
	ok "limits: 100 MB output flood capped ($out bytes out, $err err: $(head -c 160 "$WS/.err" | tr '\n' ' '))" \
		"supervisor output cap"
fi

# Fork bomb: each process forks forever and logs one line per child it
# made; the tree must stop at the process limit (100), guard-exec must end
# it at the timeout, and nothing may be left.
rm -f "$WS/bomb.log"
start=$(date +%s.%N)
guard --timeout 5 -- "$T/atk-limits" forkbomb "$WS/bomb.log"
made=$(marker_count "$WS/bomb.log")
left=$(pgrep -c -f "$WS/t/atk-limits forkbomb" || true)
if [ "$made" -gt 100 ]; then
	fail "limits: fork bomb" "cgroup pids / RLIMIT_NPROC" "$made processes were made (limit 100)"
elif [ "$left" -ne 0 ]; then
	pkill -9 -f "$WS/t/atk-limits forkbomb"
	fail "limits: fork bomb" "process tracking" "$left bomb processes survived guard-exec"
elif [ "$GUARD_RC" -ne 124 ]; then
	fail "limits: fork bomb" "timeout" "guard-exec exited $GUARD_RC, expected 124 (timed out)"
else
	ok "limits: fork bomb contained ($made children, none left, exit 124 after $(echo "$(date +%s.%N) - $start" | bc | cut -c1-4) s)" \
		"cgroup pids / RLIMIT_NPROC, timeout"
fi

# A setsid grandchild keeps stdout open and floods it after the main
# process exits: guard-exec must neither wait for the pipe's end (its own
# --timeout 30 would say 124) nor leave the flooder behind.
cat >"$WS/flood.sh" <<'END'
setsid sh -c 'trap "" TERM HUP; echo $$ > "$1"; while :; do echo CG-FLOOD-LINE; done' _ "$1" &
sleep 0.3
exit 0
END
rm -f "$WS/flooder.pid"
guard --timeout 30 -- sh "$WS/flood.sh" "$WS/flooder.pid"
pid=$(cat "$WS/flooder.pid" 2>/dev/null)
out=$(stat -c %s "$WS/.out")
if [ -z "$pid" ]; then
	fail "limits: a setsid grandchild floods the pipe after the main process exits" "process tracking" \
		"the flooder never started ($(last_output))"
elif alive "$pid" sh; then
	kill -9 "$pid"
	fail "limits: a setsid grandchild floods the pipe after the main process exits" "process tracking" \
		"the flooder (pid $pid) is still alive"
elif [ "$GUARD_RC" -ne 0 ]; then
	fail "limits: a setsid grandchild floods the pipe after the main process exits" "process tracking, output" \
		"guard-exec exited $GUARD_RC, not the command's 0 (did it wait for the pipe?)"
elif [ "$out" -gt $((1048576 + 512)) ]; then
	fail "limits: a setsid grandchild floods the pipe after the main process exits" "output cap" "$out bytes"
else
	ok "limits: a setsid grandchild flooding the pipe after the main process exits is gone ($out bytes out)" \
		"process tracking, output cap"
fi

# 50000 denied calls: the guard's own denial lines go to its stderr, past
# the output cap; they must stay bounded too.
guard -- "$T/atk-net-race" udp 50000 10.200.0.9 10.200.0.9 9
err=$(stat -c %s "$WS/.err")
if ! grep -q 'tries=50000' "$WS/.out"; then
	fail "limits: 50000 denied calls" "supervisor" "did not run ($(last_output))"
elif [ "$err" -gt $((1048576 + 262144)) ]; then
	fail "limits: 50000 denied calls flood guard-exec's stderr" "supervisor (a cap on denial lines)" "$err bytes"
else
	ok "limits: 50000 denied calls leave $err bytes of denial lines" "supervisor (a cap on denial lines)"
fi

# Memory: allocating 2 GiB must fail or be killed (512 MiB limit).
unguarded "$T/atk-limits" memory 2147483648
if ! grep -q ALLOCATED-ALL "$WS/.out"; then
	fail "limits: allocate 2 GiB" "RLIMIT_AS / memory cgroup" "baseline: 2 GiB cannot be allocated even without the guard"
else
	guard -- "$T/atk-limits" memory 2147483648
	if grep -q ALLOCATED-ALL "$WS/.out"; then
		fail "limits: allocate 2 GiB" "RLIMIT_AS / memory cgroup" "all 2 GiB were allocated"
	elif [ "$GUARD_RC" -eq 125 ] || [ "$GUARD_RC" -eq 124 ]; then
		fail "limits: allocate 2 GiB" "RLIMIT_AS / memory cgroup" "guard-exec exited $GUARD_RC"
	else
		ok "limits: allocating 2 GiB fails (exit $GUARD_RC; $(head -c 80 "$WS/.out" | tr '\n' ' '))" \
			"RLIMIT_AS / memory cgroup"
	fi
fi

# File size: writing 20 MiB stops at 10 MiB.
unguarded "$T/atk-limits" fsize "$WS/big" 20971520
size=$(stat -c %s "$WS/big" 2>/dev/null || echo 0)
if [ "$size" -ne 20971520 ]; then
	fail "limits: write 20 MiB to a file" "RLIMIT_FSIZE" "baseline: only $size bytes without the guard"
else
	rm -f "$WS/big"
	guard -- "$T/atk-limits" fsize "$WS/big" 20971520
	size=$(stat -c %s "$WS/big" 2>/dev/null || echo 0)
	if [ "$size" -gt 10485760 ]; then
		fail "limits: write 20 MiB to a file" "RLIMIT_FSIZE" "the file reached $size bytes"
	elif [ "$size" -eq 0 ]; then
		fail "limits: write 20 MiB to a file" "RLIMIT_FSIZE" "nothing was written: the attack did not run (exit $GUARD_RC; $(last_output))"
	else
		ok "limits: writing 20 MiB stops at $size bytes ($(head -c 60 "$WS/.out" | tr '\n' ' '))" "RLIMIT_FSIZE"
	fi
	rm -f "$WS/big"
fi

finish
