#!/bin/bash
# files.sh - reading secrets and writing outside the allowed paths, by every
# path trick.  Judged by effect: the secret's content is not in the output;
# the file outside did not appear or change.
. "$(dirname "$0")/lib.sh"

# Two secrets: the real /etc/shadow (its first line), and our own file
# under /root with a random token.
SECRET=/root/cg-secret-$$
TOKEN=CG-SECRET-$RANDOM$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >"$SECRET"
chmod 600 "$SECRET"
CG_CLEANUP+=("rm -f '$SECRET'")
SHADOW_LINE=$(head -n1 /etc/shadow)
require "a non-empty /etc/shadow" test -n "$SHADOW_LINE"

# leaked TEXT: TEXT appears in the last run's stdout or stderr.
leaked()
{
	grep -qF -- "$1" "$WS/.out" "$WS/.err"
}

# read_attack NAME LAYER SECRET-FILE SECRET-TEXT COMMAND...
read_attack()
{
	local name=$1 layer=$2 file=$3 text=$4
	shift 4
	rm -f "$WS/innocent.txt"
	unguarded "$@"
	if ! leaked "$text"; then
		fail "$name" "$layer" "baseline: the secret was not read even without the guard ($(last_output))"
		return
	fi
	rm -f "$WS/innocent.txt"
	guard_hidden "$@"
	if leaked "$text"; then
		fail "$name" "$layer" "the content of $file was printed (exit $GUARD_RC)"
	elif [ "$GUARD_RC" -eq 125 ] || [ "$GUARD_RC" -eq 124 ]; then
		fail "$name" "$layer" "guard-exec exited $GUARD_RC: the attack was never really tried ($(last_output))"
	else
		ok "$name [stopped by: $(stopped_by)]" "$layer"
	fi
}

# Control: a file in the workspace is readable under the guard.
printf 'CG-PLAIN\n' >"$WS/plain.txt"
guard -- "$T/atk-read" open "$WS/plain.txt" "$WS"
check "control: a workspace file is readable under the guard" "all layers allow" \
	"it was not (exit $GUARD_RC; $(last_output))" grep -q CG-PLAIN "$WS/.out"

for mode in open openat2 symlink hardlink procroot procparent dotdot handle; do
	case $mode in
	open | dotdot) layer="Landlock read set, seccomp open check (static check for the path)" ;;
	openat2) layer="Landlock read set, seccomp openat2 check" ;;
	symlink) layer="Landlock (resolved path), seccomp open check" ;;
	hardlink) layer="Landlock (link refused: no write into /etc or /root), protected_hardlinks" ;;
	procroot | procparent) layer="Landlock read set, seccomp open check (/proc/PID/root)" ;;
	handle) layer="no CAP_DAC_READ_SEARCH, seccomp (open_by_handle_at)" ;;
	esac
	read_attack "read /etc/shadow: $mode (dynamic)" "preload shim, then $layer" /etc/shadow "$SHADOW_LINE" \
		"$T/atk-read" $mode /etc/shadow "$WS"
	read_attack "read /etc/shadow: $mode (static)" "$layer" /etc/shadow "$SHADOW_LINE" \
		"$T/atk-read-static" $mode /etc/shadow "$WS"
	read_attack "read $SECRET: $mode (static)" "$layer" "$SECRET" "$TOKEN" \
		"$T/atk-read-static" $mode "$SECRET" "$WS"
done
read_attack "read /etc/shadow: cat (a plain program)" "Landlock read set, seccomp open check" /etc/shadow "$SHADOW_LINE" \
	cat /etc/shadow
read_attack "read /etc/shadow: sh -c 'cat < /etc/shadow'" "static check (redirection), then Landlock" \
	/etc/shadow "$SHADOW_LINE" sh -c 'cat < /etc/shadow'
