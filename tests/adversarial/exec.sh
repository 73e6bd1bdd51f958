#!/bin/bash
# exec.sh - every way to start a blocked program.  The blocked program is
# cg-forbidden installed as $WS/bin/mount (blocked by name): when it runs
# it appends a line to a marker file, so "stopped" means the marker file
# stayed empty, whatever exit codes say.  Each attack first runs without
# the guard (the baseline) to prove that it works at all.
. "$(dirname "$0")/lib.sh"

MK=$WS/marker

# guard_attempted: guard-exec really tried (no guard error, no hang).
guard_attempted()
{
	[ "$GUARD_RC" -ne 125 ] && [ "$GUARD_RC" -ne 124 ]
}

# exec_attack NAME LAYER COMMAND...: the command must start the forbidden
# program without the guard, and must not under it.
exec_attack()
{
	local name=$1 layer=$2 n
	shift 2
	rm -f "$MK"
	unguarded "$@"
	if [ "$(marker_count "$MK")" -eq 0 ]; then
		fail "$name" "$layer" "baseline: the forbidden program did not run even without the guard ($(last_output))"
		return
	fi
	rm -f "$MK"
	guard -- "$@"
	n=$(marker_count "$MK")
	if [ "$n" -ne 0 ]; then
		fail "$name" "$layer" "the forbidden program ran $n time(s) (guard-exec exit $GUARD_RC; $(last_output))"
	elif ! guard_attempted; then
		fail "$name" "$layer" "guard-exec exited $GUARD_RC: the attack was never really tried ($(last_output))"
	else
		ok "$name [stopped by: $(stopped_by)]" "$layer"
	fi
}

# The control: an allowed program in the workspace runs and leaves its
# marker.  Without it every "stopped" below could mean "nothing runs".
rm -f "$MK"
guard -- "$INNOCENT" "$MK"
check "control: an allowed workspace program runs under the guard" "all layers allow" \
	"it did not run (exit $GUARD_RC; $(last_output)); every other result here would be vacuous" \
	test "$(marker_count "$MK")" -eq 1 -a "$GUARD_RC" -eq 0

for mode in execve execveat execveat-empty fexecve memfd syscall asm unsetenv emptyenv; do
	case $mode in
	execve | execveat | execveat-empty | fexecve) layer="preload shim, then seccomp exec check" ;;
	memfd) layer="seccomp exec check (a memfd named mount)" ;;
	syscall | asm) layer="seccomp exec check (no libc wrapper for the shim to see)" ;;
	unsetenv | emptyenv) layer="seccomp exec check (LD_PRELOAD gone)" ;;
	esac
	exec_attack "exec: $mode (dynamic attacker)" "$layer" "$T/atk-exec" $mode "$FORBIDDEN" "$MK"
	exec_attack "exec: $mode (static attacker)" "seccomp exec check" "$T/atk-exec-static" $mode "$FORBIDDEN" "$MK"
done

# ia32 and x32 system calls: refused whatever they start, even an allowed
# program (nr 11 is execve for ia32 and munmap for x86-64).
for target in "$FORBIDDEN" "$INNOCENT"; do
	exec_attack "exec: ia32 int 0x80 execve of $(basename "$target")" "seccomp architecture check" \
		"$T/atk-exec-static" int80 "$target" "$MK"
done
rm -f "$MK"
unguarded "$T/atk-exec-static" x32 "$INNOCENT" "$MK"
if grep -q ENOSYS "$WS/.out" && [ "$(marker_count "$MK")" -eq 0 ]; then
	guard -- "$T/atk-exec-static" x32 "$INNOCENT" "$MK"
	if [ "$(marker_count "$MK")" -eq 0 ] && guard_attempted; then
		ok "exec: x32 execve (this kernel has no x32 ABI: ENOSYS without the guard too)" \
			"kernel, and the seccomp architecture check"
	else
		fail "exec: x32 execve" "seccomp architecture check" "exit $GUARD_RC; $(last_output)"
	fi
else
	exec_attack "exec: x32 execve" "seccomp architecture check" \
		"$T/atk-exec-static" x32 "$INNOCENT" "$MK"
fi

# Identity: a symlink with an innocent name, a shebang that names the
# forbidden program as interpreter, argv[0] lies (all attacks above).
ln -sf "$FORBIDDEN" "$WS/bin/innocent-link"
exec_attack "exec: through a symlink named innocent-link -> mount" "seccomp exec check (resolved program)" \
	"$T/atk-exec-static" execve "$WS/bin/innocent-link" "$MK"
printf '#!/bin/sh\nmount %s\n' "$MK" >"$WS/script.sh"
chmod +x "$WS/script.sh"
exec_attack "exec: a #!/bin/sh script that runs mount" "seccomp exec check" \
	"$T/atk-exec-static" execve "$WS/script.sh" "$MK"
