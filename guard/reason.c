/* reason.c - the reason attached to a verdict, and its one-line form. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"

void cg_reason_set(struct cg_reason *why, const char *category, const char *rule,
		   const char *fmt, ...)
{
	va_list ap;

	if (!why)
		return;
	snprintf(why->category, sizeof(why->category), "%s", category ? category : "");
	snprintf(why->rule, sizeof(why->rule), "%s", rule ? rule : "");
	va_start(ap, fmt);
	vsnprintf(why->message, sizeof(why->message), fmt, ap);
	va_end(ap);
}

const char *cg_reason_format(const struct cg_reason *why, char *buf, size_t size)
{
	if (why->rule[0])
		snprintf(buf, size, "guard: blocked (%s/%s): %s", why->category, why->rule, why->message);
	else
		snprintf(buf, size, "guard: blocked (%s): %s", why->category, why->message);
	return buf;
}

char *cg_canonical_join(char *const argv[], size_t argc)
{
	size_t need = 1;
	char *out, *w;

	for (size_t i = 0; i < argc; i++)
		need += strlen(argv[i]) + 1;
	out = malloc(need);
	if (!out)
		return NULL;
	w = out;
	for (size_t i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (i)
			*w++ = ' ';
		memcpy(w, argv[i], n);
		w += n;
	}
	*w = '\0';
	return out;
}
