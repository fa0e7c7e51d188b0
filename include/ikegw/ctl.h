/* SPDX-License-Identifier: ISC */
/*
 * The control socket (SPEC.md "Control protocol"): a SOCK_STREAM UNIX socket on the
 * event loop.  A request is one line of words ("sas", "terminate 7"); a word may be
 * double-quoted with \" and \\ inside ("terminate --identity \"C=GB, CN=a b\"").  The
 * answer is one JSON object and "\n"; {"error": "..."} on failure.  A connection may
 * carry any number of requests, one answer each, in order.
 *
 * Nothing a client does can stall or bloat the daemon: a request is at most CTL_REQ_MAX
 * bytes ({"error":"request too long"}, then close), it must be complete within
 * CTL_TIMEOUT_MS (else close), output is written non-blocking and the next request is
 * not read until the previous answer is flushed (so one answer is buffered at most, and
 * an answer is capped at CTL_ANSWER_MAX: {"error":"answer too large"}), and at most
 * CTL_CLIENTS_MAX clients are connected ({"error":"too many clients"}, then close).
 * Access control is the socket's mode 0660 and its group.
 *
 * Commands (commands.c): status, sas [--all], leases, pools, terminate ID|--identity ID|
 * --address IP, reload, log-level [LEVEL], metrics, help.  `metrics` answers
 * {"text": "<Prometheus text format 0.0.4>"}; ikegwctl prints the text as is.
 */
#ifndef IKEGW_CTL_H
#define IKEGW_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "ikegw/json.h"

#define CTL_REQ_MAX 4096              /* bytes of one request line, "\n" included */
#define CTL_ANSWER_MAX (8u << 20)     /* bytes of one answer (about 20000 SAs) */
#define CTL_TIMEOUT_MS 5000           /* to send a whole request, or to read an answer */
#define CTL_CLIENTS_MAX 64
#define CTL_ARGS_MAX 8

struct gw;
struct ike_sa;
struct ctl_server;

/*
 * Reload hook: the server opens the answer object, the hook writes its members into j
 * (e.g. "changed": [...]) and the server closes it.  On failure the hook writes an
 * "error" member (and may add "errors": [...]) and returns a negative errno; ikegwctl
 * exits 1 when the answer has "error".
 */
typedef int ctl_reload_fn(void *arg, struct json *j);

struct ctl_hooks {
	ctl_reload_fn *reload; /* NULL: {"error": "reload is not implemented yet"} */
	void *reload_arg;
};

/*
 * Unlink a stale socket at path (refusing -EADDRINUSE if a daemon answers there), bind,
 * mode 0660, group when given (-ENOENT if it does not exist), listen, and watch it on
 * gw->loop.  NULL and *err (negative errno) on failure, with a log line saying why.
 */
struct ctl_server *ctl_server_new(struct gw *gw, const char *path, const char *group,
				  int *err);
/* Closes every client and the socket, and unlinks it. */
void ctl_server_free(struct ctl_server *s);
void ctl_server_set_reload(struct ctl_server *s, ctl_reload_fn *fn, void *arg);
size_t ctl_server_clients(const struct ctl_server *s);

/*
 * Delete an IKE SA on request: Delete to the peer (when it is established), then free.
 * Lives in server.c until the SA lifecycle code takes it over.
 */
void gw_terminate(struct gw *gw, struct ike_sa *sa);

/* Run one request line (no "\n") and write the whole answer object into j (reset first). */
void ctl_command_run(struct gw *gw, const struct ctl_hooks *hooks, const char *line,
		     struct json *j);

/* Split a request into words (see above).  The number of words, or -EINVAL. */
int ctl_split_words(char *line, char **argv, int max);

/* Totals over every SA, for status and metrics. */
struct ctl_totals {
	uint64_t ike_sas;   /* established (and not yet freed) */
	uint64_t half_open;
	uint64_t child_sas;
	uint64_t leases;
	uint64_t bytes_in, bytes_out, packets_in, packets_out; /* since start */
};

void ctl_totals_get(struct gw *gw, struct ctl_totals *t);
/* The Prometheus text exposition format 0.0.4, appended to j with json_raw(). */
void ctl_metrics_write(struct gw *gw, struct json *j);

#endif
