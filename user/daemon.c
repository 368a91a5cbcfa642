// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Fleet outputs of a live trace: see daemon.h. The HTTP server is
 * libmicrohttpd's (its own thread): mptrace does not parse HTTP itself.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "daemon.h"
#include "log.h"
#include "out_json.h"
#include "output.h"
#include "util.h"

#define SCRAPE_WAIT_S 10	/* a scrape the event loop does not serve by then: 503 */

enum { FMT_TEXT, FMT_OM, FMT_N };

static const char *const content_type[FMT_N] = {
	"text/plain; version=0.0.4; charset=utf-8",
	"application/openmetrics-text; version=1.0.0; charset=utf-8",
};

struct daemon {
	const struct opts *o;
	const struct an_opts *an;
	struct mx mx;
	struct an_result scratch;
	FILE *findings;
	struct sbuf line;
	struct MHD_Daemon *http;
	int efd;		/* eventfd: a scrape waits */
	pthread_mutex_t mu;	/* guards what follows */
	pthread_cond_t cv;
	uint64_t asked[FMT_N], served[FMT_N];
	struct sbuf page[FMT_N];
	bool closing;
	double start_time;
};

bool daemon_wanted(const struct opts *o)
{
	return o->daemon || o->metrics_addr || o->findings_file || o->metrics_file;
}

/* ---- the HTTP side (its own thread: never the model) ---- */

/*
 * libmicrohttpd is opened when an endpoint is asked for, not linked: it
 * brings GnuTLS and nine more libraries whose loading and relocation cost
 * every run ~5 ms of start-up (`mptrace --version` 10 ms instead of 3).
 */
static struct {
	typeof(MHD_start_daemon) *start_daemon;
	typeof(MHD_stop_daemon) *stop_daemon;
	typeof(MHD_lookup_connection_value) *lookup_connection_value;
	typeof(MHD_create_response_from_buffer) *create_response_from_buffer;
	typeof(MHD_add_response_header) *add_response_header;
	typeof(MHD_queue_response) *queue_response;
	typeof(MHD_destroy_response) *destroy_response;
} mhd;

#define MHD_SONAME "libmicrohttpd.so.12"

static int mhd_open(void)
{
	void *h;

	if (mhd.start_daemon)
		return 0;
	h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!h) {
		p_err("cannot serve metrics: %s; install libmicrohttpd (Debian: libmicrohttpd12)",
		      dlerror());
		return EXIT_ENV;
	}
	*(void **)&mhd.stop_daemon = dlsym(h, "MHD_stop_daemon");
	*(void **)&mhd.lookup_connection_value = dlsym(h, "MHD_lookup_connection_value");
	*(void **)&mhd.create_response_from_buffer = dlsym(h, "MHD_create_response_from_buffer");
	*(void **)&mhd.add_response_header = dlsym(h, "MHD_add_response_header");
	*(void **)&mhd.queue_response = dlsym(h, "MHD_queue_response");
	*(void **)&mhd.destroy_response = dlsym(h, "MHD_destroy_response");
	*(void **)&mhd.start_daemon = dlsym(h, "MHD_start_daemon");
	if (!mhd.stop_daemon || !mhd.lookup_connection_value || !mhd.create_response_from_buffer ||
	    !mhd.add_response_header || !mhd.queue_response || !mhd.destroy_response ||
	    !mhd.start_daemon) {
		p_err("cannot serve metrics: %s lacks a function mptrace calls; install "
		      "libmicrohttpd 0.9.71 or later", MHD_SONAME);
		mhd.start_daemon = NULL;
		dlclose(h);
		return EXIT_ENV;
	}
	return 0;
}

