/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runs a fuzz target without libFuzzer: every file of the directories (or
 * the files) named on the command line goes once through
 * LLVMFuzzerTestOneInput(), in name order, so that the seed corpus and every
 * crash ever found run in the normal test run, with any compiler. A crash or
 * a failed oracle aborts; otherwise it prints TAP, one line per directory.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int
run_file(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		printf("# cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* Named before it runs: if it crashes, the log says which input did. */
	fprintf(stderr, "replaying %s (%zu bytes)\n", path, n);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of 'dir'; the count, or -1. A missing directory holds none. */
static int
run_dir(const char *dir)
{
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	struct dirent *e;
	DIR *d = opendir(dir);
	int ran = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				abort();
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && run_file(path) == 0)
			ran++;
		free(names[i]);
	}
	free(names);
	return ran;
}

int
main(int argc, char **argv)
{
	int i, total = 0, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	printf("1..%d\n", argc - 1);
	for (i = 1; i < argc; i++) {
		struct stat st;
		int n;

		if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode))
			n = run_file(argv[i]) == 0 ? 1 : -1;
		else
			n = run_dir(argv[i]);
		if (n < 0) {
			printf("not ok %d - %s: cannot be read\n", i, argv[i]);
			failed++;
			continue;
		}
		printf("ok %d - %s: %d inputs replayed\n", i, argv[i], n);
		total += n;
	}
	printf("# %d inputs replayed\n", total);
	return failed > 0 ? 1 : 0;
}