printf '#!%s %s\n' "$FORBIDDEN" "$MK" >"$WS/interp.sh"
chmod +x "$WS/interp.sh"
exec_attack "exec: a script whose #! interpreter is mount" "seccomp exec check (the image that starts)" \
	"$T/atk-exec-static" execve "$WS/interp.sh" "$MK"
exec_attack "exec: sh -c mount" "static check, then seccomp exec check" \
	sh -c "mount $MK"
exec_attack "exec: sh running a script file that runs mount" "seccomp exec check" \
	sh "$WS/script.sh"
printf 'env -u LD_PRELOAD mount %s\n' "$MK" >"$WS/unset.sh"
exec_attack "exec: env -u LD_PRELOAD mount (inside a script)" "seccomp exec check" \
	sh "$WS/unset.sh"
exec_attack "exec: python3 os.execv" "seccomp exec check" \
	/usr/bin/python3 -c "import os,sys; os.execv(sys.argv[1], ['true', sys.argv[2]])" "$FORBIDDEN" "$MK"
exec_attack "exec: python3 os.system" "seccomp exec check" \
	/usr/bin/python3 -c "import os,sys; os.system('mount ' + sys.argv[1])" "$MK"
exec_attack "exec: perl exec" "seccomp exec check" \
	/usr/bin/perl -e 'exec { $ARGV[0] } "true", $ARGV[1]' "$FORBIDDEN" "$MK"
exec_attack "exec: perl system" "seccomp exec check" \
	/usr/bin/perl -e 'system("mount", $ARGV[0])' "$MK"

# The real /usr/bin/mount: listing the mounts is its effect here.
ln -sf /usr/bin/mount "$WS/bin/lister"
for cmd in "sh -c mount" "$WS/bin/lister"; do
	PATH=/usr/bin:/bin unguarded sh -c "$cmd"
	if ! grep -q ' type proc ' "$WS/.out"; then
		fail "exec: $cmd lists mounts" "seccomp exec check" "baseline: no mount table without the guard"
		continue
	fi
	PATH=/usr/bin:/bin guard -- sh -c "$cmd"
	if grep -q ' type proc ' "$WS/.out"; then
		fail "exec: $cmd (real /usr/bin/mount)" "static check, seccomp exec check" "the mount table was printed"
	elif ! guard_attempted; then
		fail "exec: $cmd (real /usr/bin/mount)" "static check, seccomp exec check" "guard-exec exited $GUARD_RC"
	else
		ok "exec: $cmd (real /usr/bin/mount) does not list mounts" "static check, seccomp exec check"
	fi
done

# A renamed copy of mount, a hard link to it, and a renamed copy of the
# loader running the copy: the exec check knows the file by inode and
# content, so none of them lists the mounts.
cp /usr/bin/mount "$WS/bin/lsmnt"
cp "$(readlink -f /lib64/ld-linux-x86-64.so.2)" "$WS/bin/ldcopy"
ln /usr/bin/mount "$WS/bin/hardmnt" 2>/dev/null || cp -l /usr/bin/mount "$WS/bin/hardmnt" 2>/dev/null || true
for cmd in "$WS/bin/lsmnt" "$WS/bin/ldcopy $WS/bin/lsmnt" "/lib64/ld-linux-x86-64.so.2 $WS/bin/lsmnt" \
	"$WS/bin/hardmnt"; do
	if [ ! -e "${cmd%% *}" ]; then
		fail "exec: $cmd lists mounts" "exec check (program identity)" \
			"set-up: could not make ${cmd%% *} (a hard link needs the workspace on /usr's file system)"
		continue
	fi
	PATH=/usr/bin:/bin unguarded sh -c "$cmd"
	if ! grep -q ' type proc ' "$WS/.out"; then
		fail "exec: $cmd lists mounts" "exec check (program identity)" "baseline: no mount table without the guard"
		continue
	fi
	guard_hidden $cmd
	if grep -q ' type proc ' "$WS/.out"; then
		fail "exec: $cmd (a copy or link of mount)" "exec check (program identity)" "the mount table was printed"
	elif ! guard_attempted; then
		fail "exec: $cmd (a copy or link of mount)" "exec check (program identity)" "guard-exec exited $GUARD_RC"
	else
		ok "exec: $cmd (a copy or link of mount) does not list mounts [stopped by: $(stopped_by)]" \
			"exec check (program identity)"
	fi
done

# What a copy must not do anyway: mount (the kernel floor under identity).
mkdir -p "$WS/mnt"
guard -- "$WS/bin/lsmnt" -t tmpfs cgtest "$WS/mnt"
if grep -q " $WS/mnt " /proc/self/mountinfo; then
	umount "$WS/mnt"
	fail "exec: a renamed copy of mount mounts a tmpfs" "seccomp (mount refused), no CAP_SYS_ADMIN" \
		"the tmpfs was mounted"
elif ! guard_attempted; then
	fail "exec: a renamed copy of mount mounts a tmpfs" "seccomp (mount refused), no CAP_SYS_ADMIN" \
		"guard-exec exited $GUARD_RC"