static bool wants_openmetrics(struct MHD_Connection *c)
{
	const char *acc = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);

	return acc && strstr(acc, "application/openmetrics-text");
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r = mhd.create_response_from_buffer(len, (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = mhd.queue_response(c, code, r);
	mhd.destroy_response(r);
	return ret;
}

/* Asks the event loop for a page and waits for it. */
static enum MHD_Result serve_metrics(struct daemon *d, struct MHD_Connection *c)
{
	int f = wants_openmetrics(c) ? FMT_OM : FMT_TEXT;
	struct timespec until;
	uint64_t ticket, one = 1;
	enum MHD_Result ret;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SCRAPE_WAIT_S;
	pthread_mutex_lock(&d->mu);
	ticket = ++d->asked[f];
	if (write(d->efd, &one, sizeof(one)) < 0)
		err = errno;	/* EAGAIN: the counter is full, the loop is woken anyway */
	(void)err;
	while (d->served[f] < ticket && !d->closing && !err)
		err = pthread_cond_timedwait(&d->cv, &d->mu, &until);
	if (d->served[f] >= ticket)
		ret = reply(c, MHD_HTTP_OK, content_type[f], d->page[f].s, d->page[f].len);
	else
		ret = reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
			    "mptrace is busy or stopping\n", 28);
	pthread_mutex_unlock(&d->mu);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	static const char index_page[] = "mptrace: metrics at /metrics\n";
	static const char not_found[] = "not found: mptrace serves /metrics\n";

	(void)version; (void)upload; (void)con_cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
			     "only GET\n", 9);
	if (*upload_size)
		return MHD_NO;
	if (!strcmp(url, "/metrics"))
		return serve_metrics(cls, c);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8", index_page,
			     sizeof(index_page) - 1);
	return reply(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", not_found,
		     sizeof(not_found) - 1);
}

/* "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464" */
static int parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	const char *colon = strrchr(spec, ':');
	char host[64];
	size_t hl;
	int rc;

	if (!colon || colon == spec || !colon[1])
		return -1;
	hl = colon - spec;
	if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc || !res)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int start_http(struct daemon *d, const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;

	if (parse_addr(spec, &ss, &len)) {
		p_usage("invalid value '%s' for --metrics: expected ADDR:PORT like 127.0.0.1:9464 "
			"or [::1]:9464, or off", spec);
		return EXIT_USAGE;
	}
	if (mhd_open())
		return EXIT_ENV;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	d->http = mhd.start_daemon(flags, 0, NULL, NULL, on_request, d,
				   MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				   MHD_OPTION_CONNECTION_LIMIT, 32u,
				   MHD_OPTION_PER_IP_CONNECTION_LIMIT, 8u,
				   MHD_OPTION_CONNECTION_TIMEOUT, 15u,
				   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
				   MHD_OPTION_END);
	if (!d->http) {
		p_err("cannot serve metrics on %s: the address is in use or not this machine's; "
		      "give another with --metrics ADDR:PORT", spec);
		return EXIT_ENV;
	}
	return 0;
}

/* ---- findings as JSON lines ---- */

static FILE *open_findings(const char *path)
{
	int fd;
	FILE *f;

	if (!strcmp(path, "-"))
		return stdout;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "a");
	if (!f)
		close(fd);
	return f;
}

/* One line per finding, flushed: a log shipper follows the file. */
static void emit(struct daemon *d, struct ptree *pt, const struct an_finding *f)
{
	struct timespec now;
	struct sbuf one = { 0 };

	mx_finding(&d->mx, f->kind);
	if (!d->findings)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	json_finding(&one, pt, f);
	d->line.len = 0;
	sb_printf(&d->line, "{\"time_unix_ms\":%" PRId64 ",", (int64_t)now.tv_sec * 1000 +
		  now.tv_nsec / 1000000);
	sb_puts(&d->line, one.s + 1);
	sb_putc(&d->line, '\n');
	fwrite(d->line.s, 1, d->line.len, d->findings);
	fflush(d->findings);
	sb_free(&one);
}

/* A zombie over the threshold is told while the trace goes on: not "at
 * the end of the trace", as the report says of it. */
static void live_zombie_message(struct an_finding *f)
{
	const struct pt_proc *p = f->proc;
	char name[64], by[64];
	char *m = NULL;

	if (f->kind != AN_ZOMBIE || f->reason != AN_R_UNREAPED_AT_END || !p)
		return;
	an_proc_name(p, name, sizeof(name));
	if (p->adopted_by)
		snprintf(by, sizeof(by), "its adopter [%u]", p->adopted_by);
	else if (p->parent)
		an_proc_name(p->parent, by, sizeof(by));
	else
		snprintf(by, sizeof(by), "[%u]", p->ppid);
	if (asprintf(&m, "%s is a zombie: unreaped for %.1f ms by %s", name, f->zombie_ns / 1e6,
		     by) < 0)
		return;
	free(f->message);
	f->message = m;
}

