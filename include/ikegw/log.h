/* SPDX-License-Identifier: ISC */
/*
 * One-line log messages to a stream (stderr in the daemon).
 *
 * Under systemd, stderr is a journald stream and each line starts with the sd-daemon
 * priority prefix "<N>" (sd-daemon(3)); journald adds the time and the program name.
 * Elsewhere a line reads "ikegwd[info] [sa-id] message".  Either way a message is one
 * line: control characters are escaped, so a peer-supplied string can never forge a
 * log line.  Priorities are the syslog ones (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG).
 */
#ifndef IKEGW_LOG_H
#define IKEGW_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <syslog.h>

/* A longer message is cut and ends in "..."; that is the size before escaping. */
#define LOG_MSG_MAX 1024

struct log {
	int level;     /* messages with a priority above this (less severe) are dropped */
	bool journal;  /* emit "<N>" prefixes */
	FILE *out;
};

/* Level LOG_INFO, journal prefixes if out is the stream $JOURNAL_STREAM names. */
void log_init(struct log *lg, FILE *out, int level);
/* Whether fd is the journald stream named by env ("DEVICE:INODE", as systemd sets it). */
bool log_stream_is_journal(int fd, const char *env);
bool log_enabled(const struct log *lg, int prio);

/* sa_id may be NULL.  Drops the message when lg is NULL. */
void log_msg(const struct log *lg, int prio, const char *sa_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void log_vmsg(const struct log *lg, int prio, const char *sa_id, const char *fmt,
	      va_list ap) __attribute__((format(printf, 4, 0)));

#define log_err(lg, sa_id, ...) log_msg((lg), LOG_ERR, (sa_id), __VA_ARGS__)
#define log_warn(lg, sa_id, ...) log_msg((lg), LOG_WARNING, (sa_id), __VA_ARGS__)
#define log_info(lg, sa_id, ...) log_msg((lg), LOG_INFO, (sa_id), __VA_ARGS__)
#define log_debug(lg, sa_id, ...) log_msg((lg), LOG_DEBUG, (sa_id), __VA_ARGS__)

/* "err", "warning", "info", "debug" (also "error", "warn").  0 or -EINVAL. */
int log_level_parse(const char *name, int *level);
/* The name of a priority; priorities between the four round to the next one down. */
const char *log_level_name(int level);

/*
 * Copy untrusted bytes (an identity, an EAP username) as printable text: bytes 0x20..0x7e
 * stay, backslash becomes "\\", anything else "\xNN".  Always NUL-terminated when
 * dst_len > 0; cut at a whole escape if dst is too small.  Returns strlen(dst).
 */
size_t log_sanitize(char *dst, size_t dst_len, const uint8_t *src, size_t src_len);

#endif