printf 'cat /etc/shadow\n' >"$WS/cat.sh"
read_attack "read /etc/shadow: a script file that cats it" "Landlock read set, seccomp open check" \
	/etc/shadow "$SHADOW_LINE" sh "$WS/cat.sh"

# Path spellings the static check must see through (it resolves .. and
# symlinks before it compares), and the runtime behind it.
ln -sf /etc/shadow "$WS/shadow-link"
for p in /tmp/../etc/shadow //etc//shadow /etc/./shadow /dev/fd/../../etc/shadow \
	/workspace/../etc/shadow "$WS/shadow-link" "$WS/../../../etc/shadow"; do
	(cd "$WS" && "$GUARDCTL" check --workspace "$WS" -- cat "$p") >/dev/null 2>"$WS/.err"
	rc=$?
	guard -- cat "$p"
	if leaked "$SHADOW_LINE"; then
		fail "static path: cat $p" "static check, then Landlock" "/etc/shadow was printed"
	elif [ "$rc" -ne 126 ]; then
		fail "static path: cat $p" "static check" "guardctl check exited $rc (the runtime stopped it)"
	else
		ok "static path: cat $p is blocked before it runs" "static check (path)"
	fi
done

# Environments of processes outside the run: guard-exec's own (it still
# holds the variables that were removed from the command's), an outside
# process's, and another guarded run's (same uid, same dropped caps: the
# kernel's ptrace access check alone would let it through).
ENV_TOKEN=CG-ENV-$RANDOM$RANDOM
GITHUB_TOKEN=$ENV_TOKEN guard_hidden "$T/atk-read-static" parent environ "$WS"
if grep -qF "$ENV_TOKEN" "$WS/.out" "$WS/.err"; then
	fail "read /proc/PPID/environ (guard-exec's environment, with GITHUB_TOKEN)" \
		"Landlock ptrace scope, supervisor /proc check" "the token was printed"
elif ! grep -q 'open: failed' "$WS/.out"; then
	fail "read /proc/PPID/environ" "supervisor /proc check" "the attack did not run ($(last_output))"
else
	ok "read /proc/PPID/environ (guard-exec's environment, with GITHUB_TOKEN) fails" \
		"Landlock ptrace scope, supervisor /proc check"
fi
WS2=$(mktemp -d /var/tmp/cg-adv-ws2.XXXXXX)
CG_CLEANUP+=("rm -rf '$WS2'")
tag=29.$$
(cd "$WS2" && CG_OTHER_RUN=$ENV_TOKEN exec timeout 60 "$GUARD_EXEC" --workspace "$WS2" -- sleep "$tag") \
	>/dev/null 2>&1 </dev/null &
other=$!
CG_CLEANUP+=("kill $other")
for i in $(seq 50); do
	pid=$(pgrep -x -f "sleep $tag")
	[ -n "$pid" ] && break
	sleep 0.1
done
if [ -z "$pid" ]; then
	fail "read another guarded run's /proc/PID/environ" "setup" "the other run did not start"
else
	unguarded "$T/atk-read-static" open "/proc/$pid/environ" "$WS"
	if ! grep -qF "$ENV_TOKEN" "$WS/.out"; then
		fail "read another guarded run's /proc/PID/environ" "Landlock ptrace scope" \
			"baseline: not readable even without the guard ($(last_output))"
	else
		guard_hidden "$T/atk-read-static" open "/proc/$pid/environ" "$WS"
		if grep -qF "$ENV_TOKEN" "$WS/.out" "$WS/.err"; then
			fail "read another guarded run's /proc/PID/environ" "Landlock ptrace scope, supervisor /proc check" \
				"the other run's variable was printed"
		else
			ok "read another guarded run's /proc/PID/environ fails" "Landlock ptrace scope, supervisor /proc check"
		fi
	fi
fi
kill "$other" 2>/dev/null

