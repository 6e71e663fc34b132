/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The unit-test harness: tests register themselves with TEST(name), the
 * ASSERT_* macros report file:line with the expression and the values that
 * disagreed, and main() (test_harness.c) runs every test in source order and
 * prints TAP: a plan line "1..N", then "ok N - name" or "not ok N - name".
 * The binary exits non-zero if any test failed.
 *
 * A failed assertion ends its test at once (longjmp back to the runner); what
 * the test allocated after that point leaks, which is acceptable in a test
 * process but means a test must not leave shared state half changed for the
 * tests after it. A SIGSEGV or SIGBUS inside a test (the library touched a
 * guard page around synthetic guest memory) fails that test the same way,
 * naming the faulting address, and the run goes on.
 *
 * Table-driven tests register one TAP test per row with th_register_arg()
 * from a constructor; each gets its own name and its row as argument.
 *
 * Usage: test_foo [substring] runs only the tests whose name contains it.
 */
#ifndef VHU_TEST_HARNESS_H
#define VHU_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Add a test; called from the constructor TEST() generates. */
void th_register(const char *file, int line, const char *name, void (*fn)(void));

/*
 * Add a test that runs fn(arg); 'name' is copied. Tests registered from one
 * place keep their registration order.
 */
void th_register_arg(const char *file, int line, const char *name, void (*fn)(const void *arg),
		     const void *arg);

/* Report a failed assertion and end the running test. */
void th_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/* Print a TAP diagnostic line ("# ...") for the running test. */
void th_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Comparison kinds for th_check_*(). */
enum th_op { TH_EQ, TH_NE, TH_LT, TH_LE, TH_GT, TH_GE };

void th_check_int(const char *file, int line, const char *ea, const char *eb, int64_t a,
		  int64_t b, enum th_op op);
void th_check_mem(const char *file, int line, const char *ea, const char *eb, const void *a,
		  const void *b, size_t len);
void th_check_str_contains(const char *file, int line, const char *eh, const char *hay,
			   const char *needle);

/*
 * Define a test. The constructor registers it before main() runs; the runner
 * orders tests by file and line so the TAP numbering follows the source.
 */
#define TEST(name) \
	static void name(void); \
	__attribute__((constructor)) static void \
	th_register_##name(void) \
	{ \
		th_register(__FILE__, __LINE__, #name, name); \
	} \
	static void name(void)

#define ASSERT_TRUE(c) \
	do { \
		if (!(c)) \
			th_fail(__FILE__, __LINE__, "ASSERT_TRUE(%s) failed", #c); \
	} while (0)

#define ASSERT_FALSE(c) \
	do { \
		if (c) \
			th_fail(__FILE__, __LINE__, "ASSERT_FALSE(%s) failed", #c); \
	} while (0)

/*
 * Integer comparisons. Values are compared as int64_t, which holds every
 * value these tests compare (sizes, indexes, counts, errno values, 64-bit
 * feature masks by their bit pattern for EQ/NE).
 */
#define ASSERT_EQ(a, b) \
	th_check_int(__FILE__, __LINE__, #a, #b, (int64_t)(a), (int64_t)(b), TH_EQ)
#define ASSERT_NE(a, b) \
	th_check_int(__FILE__, __LINE__, #a, #b, (int64_t)(a), (int64_t)(b), TH_NE)
#define ASSERT_LT(a, b) \
	th_check_int(__FILE__, __LINE__, #a, #b, (int64_t)(a), (int64_t)(b), TH_LT)
#define ASSERT_LE(a, b) \
	th_check_int(__FILE__, __LINE__, #a, #b, (int64_t)(a), (int64_t)(b), TH_LE)
#define ASSERT_GT(a, b) \
	th_check_int(__FILE__, __LINE__, #a, #b, (int64_t)(a), (int64_t)(b), TH_GT)
#define ASSERT_GE(a, b) \
	th_check_int(__FILE__, __LINE__, #a, #b, (int64_t)(a), (int64_t)(b), TH_GE)

#define ASSERT_PTR_EQ(a, b) \
	th_check_int(__FILE__, __LINE__, #a, #b, (int64_t)(uintptr_t)(const void *)(a), \
		     (int64_t)(uintptr_t)(const void *)(b), TH_EQ)
#define ASSERT_NULL(p) \
	th_check_int(__FILE__, __LINE__, #p, "NULL", (int64_t)(uintptr_t)(const void *)(p), 0, \
		     TH_EQ)
#define ASSERT_NOT_NULL(p) \
	do { \
		if ((p) == NULL) \
			th_fail(__FILE__, __LINE__, "ASSERT_NOT_NULL(%s) failed", #p); \
	} while (0)

/* Byte-wise equality; a failure names the first differing offset. */
#define ASSERT_MEM_EQ(a, b, len) th_check_mem(__FILE__, __LINE__, #a, #b, a, b, len)

#define ASSERT_STR_CONTAINS(hay, needle) \
	th_check_str_contains(__FILE__, __LINE__, #hay, hay, needle)

#endif /* VHU_TEST_HARNESS_H */
