/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ikegw/buf.h"
#include "ikegw/log.h"

#define LOG_SA_ID_MAX 64

struct log_level_name {
	const char *name;
	int level;
};

static const struct log_level_name log_levels[] = {
	{ "err", LOG_ERR },	    { "error", LOG_ERR }, { "warning", LOG_WARNING },
	{ "warn", LOG_WARNING }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

int log_level_parse(const char *name, int *level)
{
	for (size_t i = 0; name && i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (strcasecmp(name, log_levels[i].name) == 0) {
			*level = log_levels[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_level_name(int level)
{
	if (level <= LOG_ERR)
		return "err";
	if (level <= LOG_WARNING)
		return "warning";
	if (level <= LOG_INFO)
		return "info";
	return "debug";
}

/* systemd sets JOURNAL_STREAM=DEVICE:INODE for the stream it connected stdout/stderr to. */
bool log_stream_is_journal(int fd, const char *env)
{
	unsigned long long dev, ino;
	char *end;
	struct stat st;

	if (!env || !*env || fstat(fd, &st) < 0)
		return false;
	errno = 0;
	dev = strtoull(env, &end, 10);
	if (errno || end == env || *end != ':')
		return false;
	env = end + 1;
	ino = strtoull(env, &end, 10);
	if (errno || end == env || *end != '\0')
		return false;
	return dev == (unsigned long long)st.st_dev && ino == (unsigned long long)st.st_ino;
}

void log_init(struct log *lg, FILE *out, int level)
{
	int fd = out ? fileno(out) : -1;

	lg->out = out;
	lg->level = level;
	lg->journal = fd >= 0 && log_stream_is_journal(fd, getenv("JOURNAL_STREAM"));
}

bool log_enabled(const struct log *lg, int prio)
{
	return lg && lg->out && prio <= lg->level;
}

/* A text sink with room for the NUL; appends stop at the first one that does not fit. */
struct log_text {
	char *s;
	size_t cap, len;
	bool full;
};

static void text_put(struct log_text *t, const char *p, size_t n)
{
	if (t->full || n >= t->cap - t->len) {
		t->full = true;
		return;
	}
	memcpy(t->s + t->len, p, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void text_escape_byte(struct log_text *t, uint8_t c, bool strict)
{
	static const char hex[] = "0123456789abcdef";
	char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
	char ch = (char)c;

	if (c == '\\' && strict)
		text_put(t, "\\\\", 2);
	else if (c < 0x20 || c == 0x7f || (strict && c > 0x7f))
		text_put(t, esc, sizeof(esc));
	else
		text_put(t, &ch, 1);
}

/*
 * strict: untrusted bytes, only printable ASCII survives.  Otherwise (our own formatted
 * message) only control characters are escaped, which is what keeps it one line.
 */
static void text_escape(struct log_text *t, const uint8_t *src, size_t n, bool strict)
{
	struct rbuf r;
	uint8_t c;

	rbuf_init(&r, src, n);
	while (!t->full && rbuf_u8(&r, &c) == 0)
		text_escape_byte(t, c, strict);
}

size_t log_sanitize(char *dst, size_t dst_len, const uint8_t *src, size_t src_len)
{
	struct log_text t = { .s = dst, .cap = dst_len };

	if (dst_len == 0)
		return 0;
	dst[0] = '\0';
	text_escape(&t, src, src_len, true);
	return t.len;
}

static void log_prefix(struct log_text *t, const struct log *lg, int prio, const char *sa_id)
{
	char head[32];
	int n;

	if (lg->journal)
		n = snprintf(head, sizeof(head), "<%d>", prio & 7);
	else
		n = snprintf(head, sizeof(head), "ikegwd[%s] ", log_level_name(prio));
	text_put(t, head, (size_t)n);
	if (sa_id) {
		text_put(t, "[", 1);
		text_escape(t, (const uint8_t *)sa_id, strnlen(sa_id, LOG_SA_ID_MAX), true);
		text_put(t, "] ", 2);
	}
}

void log_vmsg(const struct log *lg, int prio, const char *sa_id, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX];
	/* Worst case every message byte becomes a 4-byte escape. */
	char line[LOG_MSG_MAX * 4 + LOG_SA_ID_MAX * 4 + 64];
	struct log_text t = { .s = line, .cap = sizeof(line) - 5 };
	int n;

	if (!log_enabled(lg, prio))
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	line[0] = '\0';
	log_prefix(&t, lg, prio, sa_id);
	text_escape(&t, (const uint8_t *)msg, strlen(msg), false);
	t.full = false;
	t.cap = sizeof(line);
	if ((size_t)n >= sizeof(msg))
		text_put(&t, "...", 3);
	text_put(&t, "\n", 1);
	/* One write per line, flushed, so lines from one process never interleave. */
	fwrite(line, 1, t.len, lg->out);
	fflush(lg->out);
}

void log_msg(const struct log *lg, int prio, const char *sa_id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lg, prio, sa_id, fmt, ap);
	va_end(ap);
}