# Other processes' /proc entries that need no ptrace access: a command
# line can carry a password or a token (curl -H "Authorization: ...").
CMD_TOKEN=CG-CMDLINE-$RANDOM$RANDOM
bash -c 'sleep 1000; :' "$CMD_TOKEN" </dev/null >/dev/null 2>&1 &
cmd_victim=$!
CG_CLEANUP+=("kill $cmd_victim")
sleep 0.2
read_attack "read /proc/PID/cmdline of a process outside the run" "supervisor /proc check" \
	"/proc/$cmd_victim/cmdline" "$CMD_TOKEN" "$T/atk-read-static" open "/proc/$cmd_victim/cmdline" "$WS"

# The command's own /proc hides the others: unmounting it (a renamed
# umount, lazily) must not bring the machine's /proc back.
cp /usr/bin/umount "$WS/bin/um"
printf '%s -l /proc\ncat /proc/%s/cmdline\n' "$WS/bin/um" "$cmd_victim" >"$WS/umount.sh"
guard -- sh "$WS/umount.sh"
if leaked "$CMD_TOKEN"; then
	fail "read /proc/PID/cmdline after umount -l /proc" "seccomp (umount2 refused), no CAP_SYS_ADMIN" \
		"the outside process's command line was printed"
else
	ok "umount -l /proc does not uncover the machine's /proc" "seccomp (umount2 refused), no CAP_SYS_ADMIN"
fi

# The open race: a second thread swaps the path between an allowed file
# and a secret of the same length while the main thread opens it.
# /etc/shadow is carved out of Landlock's read set (race-free); another
# process's /proc/PID/cmdline is only the supervisor's to refuse.
race_attack()
{
	local name=$1 layer=$2 allowed=$3 secret=$4 token=$5 n base
	for attempt in 1 2 3; do
		unguarded "$T/atk-open-race" 3000 "$allowed" "$secret" "$(printf '%s' "$token" | rev)"
		base=$(sed -n 's/.*leaks=\([0-9]*\).*/\1/p' "$WS/.out")
		[ "${base:-0}" -gt 0 ] && break
	done
	if [ "${base:-0}" -eq 0 ]; then
		fail "$name" "$layer" "baseline: the swap never won without the guard (3000 tries; $(last_output))"
		return
	fi
	guard_hidden "$T/atk-open-race" 3000 "$allowed" "$secret" "$(printf '%s' "$token" | rev)"
	summary=$(grep tries= "$WS/.out")
	n=$(sed -n 's/.*leaks=\([0-9]*\).*/\1/p' "$WS/.out")
	if [ -z "$summary" ]; then
		fail "$name" "$layer" "the attack did not run (exit $GUARD_RC; $(last_output))"
	elif [ "${n:-0}" -ne 0 ] || grep -qF "$token" "$WS/.err"; then
		fail "$name" "$layer" "the secret was read $n times ($summary)"
	else
		ok "$name (unguarded $base/3000 leaks; $summary)" "$layer"
	fi
}
race_attack "open race: /etc/passwd <-> /etc/shadow, 3000 tries" "Landlock (secrets carved out of the read set)" \
	/etc/passwd /etc/shadow "$SHADOW_LINE"
