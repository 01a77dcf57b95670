// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 4. Prometheus exposition: `metrics --listen` serves /metrics over HTTP with
 * libmicrohttpd; `stats --textfile` writes the same text for node_exporter's
 * textfile collector, atomically (temporary file, then rename).
 *
 * The listener assumes hostile clients. It serves only GET and HEAD of
 * /metrics (read-only counters; it changes nothing). Connections are capped
 * per client address and in total, a request's headers are bounded in size,
 * an idle connection is closed after PONG_METRICS_IDLE_S seconds, and every
 * connection, active or not, after PONG_METRICS_DEADLINE_S seconds: a client
 * that sends one header byte at a time cannot hold a slot for longer.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <microhttpd.h>
#include "xdp-pong.h"

static char *render_now(size_t *len);
static time_t mono_s(void);
static long long mono_ns(void);

/*
 * Counters of every interface running xdp-pong, as exposition text
 * (malloc'd). Rendering asks the kernel about every interface: a result is
 * reused for a second, so that no rate of requests costs more than one
 * render a second.
 */
static char *render(size_t *len)
{
	static char *cached;
	static size_t cached_len;
	static time_t cached_at;
	time_t now = mono_s();
	char *copy;

	if (!cached || now != cached_at) {
		size_t n;
		char *fresh = render_now(&n);

		if (!fresh)
			return NULL;
		free(cached);
		cached = fresh;
		cached_len = n;
		cached_at = now;
	}
	copy = malloc(cached_len ? cached_len : 1);
	if (!copy)
		return NULL;
	memcpy(copy, cached, cached_len);
	*len = cached_len;
	return copy;
}

/*
 * The interfaces served: none means every interface running xdp-pong. Set
 * before the server starts; an entry changes when run attaches again to an
 * interface that came back (pong_metrics_follow()).
 */
static int served[PONG_MAX_IFACES], nserved;
static char served_names[PONG_MAX_IFACES][IF_NAMESIZE];   /* as last known: a gone one keeps its name */
static pthread_mutex_t served_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The i-th interface served is now ifindex, called name: run attached again
 * to one that came back, or saw it renamed.
 */
void pong_metrics_follow(int i, int ifindex, const char *name)
{
	pthread_mutex_lock(&served_lock);
	if (i >= 0 && i < nserved) {
		served[i] = ifindex;
		snprintf(served_names[i], IF_NAMESIZE, "%s", name);
	}
	pthread_mutex_unlock(&served_lock);
}

static char *render_now(size_t *len)
{
	static struct pong_attachment a[PONG_MAX_IFACES], down[PONG_MAX_IFACES];
	static struct pong_counters c[PONG_MAX_IFACES];
	static struct pong_lost lost[PONG_MAX_IFACES];
	int now_served[PONG_MAX_IFACES];
	static char now_names[PONG_MAX_IFACES][IF_NAMESIZE];
	char *buf = NULL;
	int n, ndown = 0, nlost = 0;
	FILE *f;

	pthread_mutex_lock(&served_lock);
	memcpy(now_served, served, sizeof(served));
	memcpy(now_names, served_names, sizeof(served_names));
	pthread_mutex_unlock(&served_lock);
	if (nserved) {
		/* these, each with up 1 or 0 */
		n = pong_collect_ifindexes(now_served, (const char (*)[IF_NAMESIZE])now_names, nserved, down);
		for (int i = 0, k = 0; i < n; i++) {
			if (down[i].attached)
				a[k++] = down[i];
			else
				down[ndown++] = down[i];
		}
		n -= ndown;
	} else {
		n = pong_collect(NULL, 0, a, false, NULL);
		if (n < 0)
			return NULL;     /* cannot even list the interfaces: a 500, not empty metrics */
	}
	if (n > 0)
		n = pong_snapshot(a, c, n, false, lost, &nlost);   /* detached meanwhile: not listed, or down */
	for (int i = 0; nserved && i < nlost; i++) {
		struct pong_attachment *gone = &down[ndown++];

		memset(gone, 0, sizeof(*gone));
		memcpy(gone->name, lost[i].name, sizeof(gone->name));
	}
	f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	pong_print_prometheus(f, a, c, n, down, ndown);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The exposition text written to path atomically, for node_exporter's
 * textfile collector (pong_write_whole(), renamed over path): a reader sees
 * the old file or the new one, never part of one. 0, or -errno with why.
 */
struct exposition {
	const struct pong_attachment *a;
	const struct pong_counters *c;
	int n;
};

static void exposition_text(FILE *f, const void *arg)
{
	const struct exposition *e = arg;

	pong_print_prometheus(f, e->a, e->c, e->n, NULL, 0);
}

int pong_write_textfile(const char *path, const struct pong_attachment *a, const struct pong_counters *c, int n,
			struct pong_why *why)
{
	const struct exposition e = { a, c, n };
	int err = pong_write_whole(path, 0644, PONG_WHOLE_REPLACE, exposition_text, &e);

	if (err)
		pong_why(why, "cannot write %s: %s", path, strerror(-err));
	return err;
}

#define PONG_METRICS_MAX_CONN     64      /* connections in all */
#define PONG_METRICS_MAX_PER_IP   8       /* connections per client network (an IPv4 /24, an IPv6 /64) */
#define PONG_METRICS_IDLE_S       5       /* idle connection closed after */
#define PONG_METRICS_DEADLINE_S   10      /* any connection closed after */
#define PONG_METRICS_MEM          16384   /* per connection: request headers must fit */

/*
 * Open connections and when each began, for the deadline. MHD's thread adds
 * and removes them (connection notifications); the main thread shuts down
 * those past the deadline. Under the lock, a listed socket is still open:
 * MHD reports a connection closed before it closes its socket.
 */
static struct {
	pthread_mutex_t lock;
	struct {
		struct MHD_Connection *conn;
		int fd;
		long long started_ns;   /* CLOCK_MONOTONIC */
		__u8 client[9];         /* the client's network: see client_key() */
	} slot[PONG_METRICS_MAX_CONN + 16];
} open_conns = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * Clients are counted by network, not by address: the /24 of an IPv4
 * address, or the /64 of an IPv6 one (one host commonly holds a whole /64,
 * and one on a LAN can take many addresses of its /24; an IPv4-mapped
 * address counts as the IPv4 one).
 */
static void client_key(const struct sockaddr *addr, __u8 key[9])
{
	memset(key, 0, 9);
	if (addr && addr->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)addr)->sin_addr, 3);
	} else if (addr && addr->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)addr)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			key[0] = 4;
			memcpy(key + 1, &a->s6_addr[12], 3);
		} else {
			key[0] = 6;
			memcpy(key + 1, a->s6_addr, 8);
		}
	}
}

