/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The interactive shell of vhu-pmd (-i), dpdk-testpmd's commands spelled
 * dpdk-testpmd's way.
 *
 * Every command is one row of pmd_cmds[]: its words, its argument syntax,
 * one line of help and its handler, which lives in the module it controls.
 * The argument syntax drives everything else: checking the arguments before
 * the handler runs, the usage printed after an error, "help", and tab
 * completion. In it, lowercase words are literal, capitals are values (PORT:
 * an attached port's number, MODE: a forwarding mode, N: a number, FILE,
 * SPEC: any word), '|' separates choices, [X] is optional and "COMMAND..."
 * takes the rest of the line.
 *
 * Lines come from --cmdline-file first, then from standard input: with line
 * editing, history and tab completion (libedit) on a terminal, as plain lines
 * otherwise, so that scripts can drive it. In the plain case every line is
 * echoed after the prompt, so that a log reads like a session.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef VHU_HAVE_LIBEDIT
#include <histedit.h>
#endif

#include "fwd.h"
#include "vhu_pmd.h"

#define PROMPT PMD_NAME "> "
/* Longest line, most words in one, and most completion candidates. */
#define LINE_MAX_LEN 4096
#define MAX_WORDS    32
#define MAX_CANDS    64
#define CAND_LEN     64
/* Command and argument columns in "help". */
#define HELP_COLUMN 36

struct pmd_cmd {
	const char *name; /* its words, e.g. "show port stats" */
	const char *args; /* argument syntax, e.g. "all|PORT"; "" for none */
	const char *help; /* what it does, one line */
	pmd_cmd_fn fn;
};

static const struct pmd_cmd pmd_cmds[] = {
	{"help", "[COMMAND...]", "list the commands, or those that start with COMMAND", cmd_help},
	{"start", "", "start forwarding on the started ports", cmd_start},
	{"start tx_first", "[N]",
	 "send N bursts (default 1) of txonly packets on every stream, then forward",
	 cmd_start_tx_first},
	{"stop", "", "stop forwarding and show the forward statistics", cmd_stop},
	{"show port info", "all|PORT", "show a port's driver, state, queues and status",
	 cmd_show_port_info},
	{"show port stats", "all|PORT", "show a port's counters and rates, per queue too",
	 cmd_show_port_stats},
	{"show port xstats", "all|PORT",
	 "show a port's extended statistics: sizes, casts, errors by kind", cmd_show_port_xstats},
	{"clear port stats", "all|PORT", "reset a port's counters", cmd_clear_port_stats},
	{"show fwd stats", "all", "show the forward statistics and each lcore's load",
	 cmd_show_fwd_stats},
	{"show config", "fwd|cores|rxtx", "show the streams, the lcores or the options",
	 cmd_show_config},
	{"show vhost", "PORT", "show a vhost-user port's socket, features and virtqueues",
	 cmd_show_vhost},
	{"set fwd", "MODE", "choose the forwarding engine (applies at once)", cmd_set_fwd},
	{"set burst", "N", "set the packets per burst, 1..512 (applies at once)", cmd_set_burst},
	{"set txpkts", "N[,N...]", "set the txonly frame size or segment sizes", cmd_set_txpkts},
	{"set nbcore", "N", "set how many lcores forward from the next start", cmd_set_nbcore},
	{"set verbose", "N", "print packets: 0 none, 1 received, 2 sent, 3 both", cmd_set_verbose},
	{"set record-core-cycles", "on|off", "count each lcore's busy and idle cycles",
	 cmd_set_record_core_cycles},
	{"set flowgen-flows", "N", "set the flows flowgen sends, 1..65536 (applies at once)",
	 cmd_set_flowgen_flows},
	{"set icmpecho-addr", "ADDR|any", "set the IPv4 address icmpecho answers for",
	 cmd_set_icmpecho_addr},
	{"csum set", "ip|udp|tcp hw|sw PORT",
	 "csum engine: leave a checksum to the port's offload, or compute it", cmd_csum_set},
	{"csum show", "PORT", "show how the csum engine sets each checksum on a port",
	 cmd_csum_show},
	{"set xstats", "on|off", "count frame sizes, broadcast and multicast on every port",
	 cmd_set_xstats},
	{"port start", "all|PORT", "start a port; forwarding takes it up at once", cmd_port_start},
	{"port stop", "all|PORT", "stop a port; the others go on forwarding", cmd_port_stop},
	{"port attach", "SPEC", "make a port from a device string, e.g. ring,name=r2",
	 cmd_port_attach},
	{"port detach", "PORT", "stop a port and remove it", cmd_port_detach},
	{"capture start", "PORT FILE [SNAPLEN]",
	 "write what a port receives and sends to a pcapng FILE", cmd_capture_start},
	{"capture stop", "PORT", "stop a capture and close its file", cmd_capture_stop},
	{"quit", "", "stop forwarding and the ports, and exit", cmd_quit},
};

