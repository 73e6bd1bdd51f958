#!/bin/bash
# user.sh - attacks under `--user 65534:65534` on processes and files of the
# same user outside the run, where file permissions and the kernel's
# uid checks do not help: only the guard's layers can say no.
. "$(dirname "$0")/lib.sh"

U=65534
require "setpriv(1) to start a victim as uid $U" command -v setpriv
chmod 755 "$WS" "$WS/bin" "$WS/t"
mkdir -p "$WS/u"
chmod 777 "$WS/u"
MK=$WS/u/marker

# victim: a process of the same user, outside the run, with a token in its
# environment.
ENV_TOKEN=CG-USER-ENV-$RANDOM$RANDOM
CG_USER_TOKEN=$ENV_TOKEN setpriv --reuid $U --regid $U --clear-groups sleep 1000 </dev/null >/dev/null 2>&1 &
VICTIM=$!
CG_CLEANUP+=("kill $VICTIM")
sleep 0.2

# same-uid file outside the allowed paths
OWNED=/var/tmp/cg-user-file-$$
printf 'ORIGINAL\n' >"$OWNED"
chown $U:$U "$OWNED"
chmod 644 "$OWNED"
NEWFILE=/var/tmp/cg-user-new-$$
CG_CLEANUP+=("rm -f '$OWNED' '$NEWFILE'")

rm -f "$MK"
guard --user $U:$U -- "$INNOCENT" "$MK"
check "user: control: an allowed program runs as uid $U" "all layers allow" \
	"it did not run (exit $GUARD_RC; $(last_output))" test -s "$MK"

rm -f "$MK"
guard --user $U:$U -- "$T/atk-exec-static" execve "$FORBIDDEN" "$MK"
check "user: exec of the forbidden program (static attacker)" "seccomp exec check" \
	"it ran (exit $GUARD_RC)" test ! -e "$MK"

guard --user $U:$U -- "$T/atk-proc" kill "$VICTIM"
check "user: kill a same-uid process outside the run" "Landlock signal scope / supervisor kill check" \
	"it died (exit $GUARD_RC; $(last_output))" alive "$VICTIM" "sleep 1000"

guard --user $U:$U -- "$T/atk-proc" ptrace-parent
check "user: ptrace is refused" "seccomp" "$(last_output)" grep -q 'ptrace-parent: failed' "$WS/.out"

printf 'exec %s open /proc/%s/environ %s\n' "$T/atk-read-static" "$VICTIM" "$WS" >"$WS/u/env.sh"
guard --user $U:$U -- sh "$WS/u/env.sh"
if grep -qF "$ENV_TOKEN" "$WS/.out" "$WS/.err"; then
	fail "user: read /proc/PID/environ of a same-uid process outside the run" "Landlock ptrace scope" \
		"the token was printed"
elif ! grep -q 'open: failed' "$WS/.out"; then
	fail "user: read /proc/PID/environ of a same-uid process" "Landlock ptrace scope" "did not run ($(last_output))"
else
	ok "user: read /proc/PID/environ of a same-uid process outside the run fails" "Landlock ptrace scope"
fi

printf 'exec %s create %s %s\n' "$T/atk-write-static" "$NEWFILE" "$WS/u" >"$WS/u/new.sh"
guard --user $U:$U -- sh "$WS/u/new.sh"
check "user: create a file in world-writable /var/tmp (outside the allowed paths)" "Landlock write set" \
	"$NEWFILE was created" test ! -e "$NEWFILE"

for mode in append chmod utime; do
	before=$(stat -c '%a %Y %s' "$OWNED")
	printf 'exec %s %s %s %s\n' "$T/atk-write-static" $mode "$OWNED" "$WS/u" >"$WS/u/meta.sh"
	guard --user $U:$U -- sh "$WS/u/meta.sh"
	after=$(stat -c '%a %Y %s' "$OWNED")
	if [ "$before" != "$after" ]; then
		fail "user: $mode a same-uid file outside the allowed paths" "Landlock / supervisor $mode check" \
			"changed: $before -> $after"
		chmod 644 "$OWNED"
		printf 'ORIGINAL\n' >"$OWNED"
	elif ! grep -q "^$mode: failed" "$WS/.out"; then
		fail "user: $mode a same-uid file" "supervisor $mode check" "did not run ($(last_output))"
	else
		ok "user: $mode a same-uid file outside the allowed paths fails" "Landlock / supervisor $mode check"
	fi
done

finish