/*
 * Accept a connection only while its client's network holds fewer than the
 * per-client limit. When PONG_METRICS_MAX_CONN are open, a newcomer whose
 * network holds fewer connections than the network holding the most takes
 * that network's oldest connection of more than a second (ended at once:
 * MHD reads EOF and closes it; a scrape takes milliseconds, so one that has
 * just begun is never cut): clients holding every slot cannot starve
 * another scraper, and taking turns among themselves is all they can do.
 */
static enum MHD_Result accept_client(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	const size_t nslots = sizeof(open_conns.slot) / sizeof(open_conns.slot[0]);
	const long long young = mono_ns() - 1000000000ll;
	int same = 0, total = 0, ok;
	__u8 key[9];

	(void)cls;
	(void)addrlen;
	client_key(addr, key);
	pthread_mutex_lock(&open_conns.lock);
	for (size_t i = 0; i < nslots; i++) {
		if (!open_conns.slot[i].conn || open_conns.slot[i].fd < 0)
			continue;          /* free, or already being ended */
		total++;
		same += !memcmp(open_conns.slot[i].client, key, sizeof(key));
	}
	ok = same < PONG_METRICS_MAX_PER_IP;
	if (ok && total >= PONG_METRICS_MAX_CONN) {
		int most = 0, victim = -1;

		/* a connection of more than a second, of a network holding more than the newcomer's: from
		 * the network holding the most, the oldest */
		for (size_t i = 0; i < nslots; i++) {
			int n = 0;

			if (!open_conns.slot[i].conn || open_conns.slot[i].fd < 0 || open_conns.slot[i].started_ns >= young)
				continue;
			for (size_t j = 0; j < nslots; j++)
				n += open_conns.slot[j].conn && open_conns.slot[j].fd >= 0 &&
				     !memcmp(open_conns.slot[j].client, open_conns.slot[i].client, sizeof(key));
			if (n <= same)
				continue;
			if (n > most || (n == most && open_conns.slot[i].started_ns < open_conns.slot[victim].started_ns)) {
				most = n;
				victim = (int)i;
			}
		}
		ok = victim >= 0;      /* none: every fuller network's connections have just begun */
		if (ok) {
			shutdown(open_conns.slot[victim].fd, SHUT_RDWR);
			open_conns.slot[victim].fd = -1;     /* once; its slot frees when MHD closes it */
		}
	}
	pthread_mutex_unlock(&open_conns.lock);
	return ok ? MHD_YES : MHD_NO;
}

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *info;

	(void)cls;
	(void)socket_context;
	pthread_mutex_lock(&open_conns.lock);
	for (size_t i = 0; i < sizeof(open_conns.slot) / sizeof(open_conns.slot[0]); i++) {
		if (code == MHD_CONNECTION_NOTIFY_CLOSED && open_conns.slot[i].conn == conn) {
			open_conns.slot[i].conn = NULL;
			break;
		}
		if (code == MHD_CONNECTION_NOTIFY_STARTED && !open_conns.slot[i].conn) {
			info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
			open_conns.slot[i].conn = conn;
			open_conns.slot[i].fd = info ? info->connect_fd : -1;
			open_conns.slot[i].started_ns = mono_ns();
			info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
			client_key(info ? info->client_addr : NULL, open_conns.slot[i].client);
			break;
		}
	}
	pthread_mutex_unlock(&open_conns.lock);
}

