/* Prometheus text exposition (format 0.0.4) of the same figures as /mediagate/stats and
 * /mediagate/lcores. Metric names are stable: mediagate_<figure>[_total], workers'
 * figures as mediagate_worker_<figure>_total{worker="N",lcore="L"}. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_version.h>

#include "mg_version.h"
#include "telemetry.h"

static struct mg_telemetry_ctx prom_ctx;
static int listen_fd = -1;
static pthread_t prom_thread;
static volatile int prom_stop;

struct text {
	char *buf;
	size_t len, cap;
	const char *prefix; /* "mediagate_" or "mediagate_worker_" */
	const char *labels; /* "" or {worker="0",lcore="1"} */
	int typed;	    /* emit # TYPE lines (first label set only) */
};

static void append(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(struct text *t, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap * 2 + (size_t)n;
		char *b = realloc(t->buf, cap);
		if (!b)
			return;
		t->buf = b;
		t->cap = cap;
	}
}

static void prom_emit(void *arg, const char *name, uint64_t value, bool gauge)
{
	struct text *t = arg;
	const char *suffix = gauge ? "" : "_total";
	if (t->typed)
		append(t, "# TYPE %s%s%s %s\n", t->prefix, name, suffix,
		       gauge ? "gauge" : "counter");
	append(t, "%s%s%s%s %llu\n", t->prefix, name, suffix, t->labels, (unsigned long long)value);
}

static char *render(size_t *len)
{
	struct text t = {.buf = malloc(65536), .cap = 65536};
	if (!t.buf)
		return NULL;
	append(&t, "# TYPE mediagate_info gauge\nmediagate_info{version=\"%s\",dpdk=\"%s\"} 1\n",
	       MG_VERSION, rte_version());
	t.prefix = "mediagate_";
	t.labels = "";
	t.typed = 1;
	mg_metrics_totals(&prom_ctx, prom_emit, &t);
	/* one label set per worker: TYPE lines once, before the first */
	t.prefix = "mediagate_worker_";
	for (unsigned w = 0; w < mg_dp_worker_count(prom_ctx.dp); w++) {
		char labels[64];
		snprintf(labels, sizeof(labels), "{worker=\"%u\",lcore=\"%u\"}", w,
			 mg_dp_worker_lcore(prom_ctx.dp, w));
		t.labels = labels;
		t.typed = w == 0;
		struct mg_worker_stats s;
		mg_dp_worker_stats(prom_ctx.dp, w, &s);
		mg_metrics_worker(&s, prom_emit, &t);
	}
	*len = t.len;
	return t.buf;
}

static void serve(int fd)
{
	char req[1024];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n = poll(&p, 1, 2000) > 0 ? recv(fd, req, sizeof(req) - 1, 0) : -1;
	if (n <= 0)
		return;
	req[n] = '\0';
	char hdr[256];
	if (strncmp(req, "GET /metrics ", 13) != 0 && strncmp(req, "GET /metrics?", 13) != 0) {
		static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 10\r\n"
					 "Connection: close\r\n\r\nnot found\n";
		send(fd, nf, sizeof(nf) - 1, MSG_NOSIGNAL);
		return;
	}
	size_t len;
	char *body = render(&len);
	if (!body)
		return;
	int h = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 len);
	send(fd, hdr, (size_t)h, MSG_NOSIGNAL);
	for (size_t off = 0; off < len;) {
		ssize_t w = send(fd, body + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(body);
}

static void *prom_main(void *arg)
{
	(void)arg;
	while (!prom_stop) {
		struct pollfd p = {.fd = listen_fd, .events = POLLIN};
		if (poll(&p, 1, 200) <= 0)
			continue;
		int fd = accept(listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(fd);
		close(fd);
	}
	return NULL;
}

int mg_prometheus_start(const struct mg_telemetry_ctx *ctx, const char *listen_at, char *err,
			size_t errlen)
{
	char host[64];
	snprintf(host, sizeof(host), "%s", listen_at);
	char *colon = strrchr(host, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (!colon) {
		snprintf(err, errlen, "control.prometheus_listen: expected address:port");
		return -1;
	}
	*colon = '\0';
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "control.prometheus_listen: bad address '%s'", host);
		return -1;
	}
	prom_ctx = *ctx;
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(listen_fd, 16) < 0) {
		snprintf(err, errlen, "control.prometheus_listen: cannot listen on %s (%s)",
			 listen_at, strerror(errno));
		if (listen_fd >= 0)
			close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	prom_stop = 0;
	if (pthread_create(&prom_thread, NULL, prom_main, NULL) != 0) {
		snprintf(err, errlen, "cannot start the Prometheus thread");
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	return 0;
}

void mg_prometheus_stop(void)
{
	if (listen_fd < 0)
		return;
	prom_stop = 1;
	pthread_join(prom_thread, NULL);
	close(listen_fd);
	listen_fd = -1;
}