/* The findings of kind k that an_process() finds on p now. */
static void emit_proc(struct daemon *d, struct ptree *pt, struct pt_proc *p, uint64_t now,
		      enum an_kind k)
{
	struct an_result *r = &d->scratch;

	memset(r, 0, sizeof(*r));
	an_process(pt, p, d->an, now, r);
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].kind != k)
			continue;
		live_zombie_message(&r->v[i]);
		emit(d, pt, &r->v[i]);
	}
	an_result_free(r);
}

static void emit_deadlock(struct daemon *d, struct ptree *pt)
{
	const struct pt_deadlock *dl;
	struct an_finding f = { .kind = AN_DEADLOCK };

	if (!pt->ndeadlocks)
		return;
	dl = &pt->deadlocks[pt->ndeadlocks - 1];
	f.proc = dl->m[0].proc;
	f.dl = dl;
	f.message = an_deadlock_text(pt, dl, dl->ts);
	emit(d, pt, &f);
	free(f.message);
}

/* ---- mptrace itself (process_* metrics) ---- */

static void proc_self(struct mx_self *s)
{
	struct timespec cpu;
	long rss_pages = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%*s %ld", &rss_pages) != 1)
			rss_pages = 0;
		fclose(f);
	}
	s->rss_bytes = (uint64_t)rss_pages * (uint64_t)sysconf(_SC_PAGESIZE);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	s->cpu_seconds = cpu.tv_sec + cpu.tv_nsec / 1e9;
}

/* Since the epoch: boot time plus the process's start in clock ticks. */
static double self_start_time(void)
{
	char buf[1024];
	uint64_t start;
	unsigned long long btime = 0;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (stat_start_ticks(buf, &start))
		return 0;
	f = fopen("/proc/stat", "re");
	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "btime %llu", &btime) == 1)
			break;
	fclose(f);
	return btime + (double)start / sysconf(_SC_CLK_TCK);
}

void daemon_event(struct daemon *d, struct ptree *pt, const struct mpt_hdr *h,
		  const struct pt_change *chg)
{
	struct pt_proc *p = chg->proc;

	mx_event(&d->mx, pt, h, chg);
	switch (h->type) {
	case MPT_EV_EXIT:
		if (!p || !chg->orphaned_some)
			break;
		for (struct pt_proc *c = p->child; c; c = c->sibling)
			if (c->orphaned_ts == h->ts)
				emit_proc(d, pt, c, h->ts, AN_ORPHAN);
		break;
	case MPT_EV_FREE:
		/* a slow reap; one that passed the threshold unreaped was told then */
		if (p && chg->other == p && p->state == PT_REAPED && !p->zombie_noted)
			emit_proc(d, pt, p, h->ts, AN_ZOMBIE);
		break;
	case MPT_EV_DEADLOCK:
		emit_deadlock(d, pt);
		break;
	default:
		break;
	}
}

void daemon_zombie(struct daemon *d, struct ptree *pt, struct pt_proc *p, uint64_t now)
{
	emit_proc(d, pt, p, now, AN_ZOMBIE);
}

int daemon_fd(const struct daemon *d)
{
	return d->http ? d->efd : -1;
}

