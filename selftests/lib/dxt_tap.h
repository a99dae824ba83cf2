/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP output of the C tests that do not use the kselftest harness (the
 * format's, the library's unit tests, the fuzz-kernel programs): numbered
 * result lines, skips, comments and the closing plan.
 */
#ifndef DXT_TAP_H
#define DXT_TAP_H

#include <stdbool.h>
#include <string.h>

/* "TAP version 13", stdout line-buffered. */
void dxt_tap_init(void);
/* One result line; returns ok. */
bool dxt_tap_ok(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dxt_tap_skip(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "# ..." */
void dxt_tap_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Results so far, and failures among them. */
int dxt_tap_count(void);
int dxt_tap_failures(void);
/* Prints the plan and returns the exit status: 1 if anything failed. */
int dxt_tap_done(void);

/* ok(cond, fmt, ...): a result that names the failing condition and place. */
bool dxt_tap_check(bool ok, const char *file, int line, const char *cond,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define dxt_ok(cond, ...) dxt_tap_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

#define dxt_is_int(got, want, ...) do {					\
	long long _g = (long long)(got), _w = (long long)(want);	\
	if (!dxt_ok(_g == _w, __VA_ARGS__))				\
		dxt_tap_note("  got %lld, want %lld", _g, _w);		\
} while (0)

#define dxt_is_str(got, want, ...) do {					\
	const char *_g = (got), *_w = (want);				\
	if (!dxt_ok(_g && _w && !strcmp(_g, _w), __VA_ARGS__))	\
		dxt_tap_note("  got \"%s\", want \"%s\"", _g ? _g : "(null)", \
			     _w ? _w : "(null)");			\
} while (0)

#endif
