/* SPDX-License-Identifier: ISC */
/*
 * The control socket server on the event loop: accepting, reading request lines,
 * writing answers without ever blocking, and the limits of include/ikegw/ctl.h.
 *
 * A client is a small state machine driven by client_pump(): flush what is pending;
 * only when nothing is pending take the next complete line from the input, answer it,
 * and flush again.  So a client that does not read holds at most one answer, and a
 * client that pipelines requests is answered one by one, in order.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ikegw/ctl.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/loop.h"

#define CTL_ACCEPT_BURST 16
#define CTL_OUT_KEEP (64u << 10) /* a bigger answer buffer is freed once sent */

struct ctl_client {
	struct ctl_server *srv;
	int fd;
	size_t slot;
	char in[CTL_REQ_MAX];
	size_t in_len;
	struct json out;   /* the answer being sent */
	size_t out_off;    /* bytes of it already sent */
	uint32_t events;   /* what the loop watches now */
	bool eof;          /* the client shut down its side */
	bool closing;      /* close once the answer is out */
	struct loop_timer timer;
};

struct ctl_server {
	struct gw *gw;
	int fd;
	bool bound; /* the socket file at path is ours */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_hooks hooks;
	size_t n_clients;
	struct ctl_client *clients[CTL_CLIENTS_MAX];
};

void gw_terminate(struct gw *gw, struct ike_sa *sa)
{
	int rc = exchange_send_delete(sa);

	log_info(&gw->log, sa->tag, "IKE SA terminated on request%s",
		 rc == 0 ? ", Delete sent" : "");
	ike_sa_free(sa);
}

/* ---- clients ------------------------------------------------------------------------- */

static void client_close(struct ctl_client *c)
{
	struct ctl_server *s = c->srv;
	struct loop *loop = s->gw->loop;

	loop_timer_cancel(loop, &c->timer);
	loop_fd_del(loop, c->fd);
	close(c->fd);
	s->clients[c->slot] = NULL;
	s->n_clients--;
	json_fini(&c->out);
	free(c);
}

static void client_watch(struct ctl_client *c, uint32_t events)
{
	if (c->events != events && loop_fd_mod(c->srv->gw->loop, c->fd, events) == 0)
		c->events = events;
}

/* 0: all sent, 1: the socket is full, -1: the client is gone. */
static int client_flush(struct ctl_client *c)
{
	ssize_t n;

	while (c->out_off < json_len(&c->out)) {
		n = send(c->fd, json_text(&c->out) + c->out_off, json_len(&c->out) - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
		c->out_off += (size_t)n;
	}
	c->out_off = 0;
	json_reset(&c->out);
	if (c->out.cap > CTL_OUT_KEEP) {
		json_fini(&c->out);
		if (json_init_dyn(&c->out, CTL_ANSWER_MAX) != 0)
			return -1;
	}
	return 0;
}

static void client_error(struct ctl_client *c, const char *msg)
{
	json_reset(&c->out);
	json_obj_begin(&c->out);
	json_kstr(&c->out, "error", msg);
	json_obj_end(&c->out);
	json_raw(&c->out, "\n", 1);
}

static void client_answer(struct ctl_client *c, char *line, size_t len)
{
	struct ctl_server *s = c->srv;

	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (memchr(line, '\0', len)) {
		client_error(c, "bad request");
		return;
	}
	ctl_command_run(s->gw, &s->hooks, line, &c->out);
	json_raw(&c->out, "\n", 1);
	if (json_finish(&c->out) != 0)
		client_error(c, "answer too large");
}

/* Answer the next complete request, if there is one.  False when there is none. */
static bool client_next_request(struct ctl_client *c)
{
	char *nl = memchr(c->in, '\n', c->in_len);
	size_t len;

	if (!nl && c->in_len == sizeof(c->in)) {
		client_error(c, "request too long");
		c->closing = true;
		return true;
	}
	if (!nl && !c->eof)
		return false;
	if (!nl && c->in_len == 0) {
		c->closing = true; /* end of input, all answered */
		return true;
	}
	len = nl ? (size_t)(nl - c->in) : c->in_len; /* a last line may lack its "\n" */
	c->in[len] = '\0';
	client_answer(c, c->in, len);
	len = nl ? len + 1 : len;
	memmove(c->in, c->in + len, c->in_len - len);
	c->in_len -= len;
	loop_timer_arm_in(c->srv->gw->loop, &c->timer, CTL_TIMEOUT_MS);
	return true;
}

static void client_pump(struct ctl_client *c)
{
	int rc;

	for (;;) {
		rc = client_flush(c);
		if (rc == 1) {
			client_watch(c, EPOLLOUT);
			return;
		}
		if (rc < 0 || c->closing) {
			client_close(c);
			return;
		}
		if (!client_next_request(c))
			break;
	}
	client_watch(c, EPOLLIN);
}

/* 0, or -1 when the client is gone. */
static int client_read(struct ctl_client *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

	if (n > 0)
		c->in_len += (size_t)n;
	else if (n == 0)
		c->eof = true;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return -1;
	return 0;
}

static void on_client(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_client *c = arg;

	(void)loop;
	(void)fd;
	if (events & EPOLLERR) {
		client_close(c);
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP)) && (c->events & EPOLLIN) && client_read(c) != 0) {
		client_close(c);
		return;
	}
	client_pump(c);
}

