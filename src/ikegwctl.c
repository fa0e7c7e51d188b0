/* SPDX-License-Identifier: ISC */
/*
 * ikegwctl: the control client (SPEC.md "ikegwctl", "Control protocol").
 *
 *   ikegwctl [-s SOCKET] [--json] COMMAND [ARGS]
 *
 * Sends one request line, reads one JSON answer line, and prints it as is (--json) or
 * as tables and "key: value" lines.  Exit status: 0 ok, 1 the daemon answered with an
 * error, 2 the daemon cannot be reached (or gave no usable answer, or bad usage).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ikegw/ctl.h"
#include "ikegw/json.h"

#define DEFAULT_SOCKET "/run/ikegw/ikegw.sock"
#define IO_TIMEOUT_S 30
#define TABLE_COLS 9

enum { EXIT_OK = 0, EXIT_DAEMON_ERROR = 1, EXIT_UNREACHABLE = 2 };

/* ---- the request --------------------------------------------------------------------- */

/* Words with blanks, quotes or backslashes are quoted (ctl.h); control bytes refused. */
static int append_word(char *out, size_t cap, size_t *len, const char *w)
{
	bool quote = !*w || strpbrk(w, " \t\"\\");

	if (*len && *len < cap)
		out[(*len)++] = ' ';
	if (quote && *len < cap)
		out[(*len)++] = '"';
	for (; *w; w++) {
		if ((unsigned char)*w < 0x20 || *w == 0x7f)
			return -EINVAL;
		if ((*w == '"' || *w == '\\') && *len < cap)
			out[(*len)++] = '\\';
		if (*len < cap)
			out[(*len)++] = *w;
	}
	if (quote && *len < cap)
		out[(*len)++] = '"';
	return *len < cap ? 0 : -E2BIG;
}

static int build_request(int argc, char **argv, char *out, size_t cap, size_t *len)
{
	int rc = 0;

	*len = 0;
	for (int i = 0; i < argc && rc == 0; i++)
		rc = append_word(out, cap - 1, len, argv[i]); /* room for "\n" */
	out[(*len)++] = '\n';
	return rc;
}

/* ---- talking to the daemon ------------------------------------------------------------- */

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One line, at most CTL_ANSWER_MAX + 1 bytes; *line is NUL-terminated without "\n". */
static int recv_line(int fd, char **line, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *nl = NULL, *grown;
	ssize_t r;

	while (buf && !nl) {
		if (n + 1 == cap) {
			if (cap > CTL_ANSWER_MAX + 2 || !(grown = realloc(buf, cap * 2)))
				break;
			buf = grown;
			cap *= 2;
		}
		r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		nl = memchr(buf + n, '\n', (size_t)r);
		n += (size_t)r;
	}
	if (!nl) {
		free(buf);
		return -1;
	}
	*nl = '\0';
	*line = buf;
	*len = (size_t)(nl - buf);
	return 0;
}