/* End every connection older than the deadline: MHD then reads EOF and closes it. */
static void enforce_deadline(void)
{
	long long now = mono_ns();

	pthread_mutex_lock(&open_conns.lock);
	for (size_t i = 0; i < sizeof(open_conns.slot) / sizeof(open_conns.slot[0]); i++) {
		if (open_conns.slot[i].conn && open_conns.slot[i].fd >= 0 &&
		    now - open_conns.slot[i].started_ns >= PONG_METRICS_DEADLINE_S * 1000000000ll) {
			shutdown(open_conns.slot[i].fd, SHUT_RDWR);
			open_conns.slot[i].fd = -1;     /* once */
		}
	}
	pthread_mutex_unlock(&open_conns.lock);
}

static enum MHD_Result respond(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_size, void **state)
{
	static const char not_found[] = "not found: try /metrics\n";
	static const char not_allowed[] = "method not allowed: GET or HEAD /metrics\n";
	static const char failed[] = "cannot read xdp-pong's counters\n";
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned int status = MHD_HTTP_OK;
	char *body = NULL;
	size_t len = 0;

	(void)cls; (void)version; (void)upload_data; (void)upload_size; (void)state;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") != 0) {
		status = MHD_HTTP_NOT_FOUND;
	} else {
		body = render(&len);
		if (!body)
			status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	if (body) {
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	} else {
		const char *text = status == MHD_HTTP_METHOD_NOT_ALLOWED ? not_allowed :
				   status == MHD_HTTP_NOT_FOUND ? not_found : failed;

		resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	}
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				body ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* "127.0.0.1:9101", "[::1]:9101" or ":9101" (all addresses, IPv4 and IPv6). 0 or -EINVAL. */
int pong_parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;
	size_t hlen;

	if (!colon)
		return -EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		host[hlen - 1] = '\0';
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	if (hlen == 0) {
		struct sockaddr_in6 *any = (struct sockaddr_in6 *)ss;

		any->sin6_family = AF_INET6;     /* with MHD_USE_DUAL_STACK: IPv4 too */
		any->sin6_port = htons((uint16_t)port);
		any->sin6_addr = in6addr_any;
		return 0;
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -EINVAL;
}

/*
 * Start serving /metrics on listen_addr (checked by pong_parse_listen()) in
 * a thread of libmicrohttpd's: the interfaces ifindex[] (n of them; each
 * with xdp_pong_up 0 when xdp-pong is not attached), or with n = 0 every
 * interface running xdp-pong. Call pong_metrics_tick() about once a second
 * (it enforces the deadline) and pong_metrics_stop() at the end. Block
 * SIGINT and SIGTERM before: the server's thread must not take them.
 * NULL, with why, if it cannot listen.
 */
struct MHD_Daemon *pong_metrics_start(const char *listen_addr, const int *ifindex, int n, struct pong_why *why)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	int port, any;

	nserved = n < PONG_MAX_IFACES ? n : PONG_MAX_IFACES;
	if (nserved)
		memcpy(served, ifindex, (size_t)nserved * sizeof(*served));
	for (int i = 0; i < nserved; i++)
		if (!if_indextoname((unsigned)served[i], served_names[i]))
			served_names[i][0] = '\0';

	if (pong_parse_listen(listen_addr, &ss)) {
		pong_why(why, "--listen wants ADDR:PORT, not '%s'", listen_addr);
		return NULL;
	}
	port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
	any = ss.ss_family == AF_INET6 &&
	      IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr) && listen_addr[0] == ':';
	/*
	 * One internal thread (the handler uses static buffers), epoll or poll
	 * rather than select (no FD_SETSIZE), and the limits above: connections
	 * over a limit are accepted and closed at once.
	 */
	errno = 0;
	d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD |
			     (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) | (any ? MHD_USE_DUAL_STACK : 0),
			     (uint16_t)port, accept_client, NULL, respond, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     /* MHD's own limit is the table's size: accept_client() keeps PONG_METRICS_MAX_CONN,
			      * and the rest is room for connections being ended */
			     MHD_OPTION_CONNECTION_LIMIT,
			     (unsigned int)(sizeof(open_conns.slot) / sizeof(open_conns.slot[0])),
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)PONG_METRICS_MAX_PER_IP,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)PONG_METRICS_IDLE_S,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)PONG_METRICS_MEM,
			     MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
			     MHD_OPTION_END);
	if (!d)
		pong_why(why, "cannot listen on %s: %s", listen_addr, strerror(errno ? errno : EADDRINUSE));
	return d;
}

/* Once a second or so: end connections past their deadline. */
void pong_metrics_tick(struct MHD_Daemon *d)
{
	(void)d;
	enforce_deadline();
}

void pong_metrics_stop(struct MHD_Daemon *d)
{
	if (d)
		MHD_stop_daemon(d);
}