else
	ok "exec: a renamed copy of mount cannot mount" "seccomp (mount refused), no CAP_SYS_ADMIN"
fi

# A seccomp listener of the command's own: the newest filter's listener
# gets a notification, so it could answer its own execs with CONTINUE.
exec_attack "exec: a stacked seccomp filter whose own listener answers CONTINUE" \
	"kernel (one listener per filter chain: EBUSY), seccomp" "$T/atk-notify" "$FORBIDDEN" "$MK"

# The dynamic loader maps a program without execve: nothing exec-based
# sees the forbidden program start.  Directly (the static check sees the
# command line) and from a script (only the runtime can).
LDSO=/lib64/ld-linux-x86-64.so.2
for how in direct script "static attacker"; do
	rm -f "$MK"
	case $how in
	direct) guard -- "$LDSO" "$FORBIDDEN" "$MK" ;;
	script) guard_hidden "$LDSO" "$FORBIDDEN" "$MK" ;;
	*) guard -- "$T/atk-exec-static" ldso "$FORBIDDEN" "$MK" ;;
	esac
	if [ "$(marker_count "$MK")" -eq 0 ] && [ "$GUARD_RC" -ne 125 ] && [ "$GUARD_RC" -ne 124 ]; then
		ok "exec: ld.so runs the forbidden program, $how [stopped by: $(stopped_by)]" \
			"static check / exec check of the loader's argument"
	else
		gap "exec: ld.so runs the forbidden program without execve, $how" \
			"none (program identity is checked at execve)" "marker written (exit $GUARD_RC)"
	fi
done

# A copy of the loader under another name: known by its content.
cp "$(readlink -f "$LDSO")" "$WS/bin/loader"
rm -f "$MK"
guard_hidden "$WS/bin/loader" "$FORBIDDEN" "$MK"
if [ "$(marker_count "$MK")" -eq 0 ] && [ "$GUARD_RC" -ne 125 ] && [ "$GUARD_RC" -ne 124 ]; then
	ok "exec: a renamed copy of ld.so runs the forbidden program [stopped by: $(stopped_by)]" \
		"exec check (program identity)"
else
	fail "exec: a renamed copy of ld.so runs the forbidden program" \
		"exec check (program identity)" "marker written (exit $GUARD_RC)"
fi

# The race: a second thread rewrites the path between the supervisor's
# read and the kernel's.  Baseline with a few hundred tries, then thousands
# under the guard; the forbidden program must never run.
# The allowed program is a copy of true in the workspace: the static check
# would refuse /usr/bin/true as an argument (a path outside the allowed
# ones), and equal lengths make the swap a plain overwrite.
TRIES=${CG_RACE_TRIES:-3000}
cp /usr/bin/true "$WS/bin/true"
rm -f "$MK"
unguarded "$T/atk-exec-race" 300 "$WS/bin/true" "$FORBIDDEN" "$MK"
base=$(marker_count "$MK")
rm -f "$MK"
guard -- "$T/atk-exec-race" "$TRIES" "$WS/bin/true" "$FORBIDDEN" "$MK"
n=$(marker_count "$MK")
summary=$(grep tries= "$WS/.out")
if [ "$base" -eq 0 ]; then
	fail "exec: path-swapping thread races execve" "seccomp exec check + post-exec check" \
		"baseline: the swap never won without the guard (300 tries)"
elif [ "$n" -ne 0 ] || [ -z "$summary" ]; then
	fail "exec: path-swapping thread races execve ($TRIES tries)" "seccomp exec check + post-exec check" \
		"the forbidden program ran $n times (exit $GUARD_RC; ${summary:-no summary})"
else
	ok "exec: path-swapping thread races execve: forbidden ran 0/$TRIES (unguarded $base/300; $summary)" \
		"seccomp exec check + post-exec check"
fi

# The same with the rewriter in another process sharing the page.
rm -f "$MK"
unguarded "$T/atk-exec-race" 300 "$WS/bin/true" "$FORBIDDEN" "$MK" process
base=$(marker_count "$MK")
rm -f "$MK"
guard -- "$T/atk-exec-race" 1000 "$WS/bin/true" "$FORBIDDEN" "$MK" process
n=$(marker_count "$MK")
summary=$(grep tries= "$WS/.out")
if [ "$base" -eq 0 ]; then
	fail "exec: path-swapping process (shared page) races execve" "post-exec check" \
		"baseline: the swap never won without the guard (300 tries)"
elif [ "$n" -ne 0 ] || [ -z "$summary" ]; then
	fail "exec: path-swapping process (shared page) races execve (1000 tries)" "post-exec check" \
		"the forbidden program ran $n times (exit $GUARD_RC; ${summary:-no summary})"
else
	ok "exec: path-swapping process (shared page) races execve: forbidden ran 0/1000 (unguarded $base/300; $summary)" \
		"seccomp exec check + post-exec check"
fi

finish