# The allowed twin is our own /proc/self/cmdline, padded with slashes to
# the same length.
proc_path=/proc/$cmd_victim/cmdline
pad=$(printf '%*s' $((${#cmd_victim} - 3)) '' | tr ' ' /)
race_attack "open race: /proc/self/cmdline <-> /proc/PID/cmdline of an outside process, 3000 tries" \
	"supervisor /proc check (Landlock cannot carve /proc/PID)" "/proc/self$pad""cmdline" "$proc_path" "$CMD_TOKEN"

# A hard link that already exists when the run starts (made by someone
# else): the kernel cannot tell it from any other workspace file.
ln "$SECRET" "$WS/prelinked"
guard -- cat "$WS/prelinked"
if leaked "$TOKEN"; then
	gap "read a secret through a hard link made before the run" "none (a hard link is the file)" \
		"the content was printed"
else
	ok "read a secret through a hard link made before the run" "Landlock/seccomp"
fi
rm -f "$WS/prelinked"

# io_uring: a ring performs opens and reads that no system call filter sees.
unguarded "$T/atk-read-static" io-uring - -
if ! grep -q IO-URING-READY "$WS/.out"; then
	fail "io_uring_setup" "seccomp (refused outright)" "baseline: io_uring_setup fails even without the guard"
else
	guard_hidden "$T/atk-read-static" io-uring - -
	if grep -q IO-URING-READY "$WS/.out"; then
		fail "io_uring_setup" "seccomp (refused outright)" "a ring was created"
	elif ! grep -q 'io_uring_setup: failed' "$WS/.out"; then
		fail "io_uring_setup" "seccomp (refused outright)" "the attack did not run (exit $GUARD_RC; $(last_output))"
	else
		ok "io_uring_setup fails ($(grep -o 'failed: [A-Z]*' "$WS/.out"))" "seccomp (refused outright)"
	fi
fi

# Writes outside the allowed paths.  Targets are our own names, never a
# real system file: if the guard fails, nothing of the machine's breaks.
ETC_NEW=/etc/cg-test-new-$$
ETC_EXISTING=/etc/cg-test-existing-$$
ETC_VIA_LINK=/etc/cg-test-file-$$
printf 'ORIGINAL\n' >"$ETC_EXISTING"
CG_CLEANUP+=("rm -rf '$ETC_NEW' '$ETC_EXISTING' '$ETC_VIA_LINK' /etc/cg-test-renamed-$$ /etc/cg-test-renamed2-$$ /etc/cg-test-linked-$$ /etc/cg-test-dir-$$")

# write_attack NAME LAYER TARGET COMMAND...: TARGET must not appear (or,
# when it exists, must keep its content).
write_attack()
{
	local name=$1 layer=$2 target=$3 before=""
	shift 3
	[ -e "$target" ] && before=$(cat "$target")
	guard_hidden "$@"
	local after=""
	[ -e "$target" ] && after=$(cat "$target" 2>/dev/null)
	if [ "$GUARD_RC" -ne 126 ] && [ "${1##*/}" != "${1##*/atk-write}" ] && ! grep -q '^[a-z0-9]*: \(ok\|failed\)' "$WS/.out"; then
		fail "$name" "$layer" "the attack did not run (exit $GUARD_RC; $(last_output))"
	elif [ -z "$before" ] && [ -e "$target" ]; then
		fail "$name" "$layer" "$target was created (exit $GUARD_RC)"
		rm -rf "$target"
	elif [ -n "$before" ] && [ "$before" != "$after" ]; then
		fail "$name" "$layer" "$target was changed (exit $GUARD_RC)"
		printf '%s\n' "$before" >"$target"
	elif [ "$GUARD_RC" -eq 125 ] || [ "$GUARD_RC" -eq 124 ]; then
		fail "$name" "$layer" "guard-exec exited $GUARD_RC: the attack was never really tried ($(last_output))"
	else
		ok "$name [stopped by: $(stopped_by)]" "$layer"
	fi
}

# Control: writing in the workspace works.
guard -- "$T/atk-write" create "$WS/created-inside" "$WS"
check "control: a file can be created in the workspace" "all layers allow" \
	"it could not (exit $GUARD_RC; $(last_output))" test -s "$WS/created-inside"

write_attack "write: create a file in /etc" "Landlock write set, seccomp open check" "$ETC_NEW" \
	"$T/atk-write-static" create "$ETC_NEW" "$WS"
write_attack "write: create a file next to the workspace (outside the allowed paths)" \
	"Landlock write set, seccomp open check" "$OUTSIDE/created" \
	"$T/atk-write" create "$OUTSIDE/created" "$WS"
write_attack "write: rename a workspace file into /etc" "Landlock (refer/make), seccomp rename check" \
	/etc/cg-test-renamed-$$ "$T/atk-write-static" rename /etc/cg-test-renamed-$$ "$WS"
write_attack "write: renameat2 a workspace file into /etc" "Landlock (refer/make), seccomp rename check" \
	/etc/cg-test-renamed2-$$ "$T/atk-write-static" renameat2 /etc/cg-test-renamed2-$$ "$WS"
write_attack "write: hard-link a workspace file into /etc" "Landlock (refer/make), seccomp link check" \
	/etc/cg-test-linked-$$ "$T/atk-write-static" link /etc/cg-test-linked-$$ "$WS"
write_attack "write: mkdir in /etc" "Landlock (make_dir), seccomp mkdir check" \
	/etc/cg-test-dir-$$ "$T/atk-write-static" mkdir /etc/cg-test-dir-$$ "$WS"
ln -sf "$ETC_VIA_LINK" "$WS/link-to-etc"
write_attack "write: create through a workspace symlink to /etc/cg-test-file" \
	"Landlock (resolved path), seccomp open check" "$ETC_VIA_LINK" \
	"$T/atk-write-static" create "$WS/link-to-etc" "$WS"
ln -sf "$ETC_EXISTING" "$WS/link-to-existing"
write_attack "write: append through a workspace symlink to an existing file in /etc" \
	"Landlock (resolved path), seccomp open check" "$ETC_EXISTING" \
	"$T/atk-write-static" append "$WS/link-to-existing" "$WS"
write_attack "write: create a file in /dev/shm (readable, not writable)" "Landlock write set, seccomp open check" \
	/dev/shm/cg-test-$$ "$T/atk-write-static" create /dev/shm/cg-test-$$ "$WS"
CG_CLEANUP+=("rm -f /dev/shm/cg-test-$$")

# A sysctl: /proc/sys files are root-owned and mode 644, so uid 0 writes
# them without any capability (kernel.core_pattern would run a program as
# root outside the run).  The test writes the harmless domainname and
# puts it back.
DOMAIN_BEFORE=$(cat /proc/sys/kernel/domainname)
guard_hidden "$T/atk-write-static" append /proc/sys/kernel/domainname "$WS"
DOMAIN_AFTER=$(cat /proc/sys/kernel/domainname)
if [ "$DOMAIN_AFTER" != "$DOMAIN_BEFORE" ]; then
	printf '%s\n' "$DOMAIN_BEFORE" >/proc/sys/kernel/domainname
	fail "write: a sysctl (/proc/sys/kernel/domainname)" "Landlock write set" "it changed to $DOMAIN_AFTER"
elif ! grep -q '^append: failed' "$WS/.out"; then
	fail "write: a sysctl (/proc/sys/kernel/domainname)" "Landlock write set" "the attack did not run ($(last_output))"
else
	ok "write: a sysctl (/proc/sys/kernel/domainname) fails ($(grep -o 'failed: [A-Z]*' "$WS/.out"))" \
		"Landlock write set"
fi

# The guard's own state (rate limits, audit log) kept under an allowed
# path (/tmp here, as --state-dir or $GUARD_STATE_DIR may put it): the
# command must not read other runs' audit records, truncate the log or
# delete the rate-limit database.
STATE_IN_TMP=$(mktemp -d /tmp/cg-adv-state.XXXXXX)
CG_CLEANUP+=("rm -rf '$STATE_IN_TMP'")
GUARD_STATE_DIR=$STATE_IN_TMP guard -- /bin/true
audit_before=$(cat "$STATE_IN_TMP"/*.jsonl 2>/dev/null | head -n1)
cat >"$WS/state.sh" <<END
cat $STATE_IN_TMP/*.jsonl
: > $STATE_IN_TMP/audit.jsonl
rm -f $STATE_IN_TMP/*.db $STATE_IN_TMP/*.db-*
END
GUARD_STATE_DIR=$STATE_IN_TMP guard -- sh "$WS/state.sh"
if [ -z "$audit_before" ]; then
	fail "state: the guard's audit log and rate-limit database under /tmp" "setup" \
		"no audit record was written ($(ls "$STATE_IN_TMP"))"
elif ! grep -qF "$audit_before" "$STATE_IN_TMP"/*.jsonl 2>/dev/null || ! ls "$STATE_IN_TMP"/*.db >/dev/null 2>&1; then
	fail "state: the command erases the guard's audit log or rate-limit database (state dir under /tmp)" \
		"Landlock: the state dir is never writable" "now: $(ls "$STATE_IN_TMP" | tr '\n' ' ')"
elif grep -qF "$audit_before" "$WS/.out"; then
	fail "state: the command reads the guard's audit log (state dir under /tmp)" \
		"Landlock: the state dir is never readable" "an earlier run's audit record was printed"
else
	ok "state: the guard's audit log and rate-limit database are out of the command's reach" \
		"Landlock (state dir excluded)"
fi

# --log-dir inside the workspace: the command knows its run id (the run
# directory in $GUARD_SNAPSHOT names it) and plants symlinks where
# guard-exec, unconfined and root, will write DIR/RUN_ID/{stdout.log,
# stderr.log,result.json} after the run.
LOG_VICTIM=/etc/cg-test-logvictim-$$
printf 'ORIGINAL\n' >"$LOG_VICTIM"
CG_CLEANUP+=("rm -f '$LOG_VICTIM'")
cat >"$WS/plant.sh" <<END
d=\$(dirname "\$GUARD_SNAPSHOT"); id=\$(basename "\$d"); id=\${id%.*}
mkdir -p "$WS/logs/\$id" && echo "planted in \$id"
for f in result.json stdout.log stderr.log; do ln -sf "$LOG_VICTIM" "$WS/logs/\$id/\$f"; done
echo CG-LOG-LINE
END
guard --log-dir "$WS/logs" -- sh "$WS/plant.sh"
if ! grep -q 'planted in' "$WS/.out"; then
	fail "log-dir: symlinks planted for DIR/RUN_ID/result.json" "guard-exec's own writes" \
		"the plant did not run ($(last_output))"
elif [ "$(cat "$LOG_VICTIM")" != ORIGINAL ]; then
	fail "log-dir: symlinks planted for DIR/RUN_ID/{result.json,stdout.log} overwrite a file in /etc" \
		"guard-exec's own writes (O_NOFOLLOW, a directory it created)" \
		"guard-exec wrote through the symlink as root: $(head -c 60 "$LOG_VICTIM" | tr '\n' ' ')"
	printf 'ORIGINAL\n' >"$LOG_VICTIM"
else
	ok "log-dir: symlinks planted for DIR/RUN_ID/* do not redirect guard-exec's writes" \
		"guard-exec's own writes"
fi

# A workspace that is (or resolves into) a blocked directory: a symlink
# left in one run's workspace can be the next run's --workspace.  The
# blocked list must win over the workspace at run time too.  The attack
# and its script live in /tmp (allowed), the workspace is /etc or /root.
BLK_DIR=$(mktemp -d /tmp/cg-adv-blk.XXXXXX)
CG_CLEANUP+=("rm -rf '$BLK_DIR'" "rm -f /etc/cg-test-ws-$$ /root/cg-test-ws-$$")
cp "$T/atk-write-static" "$BLK_DIR/atk"
ln -s /etc "$WS/etc-link"
for ws in "$WS/etc-link:/etc" "/root:/root"; do
	dir=${ws%%:*} real=${ws##*:}
	printf 'exec %s create %s %s\n' "$BLK_DIR/atk" "$real/cg-test-ws-$$" "$BLK_DIR" >"$BLK_DIR/s.sh"
	(cd /tmp && timeout -k 5 60 "$GUARD_EXEC" --workspace "$dir" --ticket "adv-$$-blk" -- sh "$BLK_DIR/s.sh") \
		>"$WS/.out" 2>"$WS/.err" </dev/null
	if [ -e "$real/cg-test-ws-$$" ]; then
		rm -f "$real/cg-test-ws-$$"
		fail "write: --workspace $dir makes $real writable" "blocked list over the workspace" "the file was created"
	elif ! grep -q '^create: failed\|^guard: ' "$WS/.out" "$WS/.err"; then
		fail "write: --workspace $dir" "blocked list over the workspace" "did not run ($(last_output))"
	else
		ok "write: --workspace $dir does not make $real writable" "blocked list over the workspace (Landlock)"
	fi
done

# The shim's policy snapshot (read by every process of the run): the
# command must not change it for the processes it starts next.
cat >"$WS/snap.sh" <<END
$T/atk-read-static open "\$GUARD_SNAPSHOT" $WS >$WS/snap.before
$T/atk-write-static append "\$GUARD_SNAPSHOT" $WS
$T/atk-write-static chmod "\$GUARD_SNAPSHOT" $WS
$T/atk-write-static rename "\$GUARD_SNAPSHOT" $WS
$T/atk-read-static open "\$GUARD_SNAPSHOT" $WS >$WS/snap.after
END
rm -f "$WS/snap.before" "$WS/snap.after"
guard -- sh "$WS/snap.sh"
if [ ! -s "$WS/snap.before" ] || ! grep -q '^open: ok' "$WS/snap.before"; then
	fail "write: the shim's policy snapshot" "Landlock" "the snapshot could not be read to compare ($(last_output))"
elif ! cmp -s "$WS/snap.before" "$WS/snap.after" || grep -q '^[a-z]*: ok' "$WS/.out"; then
	fail "write: the shim's policy snapshot is changed from inside the run" "Landlock (run dir not writable)" \
		"$(grep -E '^(append|chmod|rename):' "$WS/.out" | tr '\n' ' ')"
else
	ok "write: the shim's policy snapshot cannot be appended to, chmodded or replaced" \
		"Landlock, supervisor chmod check"
fi

# Metadata outside the allowed paths: Landlock has no right for chmod,
# chown, utimes or xattrs, so these are the supervisor's to refuse.
meta()
{
	stat -c '%a %u %g %Y %s' "$1"
	/usr/bin/python3 -c 'import os,sys; print(sorted(os.listxattr(sys.argv[1])))' "$1"
}
for mode in chmod chown utime setxattr truncate fchmod fchown futimens fsetxattr ftruncate fchmodat-empty chmod-procfd; do
	before=$(meta "$ETC_EXISTING")
	guard_hidden "$T/atk-write-static" $mode "$ETC_EXISTING" "$WS"
	after=$(meta "$ETC_EXISTING")
	name="write: $mode a file in /etc"
	if [ "$before" != "$after" ]; then
		fail "$name" "supervisor $mode check" "changed: $before -> $after"
		chmod 644 "$ETC_EXISTING"
		chown 0:0 "$ETC_EXISTING"
		/usr/bin/python3 -c 'import os,sys; [os.removexattr(sys.argv[1], a) for a in os.listxattr(sys.argv[1])]' "$ETC_EXISTING"
		printf 'ORIGINAL\n' >"$ETC_EXISTING"
	elif ! grep -q "^$mode: failed" "$WS/.out"; then
		fail "$name" "supervisor $mode check" "the attack did not run (exit $GUARD_RC; $(last_output))"
	else
		ok "$name ($(grep -o 'failed: [A-Z]*' "$WS/.out"))" "seccomp $mode check / Landlock"
	fi
done
# The same through a symlink in the workspace that points at the file.
for mode in chmod chown utime setxattr; do
	before=$(meta "$ETC_EXISTING")
	guard_hidden "$T/atk-write-static" $mode "$WS/link-to-existing" "$WS"
	after=$(meta "$ETC_EXISTING")
	name="write: $mode through a workspace symlink to a file in /etc"
	if [ "$before" != "$after" ]; then
		fail "$name" "supervisor $mode check (resolved path)" "changed: $before -> $after"
		chmod 644 "$ETC_EXISTING"
		chown 0:0 "$ETC_EXISTING"
		/usr/bin/python3 -c 'import os,sys; [os.removexattr(sys.argv[1], a) for a in os.listxattr(sys.argv[1])]' "$ETC_EXISTING"
	elif ! grep -q "^$mode: failed" "$WS/.out"; then
		fail "$name" "supervisor $mode check" "the attack did not run (exit $GUARD_RC; $(last_output))"
	else
		ok "$name ($(grep -o 'failed: [A-Z]*' "$WS/.out"))" "supervisor $mode check (resolved path)"
	fi
done

# The metadata race: Landlock does not cover these calls, so the
# supervisor must judge the file the kernel will change, not a path the
# command can rewrite after the check.  ALLOWED and TARGET have the same
# length.
ALLOWED_META=$WS/race-meta-target-file
TARGET_META=/etc/cg-race-$$-
TARGET_META=$TARGET_META$(printf '%*s' $((${#ALLOWED_META} - ${#TARGET_META})) '' | tr ' ' x)
if [ ${#TARGET_META} -ne ${#ALLOWED_META} ]; then
	fail "metadata race" "setup" "cannot make paths of equal length ($ALLOWED_META, $TARGET_META)"
else
	CG_CLEANUP+=("rm -f '$TARGET_META'")
	for mode in chmod chown utime setxattr; do
		printf 'ORIGINAL\n' >"$TARGET_META"
		chmod 644 "$TARGET_META"
		chown 0:0 "$TARGET_META"
		touch "$TARGET_META"
		printf 'mine\n' >"$ALLOWED_META"
		before=$(meta "$TARGET_META")
		# Under load the swap can lose 3000 times in a row: try thrice.
		for attempt in 1 2 3; do
			unguarded "$T/atk-meta-race" $mode 3000 "$ALLOWED_META" "$TARGET_META"
			[ "$(meta "$TARGET_META")" != "$before" ] && break
		done
		if [ "$(meta "$TARGET_META")" = "$before" ]; then
			fail "metadata race: $mode" "supervisor $mode check" \
				"baseline: the swap never won without the guard (3 x 3000 tries)"
			continue
		fi
		printf 'ORIGINAL\n' >"$TARGET_META"
		chmod 644 "$TARGET_META"
		chown 0:0 "$TARGET_META"
		/usr/bin/python3 -c 'import os,sys; [os.removexattr(sys.argv[1], a) for a in os.listxattr(sys.argv[1])]' "$TARGET_META"
		touch "$TARGET_META"
		before=$(meta "$TARGET_META")
		guard_hidden "$T/atk-meta-race" $mode 3000 "$ALLOWED_META" "$TARGET_META"
		after=$(meta "$TARGET_META")
		summary=$(grep tries= "$WS/.out")
		name="metadata race: $mode of a workspace file <-> /etc/cg-race-..., 3000 tries"
		if [ -z "$summary" ]; then
			fail "$name" "supervisor $mode check" "the attack did not run (exit $GUARD_RC; $(last_output))"
		elif [ "$before" != "$after" ]; then
			fail "$name" "supervisor $mode check (on the file, not the path)" \
				"the file in /etc changed: $(echo $before) -> $(echo $after) ($summary)"
		else
			ok "$name ($summary)" "supervisor $mode check (on the file, not the path)"
		fi
	done
fi

write_attack "write: sh -c 'echo > /etc/...'" "static check (redirection), then Landlock" "$ETC_NEW" \
	sh -c "echo CG-PWNED > $ETC_NEW"
printf 'echo CG-PWNED > %s\n' "$ETC_NEW" >"$WS/write.sh"
write_attack "write: a script file that writes into /etc" "Landlock write set, seccomp open check" "$ETC_NEW" \
	sh "$WS/write.sh"

finish
