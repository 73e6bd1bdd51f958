/* error.c - the error struct every fallible function fills, and the
 * string list the settings are made of. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

void cg_error_set(struct cg_error *err, const char *file, int line, const char *key,
		  const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	snprintf(err->key, sizeof(err->key), "%s", key ? key : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

const char *cg_error_format(const struct cg_error *err, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	if (err->file[0] && err->line > 0)
		n = snprintf(buf, size, "%s:%d: ", err->file, err->line);
	else if (err->file[0])
		n = snprintf(buf, size, "%s: ", err->file);
	if (n < size && err->key[0])
		n += snprintf(buf + n, size - n, "%s: ", err->key);
	if (n < size)
		snprintf(buf + n, size - n, "%s", err->message);
	return buf;
}

bool cg_strlist_contains(const struct cg_strlist *list, const char *s)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->items[i], s) == 0)
			return true;
	return false;
}

int cg_strlist_add(struct cg_strlist *list, const char *s)
{
	char **items = realloc(list->items, (list->n + 1) * sizeof(*items));
	char *copy;

	if (!items)
		return -ENOMEM;
	list->items = items;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	list->items[list->n++] = copy;
	return 0;
}

void cg_strlist_clear(struct cg_strlist *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->n = 0;
}