static void on_client_timeout(struct loop *loop, void *arg)
{
	struct ctl_client *c = arg;

	(void)loop;
	log_debug(&c->srv->gw->log, NULL, "control client timed out");
	client_close(c);
}

/* ---- accepting ----------------------------------------------------------------------- */

static void refuse(int fd)
{
	static const char msg[] = "{\"error\":\"too many clients\"}\n";

	/* A fresh socket has room for one short line; if not, the client just sees EOF. */
	(void)send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static int client_add(struct ctl_server *s, int fd)
{
	struct ctl_client *c;
	size_t slot = 0;

	while (s->clients[slot])
		slot++;
	c = calloc(1, sizeof(*c));
	if (!c || json_init_dyn(&c->out, CTL_ANSWER_MAX) != 0) {
		free(c);
		return -ENOMEM;
	}
	c->srv = s;
	c->fd = fd;
	c->slot = slot;
	c->events = EPOLLIN;
	loop_timer_init(&c->timer, on_client_timeout, c);
	if (loop_fd_add(s->gw->loop, fd, EPOLLIN, on_client, c) != 0 ||
	    loop_timer_arm_in(s->gw->loop, &c->timer, CTL_TIMEOUT_MS) != 0) {
		loop_fd_del(s->gw->loop, fd);
		json_fini(&c->out);
		free(c);
		return -ENOMEM;
	}
	s->clients[slot] = c;
	s->n_clients++;
	return 0;
}

static void on_accept(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_server *s = arg;
	int cfd;

	(void)loop;
	(void)events;
	for (int i = 0; i < CTL_ACCEPT_BURST; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn(&s->gw->log, NULL, "control socket: accept: %s",
					 strerror(errno));
			return;
		}
		if (s->n_clients == CTL_CLIENTS_MAX) {
			log_debug(&s->gw->log, NULL, "control socket: too many clients");
			refuse(cfd);
		} else if (client_add(s, cfd) != 0) {
			close(cfd);
		}
	}
}

/* ---- the listening socket ------------------------------------------------------------ */

/* A socket file left by a daemon that died goes; a live daemon or another file stays. */
static int remove_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	rc = rc == 0 ? -EADDRINUSE : errno == ECONNREFUSED ? 0 : -errno;
	close(fd);
	if (rc == 0 && unlink(path) != 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

/* /run/ikegw may not exist yet when ikegwd runs outside systemd (RuntimeDirectory=). */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int group_id(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[4096];
	int rc = getgrnam_r(name, &gr, buf, sizeof(buf), &res);

	if (rc != 0)
		return -rc;
	if (!res)
		return -ENOENT;
	*gid = res->gr_gid;
	return 0;
}

/* Mode 0660 from the start (umask around bind), so no one connects in between. */
static int bind_socket(struct ctl_server *s, const struct sockaddr_un *sun, const char *group)
{
	gid_t gid = 0;
	mode_t old;
	int rc;

	if (group && (rc = group_id(group, &gid)) != 0)
		return rc;
	old = umask(0117);
	rc = bind(s->fd, (const struct sockaddr *)sun, sizeof(*sun));
	umask(old);
	if (rc != 0)
		return -errno;
	s->bound = true;
	if (chmod(s->path, 0660) != 0 || (group && chown(s->path, (uid_t)-1, gid) != 0))
		return -errno;
	if (listen(s->fd, SOMAXCONN) != 0)
		return -errno;
	return loop_fd_add(s->gw->loop, s->fd, EPOLLIN, on_accept, s);
}

static int server_open(struct ctl_server *s, const char *path, const char *group)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int rc;

	if (strlen(path) >= sizeof(sun.sun_path) || !path[0])
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	memcpy(s->path, path, strlen(path) + 1);
	if ((rc = make_parent(s->path)) != 0 || (rc = remove_stale(path, &sun)) != 0)
		return rc;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	return bind_socket(s, &sun, group);
}

struct ctl_server *ctl_server_new(struct gw *gw, const char *path, const char *group,
				  int *err)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	int rc;

	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	s->gw = gw;
	s->fd = -1;
	rc = server_open(s, path, group);
	if (rc != 0) {
		log_err(&gw->log, NULL, "control socket %s%s%s: %s", path,
			group ? ", group " : "", group ? group : "", strerror(-rc));
		if (s->fd >= 0)
			close(s->fd);
		if (s->bound)
			unlink(s->path);
		free(s);
		*err = rc;
		return NULL;
	}
	*err = 0;
	return s;
}

void ctl_server_free(struct ctl_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < CTL_CLIENTS_MAX; i++)
		if (s->clients[i])
			client_close(s->clients[i]);
	loop_fd_del(s->gw->loop, s->fd);
	close(s->fd);
	if (s->bound)
		unlink(s->path);
	free(s);
}

void ctl_server_set_reload(struct ctl_server *s, ctl_reload_fn *fn, void *arg)
{
	s->hooks.reload = fn;
	s->hooks.reload_arg = arg;
}

size_t ctl_server_clients(const struct ctl_server *s)
{
	return s->n_clients;
}