void daemon_tick(struct daemon *d, struct ptree *pt, const struct mx_self *s)
{
	struct mx_self self = *s;
	uint64_t n;

	if (!d->http)
		return;
	if (read(d->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&d->mu);
	for (int f = 0; f < FMT_N; f++) {
		if (d->served[f] >= d->asked[f])
			continue;
		self.start_time = d->start_time;
		self.have_self = true;
		proc_self(&self);
		d->page[f].len = 0;
		mx_render(&d->page[f], &d->mx, pt, &self, d->o->metrics_comms, f == FMT_OM);
		d->served[f] = d->asked[f];
	}
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

/* ---- --metrics-file: node_exporter's textfile collector ---- */

/*
 * Written whole or not at all: a temporary file in the same directory
 * (created, never opened through a link), synced, then renamed over the
 * target; the collector never reads half a file. Its name does not end in
 * .prom, so the collector skips it.
 */
static int write_atomic(const char *path, const struct sbuf *b)
{
	char *dir = xstrdup(path), *tmp = NULL;
	const char *base = base_name(path);
	int fd = -1, err = 0;
	size_t off = 0;

	if (asprintf(&tmp, "%s/.%s.%d.tmp", dirname(dir), base, (int)getpid()) < 0) {
		free(dir);
		return ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	while (off < b->len) {
		ssize_t n = write(fd, b->s + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			goto out;
		}
		off += n;
	}
	if (fsync(fd) || close(fd)) {
		fd = -1;
		err = errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path))
		err = errno;
out:
	if (fd >= 0)
		close(fd);
	if (err)
		unlink(tmp);
	free(tmp);
	free(dir);
	return err;
}

int daemon_check(const struct opts *o)
{
	char *dir;
	int err = 0;

	if (o->metrics_file) {
		dir = xstrdup(o->metrics_file);
		if (access(dirname(dir), W_OK | X_OK))
			err = output_open_error(o->metrics_file, "metrics file", errno);
		free(dir);
	}
	return err;
}

int daemon_finish(struct daemon *d, struct ptree *pt, const struct an_result *r,
		  const struct mx_self *s)
{
	struct mx_self self = *s;
	struct sbuf b = { 0 };
	int err;

	if (!d->o->metrics_file)
		return 0;
	/* the findings of the report, not only those told as they came */
	for (int k = 0; k < AN_NKINDS; k++)
		d->mx.findings[k] = r->count[k] + r->older[k];
	/* process_* would clash with node_exporter's own */
	self.have_self = false;
	mx_render(&b, &d->mx, pt, &self, d->o->metrics_comms, false);
	err = write_atomic(d->o->metrics_file, &b);
	sb_free(&b);
	if (err) {
		p_err("cannot write the metrics file '%s': %s", d->o->metrics_file, strerror(err));
		return EXIT_ENV;
	}
	return 0;
}

/* ---- life ---- */

int daemon_open(struct daemon **out, const struct opts *o, const struct an_opts *an)
{
	struct daemon *d = xcalloc(1, sizeof(*d));
	int err = 0;

	d->o = o;
	d->an = an;
	d->efd = -1;
	mx_init(&d->mx);
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	d->start_time = self_start_time();
	*out = d;
	if (o->findings_file) {
		d->findings = open_findings(o->findings_file);
		if (!d->findings)
			return output_open_error(o->findings_file, "findings", errno);
	}
	if (o->metrics_addr && strcmp(o->metrics_addr, "off")) {
		d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (d->efd < 0) {
			p_err("cannot create an eventfd: %s", strerror(errno));
			return EXIT_ENV;
		}
		err = start_http(d, o->metrics_addr);
	}
	return err;
}

void daemon_reopen(struct daemon *d)
{
	FILE *f;

	if (!d->findings || d->findings == stdout)
		return;
	f = open_findings(d->o->findings_file);
	if (!f) {
		p_warn("cannot reopen '%s' for the findings: %s; writing on to the old file",
		       d->o->findings_file, strerror(errno));
		return;
	}
	fclose(d->findings);
	d->findings = f;
}

void daemon_close(struct daemon *d)
{
	if (!d)
		return;
	if (d->http) {
		pthread_mutex_lock(&d->mu);
		d->closing = true;
		pthread_cond_broadcast(&d->cv);
		pthread_mutex_unlock(&d->mu);
		mhd.stop_daemon(d->http);
	}
	if (d->findings && d->findings != stdout)
		fclose(d->findings);
	else if (d->findings)
		fflush(stdout);
	if (d->efd >= 0)
		close(d->efd);
	for (int f = 0; f < FMT_N; f++)
		sb_free(&d->page[f]);
	sb_free(&d->line);
	mx_free(&d->mx);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
