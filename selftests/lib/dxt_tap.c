// SPDX-License-Identifier: GPL-2.0
/*
 * TAP output (see dxt_tap.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "dxt_tap.h"

static int tap_n, tap_failed;

void dxt_tap_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
}

static void line(const char *head, const char *fmt, va_list ap)
{
	fputs(head, stdout);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

static bool result(bool ok, const char *fmt, va_list ap)
{
	char head[64];

	snprintf(head, sizeof(head), "%sok %d - ", ok ? "" : "not ", ++tap_n);
	line(head, fmt, ap);
	if (!ok)
		tap_failed++;
	return ok;
}

bool dxt_tap_ok(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	result(ok, fmt, ap);
	va_end(ap);
	return ok;
}

bool dxt_tap_check(bool ok, const char *file, int lineno, const char *cond,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	result(ok, fmt, ap);
	va_end(ap);
	if (!ok)
		dxt_tap_note("  failed at %s:%d: %s", file, lineno, cond);
	return ok;
}

void dxt_tap_skip(const char *what, const char *fmt, ...)
{
	char head[512];
	va_list ap;

	snprintf(head, sizeof(head), "ok %d - %s # SKIP ", ++tap_n, what);
	va_start(ap, fmt);
	line(head, fmt, ap);
	va_end(ap);
}

void dxt_tap_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line("# ", fmt, ap);
	va_end(ap);
}

int dxt_tap_count(void)
{
	return tap_n;
}

int dxt_tap_failures(void)
{
	return tap_failed;
}

int dxt_tap_done(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}
