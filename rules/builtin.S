/* The default policy, conf/guard.conf, embedded so that the binaries work
 * with no file installed.  The assembler finds it through -I$(srcdir)/conf. */
	.section .rodata
	.global cg_builtin_policy
	.type cg_builtin_policy, @object
cg_builtin_policy:
	.incbin "guard.conf"
	.global cg_builtin_policy_end
cg_builtin_policy_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
