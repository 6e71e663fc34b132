/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runner for the unit-test harness (see test_harness.h): runs registered
 * tests in source order and prints TAP on stdout. Diagnostics go to stdout as
 * "# " lines so they stay next to the result they explain; library logs go to
 * stderr.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_harness.h"

#define TH_MAX_TESTS 2048

struct th_test {
	const char *file;	/* source file, for ordering */
	int line;		/* line of TEST(), for ordering */
	unsigned int seq;	/* registration order, for rows registered from one line */
	const char *name;	/* printed in the TAP line */
	void (*fn)(void);	/* a TEST(), or NULL */
	void (*fn_arg)(const void *arg); /* a table row, or NULL */
	const void *arg;	/* the row */
};

static struct th_test th_tests[TH_MAX_TESTS];
static unsigned int th_ntests;
static bool th_overflow;	/* more tests than TH_MAX_TESTS: the run fails */
static sigjmp_buf th_jmp;	/* where a failed assertion returns to */
static bool th_running;		/* th_jmp is valid */

static void
th_add(struct th_test t)
{
	if (th_ntests == TH_MAX_TESTS) {
		th_overflow = true;
		return;
	}
	t.seq = th_ntests;
	th_tests[th_ntests++] = t;
}

void
th_register(const char *file, int line, const char *name, void (*fn)(void))
{
	th_add((struct th_test){ .file = file, .line = line, .name = name, .fn = fn });
}

void
th_register_arg(const char *file, int line, const char *name, void (*fn)(const void *arg),
		const void *arg)
{
	char *copy = strdup(name);

	if (copy == NULL) {
		th_overflow = true;
		return;
	}
	th_add((struct th_test){ .file = file, .line = line, .name = copy, .fn_arg = fn,
				 .arg = arg });
}

void
th_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void
th_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	if (th_running)
		siglongjmp(th_jmp, 1);
	/* An assertion outside a test (in a constructor): nothing to return to. */
	exit(2);
}

static const char *
op_name(enum th_op op)
{
	static const char *const names[] = { "==", "!=", "<", "<=", ">", ">=" };

	return names[op];
}

void
th_check_int(const char *file, int line, const char *ea, const char *eb, int64_t a, int64_t b,
	     enum th_op op)
{
	bool ok;

	switch (op) {
	case TH_EQ: ok = a == b; break;
	case TH_NE: ok = a != b; break;
	case TH_LT: ok = a < b; break;
	case TH_LE: ok = a <= b; break;
	case TH_GT: ok = a > b; break;
	default: ok = a >= b; break;
	}
	if (!ok)
		th_fail(file, line, "expected %s %s %s, got %" PRId64 " (0x%" PRIx64 ") vs %" PRId64
			" (0x%" PRIx64 ")", ea, op_name(op), eb, a, (uint64_t)a, b, (uint64_t)b);
}

void
th_check_mem(const char *file, int line, const char *ea, const char *eb, const void *a,
	     const void *b, size_t len)
{
	const uint8_t *pa = a, *pb = b;
	size_t i;

	for (i = 0; i < len; i++) {
		if (pa[i] != pb[i])
			th_fail(file, line, "%s and %s differ at byte %zu of %zu: 0x%02x vs 0x%02x",
				ea, eb, i, len, pa[i], pb[i]);
	}
}

void
th_check_str_contains(const char *file, int line, const char *eh, const char *hay,
		      const char *needle)
{
	if (hay == NULL || strstr(hay, needle) == NULL)
		th_fail(file, line, "%s is \"%s\", which does not contain \"%s\"", eh,
			hay != NULL ? hay : "(null)", needle);
}

static int
test_cmp(const void *a, const void *b)
{
	const struct th_test *ta = a, *tb = b;
	int c = strcmp(ta->file, tb->file);

	if (c != 0)
		return c;
	if (ta->line != tb->line)
		return (ta->line > tb->line) - (ta->line < tb->line);
	return (ta->seq > tb->seq) - (ta->seq < tb->seq);
}

/*
 * A fault inside a test: report it as that test's failure and go on with the
 * next. Not async-signal-safe in general (stdio), which is acceptable here:
 * the alternative is losing the TAP stream and every later result.
 */
static void
th_fault(int sig, siginfo_t *si, void *uc)
{
	if (!th_running) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	th_fail("(signal)", 0, "%s at address %p: memory outside what the test mapped was "
		"touched (a guard page?)", sig == SIGSEGV ? "SIGSEGV" : "SIGBUS", si->si_addr);
}

static void
th_catch_faults(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = th_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* Run one test; false if an assertion failed. No local changes after sigsetjmp(). */
static bool
run_one(const struct th_test *t)
{
	th_running = true;
	if (sigsetjmp(th_jmp, 1) != 0) {
		th_running = false;
		return false;
	}
	if (t->fn != NULL)
		t->fn();
	else
		t->fn_arg(t->arg);
	th_running = false;
	return true;
}

int
main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	unsigned int i, n = 0, failed = 0;

	if (th_overflow) {
		printf("Bail out! more than %u tests registered\n", TH_MAX_TESTS);
		return 2;
	}
	qsort(th_tests, th_ntests, sizeof(th_tests[0]), test_cmp);
	th_catch_faults();
	for (i = 0; i < th_ntests; i++)
		if (filter == NULL || strstr(th_tests[i].name, filter) != NULL)
			n++;
	printf("1..%u\n", n);
	fflush(stdout);
	n = 0;
	for (i = 0; i < th_ntests; i++) {
		const struct th_test *t = &th_tests[i];
		bool ok;

		if (filter != NULL && strstr(t->name, filter) == NULL)
			continue;
		n++;
		ok = run_one(t);
		printf("%sok %u - %s\n", ok ? "" : "not ", n, t->name);
		fflush(stdout);
		if (!ok)
			failed++;
	}
	if (failed > 0)
		printf("# %u of %u tests failed\n", failed, n);
	return failed > 0 ? 1 : 0;
}