static int ask(const char *path, const char *req, size_t req_len, char **answer, size_t *len)
{
	int fd = connect_to(path), rc;

	if (fd < 0) {
		fprintf(stderr, "ikegwctl: cannot reach the daemon at %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	errno = 0;
	rc = send_all(fd, req, req_len);
	if (rc == 0)
		rc = recv_line(fd, answer, len);
	if (rc != 0)
		fprintf(stderr, "ikegwctl: no answer from the daemon at %s%s%s\n", path,
			errno ? ": " : "", errno ? strerror(errno) : "");
	close(fd);
	return rc;
}

/* ---- printing ------------------------------------------------------------------------ */

/* A scalar as text; control bytes (never sent by a sane daemon) shown as '?'. */
static void val_text(const struct json_val *v, char *out, size_t cap)
{
	size_t i;

	if (!v || v->type == JSON_NULL)
		snprintf(out, cap, "-");
	else if (v->type == JSON_BOOL)
		snprintf(out, cap, "%s", v->b ? "yes" : "no");
	else if (v->type == JSON_STRING || v->type == JSON_NUMBER)
		snprintf(out, cap, "%s", v->s);
	else
		snprintf(out, cap, "...");
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

static void duration_text(const struct json_val *v, char *out, size_t cap)
{
	uint64_t s;

	if (json_val_u64(v, &s) != 0)
		snprintf(out, cap, "-");
	else if (s < 60)
		snprintf(out, cap, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(out, cap, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(out, cap, "%lluh%02llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60));
	else
		snprintf(out, cap, "%llud%02lluh", (unsigned long long)(s / 86400),
			 (unsigned long long)(s / 3600 % 24));
}

/* A table: rows of cells, printed with columns as wide as their widest cell. */
struct table {
	size_t ncols, nrows, cap;
	char **cells;
	size_t width[TABLE_COLS];
};

static void table_add(struct table *t, const char *const *row)
{
	char **grown;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		grown = realloc(t->cells, t->cap * t->ncols * sizeof(*grown));
		if (!grown) {
			t->cap = t->nrows;
			return;
		}
		t->cells = grown;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		size_t w = strlen(row[c]);

		t->cells[t->nrows * t->ncols + c] = strdup(row[c]);
		if (w > t->width[c])
			t->width[c] = w;
	}
	t->nrows++;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

static void table_print_free(struct table *t)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c + 1 < t->ncols)
				printf("%-*s  ", (int)t->width[c], s ? s : "?");
			else
				printf("%s\n", s ? s : "?");
		}
	}
	table_free(t);
}

static void print_sas(const struct json_val *a)
{
	static const char *const head[] = { "ID", "PEER", "IDENTITY", "PROFILE", "VIP", "STATE",
					    "SINCE" };
	struct table t = { .ncols = 7 };
	const struct json_val *list = json_get(a, "sas"), *hidden = json_get(a, "half_open_hidden");
	char cell[7][256];
	const char *row[7];
	uint64_t n;

	table_add(&t, head);
	for (const struct json_val *s = list ? list->child : NULL; s; s = s->next) {
		val_text(json_get(s, "id"), cell[0], sizeof(cell[0]));
		val_text(json_get(s, "peer"), cell[1], sizeof(cell[1]));
		val_text(json_get(s, "remote_id"), cell[2], sizeof(cell[2]));
		val_text(json_get(s, "profile"), cell[3], sizeof(cell[3]));
		val_text(json_get(s, "vip"), cell[4], sizeof(cell[4]));
		val_text(json_get(s, "state"), cell[5], sizeof(cell[5]));
		duration_text(json_get(s, "established_s"), cell[6], sizeof(cell[6]));
		for (int i = 0; i < 7; i++)
			row[i] = cell[i];
		table_add(&t, row);
	}
	table_print_free(&t);
	if (json_val_u64(hidden, &n) == 0 && n)
		printf("(%llu half-open not shown: ikegwctl sas --all)\n", (unsigned long long)n);
}

/* "10.1.0.0/24,10.2.0.0/24": what a Child SA carries to the client (its local_ts). */
static void ts_list_text(const struct json_val *arr, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (const struct json_val *e = arr ? arr->child : NULL; e && n + 1 < len; e = e->next) {
		char one[128];

		val_text(e, one, sizeof(one));
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "", one);
	}
	if (n == 0)
		snprintf(out, len, "-");
}

#define CHILD_COLS 9

static void child_row(struct table *t, const struct json_val *sa, const struct json_val *c)
{
	static const char *const keys[] = { "spi_in", "spi_out", NULL, "bytes_in", "bytes_out",
					    "packets_in", "packets_out" };
	char cell[CHILD_COLS][256], integ[128];
	const char *row[CHILD_COLS];

	val_text(json_get(sa, "id"), cell[0], sizeof(cell[0]));
	for (int i = 0; i < 7; i++)
		if (keys[i])
			val_text(json_get(c, keys[i]), cell[i + 1], sizeof(cell[i + 1]));
	val_text(json_get(c, "encr"), cell[3], sizeof(cell[3]) / 2);
	val_text(json_get(c, "integ"), integ, sizeof(integ));
	snprintf(cell[3] + strlen(cell[3]), sizeof(cell[3]) - strlen(cell[3]), "/%s", integ);
	ts_list_text(json_get(c, "local_ts"), cell[8], sizeof(cell[8]));
	for (int i = 0; i < CHILD_COLS; i++)
		row[i] = cell[i];
	table_add(t, row);
}

/* Every Child SA of every IKE SA: "child", then any "additional_children". */
static void print_children(const struct json_val *a)
{
	static const char *const head[] = { "ID", "SPI-IN", "SPI-OUT", "ALGORITHMS", "BYTES-IN",
					    "BYTES-OUT", "PKTS-IN", "PKTS-OUT", "TRAFFIC" };
	const struct json_val *list = json_get(a, "sas");
	struct table t = { .ncols = CHILD_COLS };

	table_add(&t, head);
	for (const struct json_val *s = list ? list->child : NULL; s; s = s->next) {
		const struct json_val *c = json_get(s, "child"), *more;

		if (!c)
			continue;
		child_row(&t, s, c);
		more = json_get(s, "additional_children");
		for (c = more ? more->child : NULL; c; c = c->next)
			child_row(&t, s, c);
	}
	if (t.nrows > 1) {
		printf("\nChild SAs:\n");
		table_print_free(&t);
	} else {
		table_free(&t);
	}
}

static void print_leases(const struct json_val *a)
{
	static const char *const head[] = { "POOL", "ADDRESS", "IDENTITY", "SINCE" };
	const struct json_val *list = json_get(a, "leases");
	struct table t = { .ncols = 4 };
	char cell[4][256];
	const char *row[4] = { cell[0], cell[1], cell[2], cell[3] };

	table_add(&t, head);
	for (const struct json_val *l = list ? list->child : NULL; l; l = l->next) {
		val_text(json_get(l, "pool"), cell[0], sizeof(cell[0]));
		val_text(json_get(l, "address"), cell[1], sizeof(cell[1]));
		val_text(json_get(l, "identity"), cell[2], sizeof(cell[2]));
		duration_text(json_get(l, "since_s"), cell[3], sizeof(cell[3]));
		table_add(&t, row);
	}
	table_print_free(&t);
}

static void print_pools(const struct json_val *a)
{
	static const char *const head[] = { "NAME", "SIZE", "USED", "FREE" };
	static const char *const keys[] = { "name", "size", "used", "free" };
	const struct json_val *list = json_get(a, "pools");
	struct table t = { .ncols = 4 };
	char cell[4][256];
	const char *row[4] = { cell[0], cell[1], cell[2], cell[3] };

	table_add(&t, head);
	for (const struct json_val *p = list ? list->child : NULL; p; p = p->next) {
		for (int i = 0; i < 4; i++)
			val_text(json_get(p, keys[i]), cell[i], sizeof(cell[i]));
		table_add(&t, row);
	}
	table_print_free(&t);
}

/* Objects as indented "key: value" lines; arrays of scalars joined by ", ". */
static void print_generic(const struct json_val *v, int indent)
{
	char text[1024];

	for (const struct json_val *m = v->child; m; m = m->next) {
		if (v->type == JSON_ARRAY && m->type == JSON_OBJECT) {
			printf("%*s-\n", indent, "");
			print_generic(m, indent + 2);
		} else if (m->type == JSON_OBJECT || m->type == JSON_ARRAY) {
			printf("%*s%s:\n", indent, "", m->key ? m->key : "-");
			print_generic(m, indent + 2);
		} else {
			val_text(m, text, sizeof(text));
			if (m->key)
				printf("%*s%s: %s\n", indent, "", m->key, text);
			else
				printf("%*s%s\n", indent, "", text);
		}
	}
}

static void print_metrics(const struct json_val *a)
{
	const struct json_val *t = json_get(a, "text");

	if (t && t->type == JSON_STRING)
		fwrite(t->s, 1, t->len, stdout);
}

static void print_answer(const char *cmd, const struct json_val *a)
{
	if (strcmp(cmd, "sas") == 0) {
		print_sas(a);
		print_children(a);
	} else if (strcmp(cmd, "leases") == 0) {
		print_leases(a);
	} else if (strcmp(cmd, "pools") == 0) {
		print_pools(a);
	} else if (strcmp(cmd, "metrics") == 0) {
		print_metrics(a);
	} else {
		print_generic(a, 0);
	}
}

/* ---- main ---------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: ikegwctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
		   "commands: status, sas [--all], leases, pools,\n"
		   "          terminate ID | --identity ID | --address IP, rekey ID [child|ike],\n"
		   "          reload, log-level [err|warning|info|debug], metrics, help\n"
		   "socket: -s, else $IKEGW_SOCKET, else " DEFAULT_SOCKET "\n");
}

struct opts {
	const char *socket;
	bool json;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },         { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->socket = getenv("IKEGW_SOCKET");
	if (!o->socket || !*o->socket)
		o->socket = DEFAULT_SOCKET;
	/* "+": options end at COMMAND, so "terminate --identity X" reaches the daemon. */
	while ((c = getopt_long(argc, argv, "+s:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'j': o->json = true; break;
		case 'h': usage(stdout); exit(EXIT_OK);
		case 'V': printf("ikegwctl %s\n", IKEGW_VERSION); exit(EXIT_OK);
		default: return -1;
		}
	}
	return optind < argc ? 0 : -1;
}

static void print_errors(const struct json_val *list)
{
	char text[1024];

	if (!list || list->type != JSON_ARRAY)
		return;
	for (const struct json_val *e = list->child; e; e = e->next) {
		val_text(e, text, sizeof(text));
		fprintf(stderr, "%s\n", text);
	}
}

static int show(const struct opts *o, const char *cmd, char *line, size_t len)
{
	struct json_val *a;
	const char *err;
	char why[128];
	int rc;

	if (json_parse(line, len, &a, why, sizeof(why)) != 0 || a->type != JSON_OBJECT) {
		fprintf(stderr, "ikegwctl: bad answer from the daemon: %s\n",
			why[0] ? why : "not an object");
		if (a)
			json_val_free(a);
		return EXIT_UNREACHABLE;
	}
	err = json_get_str(a, "error");
	rc = json_get(a, "error") ? EXIT_DAEMON_ERROR : EXIT_OK;
	if (o->json) {
		printf("%s\n", line);
	} else if (rc != EXIT_OK) {
		fprintf(stderr, "ikegwctl: %s\n", err ? err : "failed");
		print_errors(json_get(a, "errors")); /* e.g. the config errors of a reload */
	} else {
		print_answer(cmd, a);
	}
	json_val_free(a);
	return rc;
}

int main(int argc, char **argv)
{
	char req[CTL_REQ_MAX], *answer = NULL;
	struct opts o = { 0 };
	size_t req_len, len;
	int rc;

	if (parse_args(argc, argv, &o) != 0) {
		usage(stderr);
		return EXIT_UNREACHABLE;
	}
	rc = build_request(argc - optind, argv + optind, req, sizeof(req), &req_len);
	if (rc != 0) {
		fprintf(stderr, "ikegwctl: %s\n",
			rc == -E2BIG ? "request too long" : "control characters in an argument");
		return EXIT_UNREACHABLE;
	}
	if (ask(o.socket, req, req_len, &answer, &len) != 0)
		return EXIT_UNREACHABLE;
	rc = show(&o, argv[optind], answer, len);
	free(answer);
	fflush(stdout);
	return ferror(stdout) ? EXIT_UNREACHABLE : rc;
}