void
pmd_error(const char *fmt, ...)
{
	va_list ap;

	printf("Error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Split 'line' in place into at most max words; returns how many (max + 1 if more). */
static unsigned int
split_words(char *line, char **words, unsigned int max)
{
	unsigned int n = 0;
	char *p = line;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			return n;
		if (n == max)
			return max + 1;
		words[n++] = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

/* The words of a command's name, in a buffer of the caller's. */
static unsigned int
name_words(const struct pmd_cmd *c, char *buf, size_t len, char **words)
{
	snprintf(buf, len, "%s", c->name);
	return split_words(buf, words, MAX_WORDS);
}

/* One argument of a command's syntax. */
struct arg_spec {
	char text[64]; /* as written, e.g. "[N]" or "all|PORT" */
	char alts[64]; /* the choices without brackets, '|'-separated */
	bool optional; /* [X] */
	bool rest;     /* X...: takes the rest of the line */
};

static unsigned int
arg_specs(const struct pmd_cmd *c, struct arg_spec *specs, unsigned int max)
{
	char buf[128], *words[MAX_WORDS];
	unsigned int n, i;
	size_t len;

	snprintf(buf, sizeof(buf), "%s", c->args);
	n = RTE_MIN(split_words(buf, words, MAX_WORDS), max);
	for (i = 0; i < n; i++) {
		struct arg_spec *s = &specs[i];

		snprintf(s->text, sizeof(s->text), "%s", words[i]);
		s->optional = words[i][0] == '[';
		snprintf(s->alts, sizeof(s->alts), "%s", words[i] + (s->optional ? 1 : 0));
		len = strlen(s->alts);
		if (s->optional && len > 0 && s->alts[len - 1] == ']')
			s->alts[--len] = '\0';
		s->rest = len > 3 && strcmp(&s->alts[len - 3], "...") == 0 &&
			  strchr(s->alts, ',') == NULL;
	}
	return n;
}

static bool
is_value(const char *alt)
{
	return isupper((unsigned char)alt[0]);
}

/* Does 'word' fit one choice of an argument? */
static bool
alt_accepts(const char *alt, const char *word)
{
	unsigned long id;

	if (!is_value(alt))
		return strcmp(alt, word) == 0;
	if (strcmp(alt, "PORT") == 0)
		return pmd_parse_uint(word, 0, VHU_PORT_MAX - 1, &id) && vhu_port_get(id) != NULL;
	if (strcmp(alt, "MODE") == 0)
		return fwd_engine_find(word) != NULL;
	/* N, SNAPLEN, FILE, SPEC, N[,N...]: the handler checks the value. */
	return true;
}

/* "all or an attached port number (0 1)" and the like, for error messages. */
static void
describe_alts(const char *alts, char *out, size_t len)
{
	char buf[64], *save = NULL, *alt;
	size_t off = 0;
	unsigned int i, n = 0;

	snprintf(buf, sizeof(buf), "%s", alts);
	out[0] = '\0';
	for (alt = strtok_r(buf, "|", &save); alt != NULL; alt = strtok_r(NULL, "|", &save)) {
		off += snprintf(out + off, off < len ? len - off : 0, "%s", n++ == 0 ? "" : " or ");
		if (strcmp(alt, "PORT") == 0) {
			struct vhu_port *ports[VHU_PORT_MAX];
			unsigned int nb = pmd_ports(ports);

			off += snprintf(out + off, off < len ? len - off : 0,
					"an attached port (%s", nb == 0 ? "none is attached" : "");
			for (i = 0; i < nb; i++)
				off += snprintf(out + off, off < len ? len - off : 0, "%s%u",
						i == 0 ? "" : " ", ports[i]->id);
			off += snprintf(out + off, off < len ? len - off : 0, ")");
		} else if (strcmp(alt, "MODE") == 0) {
			const struct fwd_engine *eng;

			off += snprintf(out + off, off < len ? len - off : 0,
					"a forwarding mode (");
			for (i = 0; (eng = fwd_engine_get(i)) != NULL; i++)
				off += snprintf(out + off, off < len ? len - off : 0, "%s%s",
						i == 0 ? "" : " ", eng->name);
			off += snprintf(out + off, off < len ? len - off : 0, ")");
		} else {
			off += snprintf(out + off, off < len ? len - off : 0, "%s", alt);
		}
	}
}

static void
print_usage(const struct pmd_cmd *c)
{
	printf("Usage: %s%s%s\n", c->name, c->args[0] != '\0' ? " " : "", c->args);
}

/* The command whose words start 'words' and are the most of them; NULL if none. */
static const struct pmd_cmd *
cmd_lookup(char **words, unsigned int nw, unsigned int *matched)
{
	const struct pmd_cmd *best = NULL;
	char buf[128], *cw[MAX_WORDS];
	unsigned int i, j, n;

	*matched = 0;
	for (i = 0; i < RTE_DIM(pmd_cmds); i++) {
		n = name_words(&pmd_cmds[i], buf, sizeof(buf), cw);
		if (n > nw || n <= *matched)
			continue;
		for (j = 0; j < n && strcmp(cw[j], words[j]) == 0; j++)
			;
		if (j == n) {
			best = &pmd_cmds[i];
			*matched = n;
		}
	}
	return best;
}

/* The usage of every command whose first k words are words[0..k); how many. */
static unsigned int
print_usages_with_prefix(char **words, unsigned int k)
{
	char buf[128], *cw[MAX_WORDS];
	unsigned int i, j, n, count = 0;

	for (i = 0; i < RTE_DIM(pmd_cmds); i++) {
		n = name_words(&pmd_cmds[i], buf, sizeof(buf), cw);
		if (n < k)
			continue;
		for (j = 0; j < k && strcmp(cw[j], words[j]) == 0; j++)
			;
		if (j < k)
			continue;
		if (count++ == 0)
			printf("Usage: ");
		else
			printf("       ");
		printf("%s%s%s\n", pmd_cmds[i].name, pmd_cmds[i].args[0] != '\0' ? " " : "",
		       pmd_cmds[i].args);
	}
	return count;
}

/* "Usage: help|start|stop|show|... ARGUMENTS": the first words of the commands. */
static void
print_first_words(void)
{
	char buf[128], *cw[MAX_WORDS], seen[512] = "|";
	size_t off = 1;
	unsigned int i;

	printf("Usage: ");
	for (i = 0; i < RTE_DIM(pmd_cmds); i++) {
		char key[72];

		name_words(&pmd_cmds[i], buf, sizeof(buf), cw);
		snprintf(key, sizeof(key), "|%s|", cw[0]);
		if (strstr(seen, key) != NULL)
			continue;
		off += snprintf(seen + off, off < sizeof(seen) ? sizeof(seen) - off : 0, "%s|",
				cw[0]);
		printf("%s%s", i == 0 ? "" : "|", cw[0]);
	}
	printf(" [WORDS] [ARGUMENTS]\n");
}

/* No command matches: say so, with the commands that share the longest prefix. */
static void
unknown_command(char **words, unsigned int nw)
{
	char line[LINE_MAX_LEN] = "", prefix[LINE_MAX_LEN] = "";
	size_t off = 0;
	unsigned int i, k;

	for (i = 0; i < nw; i++)
		off += snprintf(line + off, off < sizeof(line) ? sizeof(line) - off : 0, "%s%s",
				i == 0 ? "" : " ", words[i]);
	for (k = nw; k > 0; k--) {
		/* Do any commands start with words[0..k)? Count them without printing. */
		char buf[128], *cw[MAX_WORDS];
		unsigned int c, j, n, found = 0;

		for (c = 0; c < RTE_DIM(pmd_cmds); c++) {
			n = name_words(&pmd_cmds[c], buf, sizeof(buf), cw);
			for (j = 0; j < k && j < n && strcmp(cw[j], words[j]) == 0; j++)
				;
			found += j == k;
		}
		if (found > 0)
			break;
	}
	if (k == 0) {
		pmd_error("unknown command '%s'; type 'help' for the list", line);
		print_first_words();
		return;
	}
	for (i = 0, off = 0; i < k; i++)
		off += snprintf(prefix + off, off < sizeof(prefix) ? sizeof(prefix) - off : 0,
				"%s%s", i == 0 ? "" : " ", words[i]);
	pmd_error("'%s' is not a complete command; the commands that start with '%s' are:", line,
		  prefix);
	print_usages_with_prefix(words, k);
}

/* Check args against the command's syntax; false after printing the error and usage. */
static bool
args_check(const struct pmd_cmd *c, char **args, unsigned int na)
{
	struct arg_spec specs[8];
	unsigned int ns = arg_specs(c, specs, RTE_DIM(specs)), i, required = 0;
	bool rest = ns > 0 && specs[ns - 1].rest;
	char what[512];

	for (i = 0; i < ns; i++)
		required += !specs[i].optional;
	if (na < required) {
		pmd_error("%s: missing %s", c->name, specs[na].text);
		goto usage;
	}
	if (na > ns && !rest) {
		pmd_error("%s: too many arguments, from '%s' on", c->name, args[ns]);
		goto usage;
	}
	for (i = 0; i < na && i < ns; i++) {
		char alts[64], *save = NULL, *alt;
		bool ok = false;

		if (specs[i].rest)
			break;
		snprintf(alts, sizeof(alts), "%s", specs[i].alts);
		for (alt = strtok_r(alts, "|", &save); alt != NULL && !ok;
		     alt = strtok_r(NULL, "|", &save))
			ok = alt_accepts(alt, args[i]);
		if (!ok) {
			describe_alts(specs[i].alts, what, sizeof(what));
			pmd_error("%s: '%s' is not valid; give %s", c->name, args[i], what);
			goto usage;
		}
	}
	return true;
usage:
	print_usage(c);
	return false;
}

/* Run one line. Returns the handler's result, -EINVAL for a bad line, 0 for a blank one. */
static int
cmdline_exec(struct pmd *pmd, char *line)
{
	char *words[MAX_WORDS + 1];
	const struct pmd_cmd *c;
	unsigned int nw, matched;
	int rc;

	nw = split_words(line, words, MAX_WORDS);
	if (nw == 0 || words[0][0] == '#')
		return 0;
	if (nw > MAX_WORDS) {
		pmd_error("too many words in one command (at most %u)", MAX_WORDS);
		return -EINVAL;
	}
	c = cmd_lookup(words, nw, &matched);
	if (c == NULL) {
		unknown_command(words, nw);
		return -EINVAL;
	}
	if (!args_check(c, &words[matched], nw - matched))
		return -EINVAL;
	rc = c->fn(pmd, nw - matched, &words[matched]);
	if (rc == -EINVAL)
		print_usage(c);
	fflush(stdout);
	return rc;
}

/* --- help and quit ---------------------------------------------------------------- */

static void
help_line(const struct pmd_cmd *c)
{
	char syntax[128];

	snprintf(syntax, sizeof(syntax), "%s%s%s", c->name, c->args[0] != '\0' ? " " : "", c->args);
	printf("  %-*s %s\n", HELP_COLUMN, syntax, c->help);
}

int
cmd_help(struct pmd *pmd, unsigned int argc, char **argv)
{
	char buf[128], *cw[MAX_WORDS];
	unsigned int i, j, n, shown = 0;

	if (argc == 0)
		printf("Commands (lowercase words are typed as they are, CAPITALS are values:\n"
		       "PORT a port number, MODE a forwarding mode; [X] is optional, a|b a "
		       "choice):\n");
	for (i = 0; i < RTE_DIM(pmd_cmds); i++) {
		n = name_words(&pmd_cmds[i], buf, sizeof(buf), cw);
		for (j = 0; j < argc && j < n && strcmp(cw[j], argv[j]) == 0; j++)
			;
		if (j < argc)
			continue;
		help_line(&pmd_cmds[i]);
		shown++;
	}
	if (shown == 0) {
		char words[LINE_MAX_LEN];
		size_t off = 0;

		for (i = 0; i < argc; i++)
			off += snprintf(words + off, off < sizeof(words) ? sizeof(words) - off : 0,
					"%s%s", i == 0 ? "" : " ", argv[i]);
		pmd_error("help: no command starts with '%s'; 'help' lists them all", words);
		return -EINVAL;
	}
	if (argc == 0) {
		printf("Forwarding modes:");
		for (i = 0; fwd_engine_get(i) != NULL; i++)
			printf(" %s", fwd_engine_get(i)->name);
		printf("\nDevice strings for 'port attach': see 'vhu-pmd -- --help'.\n");
#ifdef VHU_HAVE_LIBEDIT
		printf("On a terminal: Tab completes commands, ports and modes; Up and Down "
		       "recall earlier lines.\n");
#endif
	}
	return 0;
}

int
cmd_quit(struct pmd *pmd, unsigned int argc, char **argv)
{
	pmd->quit = true;
	return 0;
}

/* --- completion (line editing only) ------------------------------------------------- */

#ifdef VHU_HAVE_LIBEDIT

struct candidates {
	char word[MAX_CANDS][CAND_LEN];
	unsigned int n;
	const char *prefix; /* what the word typed so far is */
};

static void
cand_add(struct candidates *c, const char *word)
{
	unsigned int i;

	if (strncmp(word, c->prefix, strlen(c->prefix)) != 0 || c->n == MAX_CANDS)
		return;
	for (i = 0; i < c->n; i++) {
		if (strcmp(c->word[i], word) == 0)
			return;
	}
	snprintf(c->word[c->n++], CAND_LEN, "%s", word);
}

/* The choices of one argument that can be listed: literal words, ports, modes. */
static void
cand_add_arg(struct candidates *c, const struct arg_spec *spec)
{
	char alts[64], *save = NULL, *alt, num[8];
	struct vhu_port *ports[VHU_PORT_MAX];
	unsigned int i, n;

	snprintf(alts, sizeof(alts), "%s", spec->alts);
	for (alt = strtok_r(alts, "|", &save); alt != NULL; alt = strtok_r(NULL, "|", &save)) {
		if (!is_value(alt)) {
			cand_add(c, alt);
		} else if (strcmp(alt, "PORT") == 0) {
			n = pmd_ports(ports);
			for (i = 0; i < n; i++) {
				snprintf(num, sizeof(num), "%u", ports[i]->id);
				cand_add(c, num);
			}
		} else if (strcmp(alt, "MODE") == 0) {
			for (i = 0; fwd_engine_get(i) != NULL; i++)
				cand_add(c, fwd_engine_get(i)->name);
		}
	}
}

/* Candidates for the next word after words[0..nw) (a command, then its arguments). */
static void
cand_after(struct candidates *c, char **words, unsigned int nw)
{
	char buf[128], *cw[MAX_WORDS];
	struct arg_spec specs[8];
	unsigned int i, j, n, ns;

	for (i = 0; i < RTE_DIM(pmd_cmds); i++) {
		n = name_words(&pmd_cmds[i], buf, sizeof(buf), cw);
		for (j = 0; j < n && j < nw && strcmp(cw[j], words[j]) == 0; j++)
			;
		if (j < RTE_MIN(n, nw))
			continue;
		if (nw < n) {
			cand_add(c, cw[nw]);
			continue;
		}
		/* The arguments; a longer command (start tx_first) wins over its prefix. */
		if (cmd_lookup(words, nw, &j) != &pmd_cmds[i])
			continue;
		ns = arg_specs(&pmd_cmds[i], specs, RTE_DIM(specs));
		if (nw - n < ns)
			cand_add_arg(c, &specs[nw - n]);
	}
}

/*
 * The completions of the last word of 'line' (empty when the line ends in a
 * space). Fills c; takes no lock (the caller holds pmd->lock).
 */
static void
cmdline_candidates(const char *line, struct candidates *c)
{
	char buf[LINE_MAX_LEN], *words[MAX_WORDS + 1];
	size_t len = strlen(line);
	unsigned int nw;

	snprintf(buf, sizeof(buf), "%s", line);
	nw = split_words(buf, words, MAX_WORDS);
	c->n = 0;
	c->prefix = "";
	if (nw > MAX_WORDS)
		return;
	if (nw > 0 && (len == 0 || !isspace((unsigned char)line[len - 1])))
		c->prefix = words[--nw];
	/* "help" takes a command's words as its arguments. */
	if (nw > 0 && strcmp(words[0], "help") == 0)
		cand_after(c, &words[1], nw - 1);
	else
		cand_after(c, words, nw);
}

#endif /* VHU_HAVE_LIBEDIT */

/* --- input --------------------------------------------------------------------------- */

/* Run one line of input with the lock held; false once the shell should end. */
static bool
cmdline_line(struct pmd *pmd, char *line, bool echo)
{
	size_t len = strlen(line);

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (echo)
		printf(PROMPT "%s\n", line);
	pthread_mutex_lock(&pmd->lock);
	if (fwd_lcore_failed(pmd))
		pmd_error("a forwarding lcore stopped on its own (see above); 'stop', then 'start' "
			  "again");
	cmdline_exec(pmd, line);
	ports_check_links(pmd);
	pthread_mutex_unlock(&pmd->lock);
	fflush(stdout);
	return !pmd->quit;
}

static int
cmdline_run_file(struct pmd *pmd, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int rc = 0;

	f = fopen(path, "r");
	if (f == NULL) {
		rc = -errno;
		pmd_error("--cmdline-file=%s: cannot open it: %s", path, strerror(-rc));
		return rc;
	}
	printf("Read CLI commands from %s\n", path);
	while (getline(&line, &cap, f) >= 0) {
		if (!cmdline_line(pmd, line, true))
			break;
	}
	free(line);
	fclose(f);
	return 0;
}

/* How long the shell waits for input between looks at the signal flag. */
#define CMDLINE_POLL_MS 100

/*
 * Wait until 'fd' has input (or its end, or an error for the read to
 * report); false as soon as a signal was seen. The shell never waits for
 * input inside read(): a SIGINT that lands on another of the process's
 * threads (DPDK's, the forwarding lcores'), or on this one after the flag
 * was tested but before read() began, interrupts no read, and the shell
 * would wait for a key after Ctrl-C. Polling a tenth of a second at a time,
 * it sees the flag whichever thread took the signal, and when.
 */
static bool
cmdline_wait_input(int fd, volatile const sig_atomic_t *signal_seen)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	/* Atomic: the flag is set by a handler that may run on another thread. */
	while (__atomic_load_n(signal_seen, __ATOMIC_RELAXED) == 0) {
		int n = poll(&p, 1, CMDLINE_POLL_MS);

		if (n > 0 || (n < 0 && errno != EINTR))
			return true;
	}
	return false;
}

/* Plain lines, with the prompt and the line echoed, until EOF, "quit" or a signal. */
static void
cmdline_run_plain(struct pmd *pmd, volatile const sig_atomic_t *signal_seen)
{
	char *line = NULL;
	size_t cap = 0;

	/*
	 * Unbuffered: no line may wait in stdio's buffer, where poll() cannot see
	 * it. The wait is before each line: a line that arrives in parts (a pipe
	 * fed a few bytes at a time) is read to its end inside getline(), as
	 * before; on a terminal with libedit, el_read_char() waits per key.
	 */
	setvbuf(stdin, NULL, _IONBF, 0);
	for (;;) {
		if (!cmdline_wait_input(STDIN_FILENO, signal_seen))
			break;
		errno = 0;
		if (getline(&line, &cap, stdin) < 0) {
			if (errno == EINTR && *signal_seen == 0) {
				clearerr(stdin);
				continue;
			}
			break;
		}
		if (!cmdline_line(pmd, line, true) || *signal_seen != 0)
			break;
	}
	free(line);
}

#ifdef VHU_HAVE_LIBEDIT

static char *
el_prompt(EditLine *el)
{
	return (char *)(uintptr_t)PROMPT;
}

/* Longest common prefix of the candidates' words. */
static size_t
cand_common(const struct candidates *c)
{
	size_t len = strlen(c->word[0]), j;
	unsigned int i;

	for (i = 1; i < c->n; i++) {
		for (j = 0; j < len && c->word[i][j] == c->word[0][j]; j++)
			;
		len = j;
	}
	return len;
}

/* Tab: complete the word before the cursor, or list the choices. */
static unsigned char
el_complete(EditLine *el, int ch)
{
	static struct candidates c;
	const LineInfo *li = el_line(el);
	char line[LINE_MAX_LEN], ins[CAND_LEN + 1];
	size_t len = RTE_MIN((size_t)(li->cursor - li->buffer), sizeof(line) - 1), plen, common;
	struct pmd *pmd = NULL;
	unsigned int i;

	memcpy(line, li->buffer, len);
	line[len] = '\0';
	el_get(el, EL_CLIENTDATA, &pmd);
	pthread_mutex_lock(&pmd->lock);
	cmdline_candidates(line, &c);
	pthread_mutex_unlock(&pmd->lock);
	if (c.n == 0)
		return CC_REFRESH_BEEP;
	plen = strlen(c.prefix);
	common = cand_common(&c);
	if (common > plen || c.n == 1) {
		snprintf(ins, sizeof(ins), "%.*s%s", (int)(common - plen), c.word[0] + plen,
			 c.n == 1 ? " " : "");
		el_insertstr(el, ins);
		return CC_REFRESH;
	}
	printf("\n");
	for (i = 0; i < c.n; i++)
		printf("%s%s", c.word[i], i + 1 < c.n ? "  " : "\n");
	return CC_REDISPLAY;
}

/* The flag cmdline_run_edit()'s reader watches (libedit passes it no data of ours). */
static volatile const sig_atomic_t *el_signal_seen;

/*
 * libedit's character reader: one character from the terminal, in the
 * locale's multibyte form, waiting with cmdline_wait_input() so that a
 * signal ends el_gets() wherever it landed. Returns 1, 0 at the end of
 * input or on a signal (el_gets() then returns NULL), -1 on an error. A
 * byte sequence the locale cannot decode is dropped. vhu-pmd leaves the C
 * locale in force (no setlocale()), so that is any byte above 0x7f: the
 * commands are ASCII.
 */
static int
el_read_char(EditLine *el, wchar_t *wc)
{
	char buf[MB_LEN_MAX];
	mbstate_t st;
	size_t n = 0, r;
	ssize_t got;

	RTE_SET_USED(el);
	for (;;) {
		if (!cmdline_wait_input(STDIN_FILENO, el_signal_seen))
			return 0;
		got = read(STDIN_FILENO, &buf[n], 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return (int)got;
		n++;
		memset(&st, 0, sizeof(st));
		r = mbrtowc(wc, buf, n, &st);
		if (r == (size_t)-2 && n < sizeof(buf))
			continue; /* more bytes to come */
		if (r == (size_t)-1 && n > 1) {
			/* The last byte may start a character of its own (Enter after
			 * a stray lead byte): drop what came before it, decode it again. */
			buf[0] = buf[n - 1];
			n = 1;
			memset(&st, 0, sizeof(st));
			r = mbrtowc(wc, buf, n, &st);
			if (r == (size_t)-2)
				continue;
		}
		if (r == (size_t)-1 || r == (size_t)-2) {
			n = 0;
			continue;
		}
		return 1;
	}
}

/* A terminal: libedit with history and completion. */
static void
cmdline_run_edit(struct pmd *pmd, volatile const sig_atomic_t *signal_seen)
{
	char line[LINE_MAX_LEN];
	const char *in = NULL;
	EditLine *el;
	History *hist;
	HistEvent ev;
	int count;

	el = el_init(PMD_NAME, stdin, stdout, stderr);
	hist = history_init();
	if (el == NULL || hist == NULL) {
		printf("Line editing is not available; reading plain lines\n");
		if (el != NULL)
			el_end(el);
		if (hist != NULL)
			history_end(hist);
		cmdline_run_plain(pmd, signal_seen);
		return;
	}
	history(hist, &ev, H_SETSIZE, 1000);
	history(hist, &ev, H_SETUNIQUE, 1);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_PROMPT, el_prompt);
	el_set(el, EL_HIST, history, hist);
	el_set(el, EL_CLIENTDATA, pmd);
	el_set(el, EL_ADDFN, "vhu-complete", "complete a command, port or mode", el_complete);
	el_set(el, EL_BIND, "^I", "vhu-complete", NULL);
	el_signal_seen = signal_seen;
	el_set(el, EL_GETCFN, el_read_char);
	while (*signal_seen == 0) {
		in = el_gets(el, &count);
		if (in == NULL || count <= 0)
			break;
		snprintf(line, sizeof(line), "%s", in);
		if (strspn(line, " \t\r\n") != strlen(line))
			history(hist, &ev, H_ENTER, in);
		if (!cmdline_line(pmd, line, false))
			break;
	}
	if (in == NULL && *signal_seen == 0)
		printf("\n");
	history_end(hist);
	el_end(el);
}

#endif /* VHU_HAVE_LIBEDIT */

int
cmdline_run(struct pmd *pmd, volatile const sig_atomic_t *signal_seen)
{
	int rc;

	printf("Interactive-mode selected\n");
	if (pmd->cfg.cmdline_file != NULL) {
		rc = cmdline_run_file(pmd, pmd->cfg.cmdline_file);
		if (rc != 0 || pmd->quit)
			return rc;
	}
#ifdef VHU_HAVE_LIBEDIT
	if (isatty(STDIN_FILENO)) {
		cmdline_run_edit(pmd, signal_seen);
		return 0;
	}
#endif
	cmdline_run_plain(pmd, signal_seen);
	return 0;
}
