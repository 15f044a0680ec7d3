/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Docker Engine API over its unix socket: libcurl speaks HTTP
 * (CURLOPT_UNIX_SOCKET_PATH), json-c reads the answers.  Unversioned paths,
 * so that any daemon answers with its own API version; only fields that
 * have been stable since API 1.24 are read.
 */
/* libcurl is loaded when a command first talks to Docker (lc_load): its
 * forty libraries cost every other command about 10 ms of CPU at start.
 * Without the type-checking macros, the names below are plain functions. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <json-c/json.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "docker.h"

/* A daemon with thousands of containers answers a few MiB; more is garbage. */
#define DOCKER_MAX_BODY (64u << 20)
/* One event is well under a KiB; a "line" this long is not an event. */
#define DOCKER_MAX_EVENT (1u << 20)
#define DOCKER_CONNECT_TIMEOUT_MS 2000L
#define DOCKER_REQUEST_TIMEOUT_MS 5000L

static void seterr(char err[DOCKER_ERR_LEN], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void seterr(char err[DOCKER_ERR_LEN], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, DOCKER_ERR_LEN, fmt, ap);
	va_end(ap);
}

/* ---- libcurl, loaded on first use ------------------------------------------ */

/*
 * The soname the build linked against before (libcurl4, Debian's
 * libcurl.so.4), opened by dlopen() on the first request.  dlopen() looks
 * only where the dynamic loader would for a linked library; in a binary
 * with file capabilities (secure execution) it ignores LD_LIBRARY_PATH, as
 * the loader does.  curl_multi_poll() is the newest function used (7.66).
 */
#define LIBCURL_SONAME "libcurl.so.4"

static struct libcurl {
	void *dl;
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	const char *(*multi_strerror)(CURLMcode);
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
} lc;

static int lc_load(char err[DOCKER_ERR_LEN])
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define SYM(f) { "curl_" #f, offsetof(struct libcurl, f) }
		SYM(easy_init), SYM(easy_setopt), SYM(easy_perform), SYM(easy_cleanup),
		SYM(easy_getinfo), SYM(easy_strerror), SYM(easy_escape), SYM(free),
		SYM(multi_init), SYM(multi_setopt), SYM(multi_add_handle),
		SYM(multi_remove_handle), SYM(multi_cleanup), SYM(multi_perform),
		SYM(multi_poll), SYM(multi_info_read), SYM(multi_strerror),
		SYM(global_init), SYM(global_cleanup),
#undef SYM
	};
	struct libcurl l = { 0 };

	if (lc.dl)
		return 0;
	l.dl = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!l.dl) {
		seterr(err, "docker: cannot load %s (install libcurl4): %s", LIBCURL_SONAME, dlerror());
		return -ELIBACC;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *f = dlsym(l.dl, syms[i].name);
		if (!f) {
			seterr(err, "docker: %s has no %s (libcurl 7.66 or later is needed)",
			       LIBCURL_SONAME, syms[i].name);
			dlclose(l.dl);
			return -ELIBBAD;
		}
		/* POSIX: a data pointer from dlsym() converts to a function pointer */
		memcpy((char *)&l + syms[i].off, &f, sizeof(f));
	}
	lc = l;
	return 0;
}

const char *docker_socket(const struct hg_policy *p)
{
	const char *env = getenv("HOSTGUARD_DOCKER_SOCKET");

	if (env && *env)
		return strcmp(env, "none") == 0 ? NULL : env;
	return hg_policy_docker_socket(p);
}

int docker_init(char err[DOCKER_ERR_LEN])
{
	int r = lc_load(err);

	if (r == 0 && lc.global_init(CURL_GLOBAL_NOTHING) != CURLE_OK) {
		seterr(err, "docker: cannot initialise libcurl");
		r = -ENOMEM;
	}
	return r;
}

/* libcurl stays loaded until exit: OpenSSL, which it brings, is not made
 * to be unloaded. */
void docker_cleanup(void)
{
	if (lc.dl)
		lc.global_cleanup();
}

void docker_state_free(struct docker_state *d)
{
	if (!d)
		return;
	free(d->ports);
	free(d->bridges);
	for (size_t i = 0; i < d->n_containers; i++) {
		free(d->containers[i].allow_uids);
		free(d->containers[i].allow_gids);
		free(d->containers[i].allow_ports);
	}
	free(d->containers);
	free(d);
}

/* curl's words for what a Docker socket does wrong, in plainer ones */
static const char *curl_reason(CURLcode cr)
{
	switch (cr) {
	case CURLE_UNSUPPORTED_PROTOCOL:   /* an HTTP/0.9-looking reply */
	case CURLE_WEIRD_SERVER_REPLY:
		return "the answer is not HTTP";
	case CURLE_PARTIAL_FILE:
		return "the connection closed in the middle of the answer";
	case CURLE_GOT_NOTHING:
		return "the connection closed without an answer";
	case CURLE_OPERATION_TIMEDOUT:
		return "no answer in time";
	default:
		return lc.easy_strerror(cr);
	}
}

/* ---- who answers --------------------------------------------------------- */

/*
 * The Engine API must be served by root (or by the user running hostguard):
 * its answer decides grants (a container's label grants its addresses, a
 * name resolves to them) and which published ports are closed.  A socket
 * path another user can answer on (dockerd stopped and its path free, a
 * writable directory, a rootless daemon) would let that user grant himself
 * any address.  SO_PEERCRED names the process that listened (systemd for a
 * socket-activated docker.sock); checked on the connected socket when the
 * first header line arrives, so no path can be swapped in between.
 */
struct peer {
	int fd;                 /* the socket curl connected (every request
				   opens its own: no reuse) */
	bool checked, bad;
	unsigned uid;
};

static curl_socket_t peer_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct peer *pc = clientp;

	(void)purpose;
	pc->fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	pc->checked = pc->bad = false;
	return pc->fd < 0 ? CURL_SOCKET_BAD : pc->fd;
}

/* false (once, then remembered) when the peer is not root or us */
static bool peer_ok(struct peer *pc)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (pc->checked)
		return !pc->bad;
	pc->checked = true;
	pc->uid = (unsigned)-1;
	if (pc->fd >= 0 && getsockopt(pc->fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0)
		pc->uid = cr.uid;
	pc->bad = pc->uid != 0 && pc->uid != (unsigned)getuid();
	return !pc->bad;
}

static void peer_error(const struct peer *pc, const char *sock, char err[DOCKER_ERR_LEN])
{
	if (pc->uid == (unsigned)-1)
		seterr(err, "docker: %s: cannot tell who serves it (SO_PEERCRED); refusing its answer", sock);
	else
		seterr(err, "docker: %s is served by uid %u, not by root or you; refusing its answer "
		       "(another user's socket would decide who reaches which container)", sock, pc->uid);
}

/* ---- one request --------------------------------------------------------- */

struct body {
	char *data;
	size_t len, cap;
	bool too_big;
	struct peer peer;
};

static size_t body_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;

	(void)ptr;
	return peer_ok(&b->peer) ? size * nmemb : 0;
}

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;

	if (b->len + n + 1 > DOCKER_MAX_BODY) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return 0;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static CURL *easy_new(const char *sock, const char *path, struct peer *pc)
{
	char url[512];
	CURL *c = lc.easy_init();

	if (!c)
		return NULL;
	/* The host part only fills the Host: header; the socket decides. */
	snprintf(url, sizeof(url), "http://docker%s", path);
	if (lc.easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock) != CURLE_OK ||
	    lc.easy_setopt(c, CURLOPT_URL, url) != CURLE_OK) {
		lc.easy_cleanup(c);
		return NULL;
	}
#if LIBCURL_VERSION_NUM >= 0x075500
	lc.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
#endif
	lc.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* no http_proxy from the environment between us and the socket */
	lc.easy_setopt(c, CURLOPT_PROXY, "");
	lc.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, DOCKER_CONNECT_TIMEOUT_MS);
	lc.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	lc.easy_setopt(c, CURLOPT_USERAGENT, "hostguard/" HG_VERSION);
	pc->fd = -1;
	lc.easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, peer_open);
	lc.easy_setopt(c, CURLOPT_OPENSOCKETDATA, pc);
	/* a connection of its own, checked by its own peer_ok() */
	lc.easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	lc.easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	return c;
}

/* The answer of a finished request as JSON: a 200 with exactly one JSON value. */
static int parse_answer(CURL *c, CURLcode cr, struct body *b, const char *sock, const char *path,
			json_object **ret, char err[DOCKER_ERR_LEN])
{
	json_tokener *tok = NULL;
	json_object *obj = NULL;
	long status = 0;
	int r = -EIO;

	if (b->peer.bad) {
		peer_error(&b->peer, sock, err);
		return -EPERM;
	}
	if (cr != CURLE_OK) {
		if (b->too_big)
			seterr(err, "docker: GET %s on %s: answer larger than %u MiB", path, sock,
			       DOCKER_MAX_BODY >> 20);
		else
			seterr(err, "docker: GET %s on %s: %s", path, sock, curl_reason(cr));
		return cr == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT :
		       cr == CURLE_COULDNT_CONNECT ? -ECONNREFUSED : -EIO;
	}
	lc.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		seterr(err, "docker: GET %s on %s: HTTP status %ld", path, sock, status);
		return status == 404 ? -ENOENT : -EIO;
	}
	tok = json_tokener_new();
	if (!tok) {
		seterr(err, "docker: out of memory");
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, b->data ? b->data : "", (int)b->len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != b->len) {
		enum json_tokener_error je = json_tokener_get_error(tok);
		seterr(err, "docker: GET %s on %s: the answer is not JSON (%s)", path, sock,
		       je == json_tokener_success ? "trailing data" :
		       je == json_tokener_continue ? "truncated" : json_tokener_error_desc(je));
		json_object_put(obj);
		goto out;
	}
	*ret = obj;
	r = 0;
out:
	json_tokener_free(tok);   /* json-c 0.16 does not take NULL */
	return r;
}

/* GET path; *ret is the parsed JSON answer of a 200; -ENOENT for a 404. */
static int docker_get_raw(const char *sock, const char *path, json_object **ret,
			  char err[DOCKER_ERR_LEN])
{
	struct body b = { 0 };
	CURLcode cr;
	int r = lc_load(err);
	CURL *c;

	if (r < 0)
		return r;
	c = easy_new(sock, path, &b.peer);
	if (!c) {
		seterr(err, "docker: out of memory");
		return -ENOMEM;
	}
	lc.easy_setopt(c, CURLOPT_TIMEOUT_MS, DOCKER_REQUEST_TIMEOUT_MS);
	lc.easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	lc.easy_setopt(c, CURLOPT_WRITEDATA, &b);
	lc.easy_setopt(c, CURLOPT_HEADERFUNCTION, body_header);
	lc.easy_setopt(c, CURLOPT_HEADERDATA, &b);
	cr = lc.easy_perform(c);
	r = parse_answer(c, cr, &b, sock, path, ret, err);
	free(b.data);
	lc.easy_cleanup(c);
	return r;
}

/* The same, for docker_read: a 404 there is a broken daemon, not an absent
 * one (-ENOENT means no Docker, and apply would drop its ports). */
static int docker_get(const char *sock, const char *path, json_object **ret,
		      char err[DOCKER_ERR_LEN])
{
	int r = docker_get_raw(sock, path, ret, err);

	return r == -ENOENT ? -EIO : r;
}

int docker_get_json(const char *sock, const char *path, json_object **ret,
		    char err[DOCKER_ERR_LEN])
{
	struct stat st;

	if (stat(sock, &st) < 0) {
		seterr(err, "docker: %s: %m", sock);
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		seterr(err, "docker: %s is not a socket", sock);
		return -ENOTSOCK;
	}
	return docker_get_raw(sock, path, ret, err);
}

int docker_get_many(const char *sock, const char *const *paths, size_t n, json_object **ret,
		    int *ret_codes, char err[DOCKER_ERR_LEN])
{
	struct body *b = NULL;
	CURL **c = NULL;
	CURLM *m = NULL;
	size_t next = 0, done = 0;
	int r = 0, running = 0;

	for (size_t i = 0; i < n; i++) {
		ret[i] = NULL;
		ret_codes[i] = -EIO;
	}
	r = lc_load(err);
	if (r < 0)
		return r;
	b = calloc(n + 1, sizeof(*b));
	c = calloc(n + 1, sizeof(*c));
	m = lc.multi_init();
	if (!b || !c || !m) {
		seterr(err, "docker: out of memory");
		r = -ENOMEM;
		goto out;
	}
	/* dockerd serves each connection in its own goroutine: a few dozen in
	 * flight, not thousands of sockets at once */
	lc.multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 32L);
	for (; next < n; next++) {
		c[next] = easy_new(sock, paths[next], &b[next].peer);
		if (!c[next]) {
			seterr(err, "docker: out of memory");
			r = -ENOMEM;
			goto out;
		}
		lc.easy_setopt(c[next], CURLOPT_TIMEOUT_MS, DOCKER_REQUEST_TIMEOUT_MS);
		lc.easy_setopt(c[next], CURLOPT_WRITEFUNCTION, body_write);
		lc.easy_setopt(c[next], CURLOPT_WRITEDATA, &b[next]);
		lc.easy_setopt(c[next], CURLOPT_HEADERFUNCTION, body_header);
		lc.easy_setopt(c[next], CURLOPT_HEADERDATA, &b[next]);
		lc.easy_setopt(c[next], CURLOPT_PRIVATE, (void *)(uintptr_t)next);
		if (lc.multi_add_handle(m, c[next]) != CURLM_OK) {
			lc.easy_cleanup(c[next]);
			c[next] = NULL;
			seterr(err, "docker: out of memory");
			r = -ENOMEM;
			goto out;
		}
	}
	while (done < n) {
		CURLMsg *msg;
		int left;

		if (lc.multi_perform(m, &running) != CURLM_OK ||
		    lc.multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK) {
			seterr(err, "docker: the transfer loop failed");
			r = -EIO;
			goto out;
		}
		lc.multi_perform(m, &running);
		while ((msg = lc.multi_info_read(m, &left))) {
			char e[DOCKER_ERR_LEN];
			void *priv = NULL;
			size_t i;

			if (msg->msg != CURLMSG_DONE)
				continue;
			lc.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&priv);
			i = (size_t)(uintptr_t)priv;
			ret_codes[i] = parse_answer(c[i], msg->data.result, &b[i], sock, paths[i],
						    &ret[i], e);
			/* the first failure that is not a 404 (a container gone meanwhile) */
			if (ret_codes[i] < 0 && ret_codes[i] != -ENOENT && !r) {
				snprintf(err, DOCKER_ERR_LEN, "%s", e);
				r = ret_codes[i];
			}
			done++;
		}
		if (!running && done < n) {
			seterr(err, "docker: requests ended without an answer");
			r = -EIO;
			goto out;
		}
	}
out:
	for (size_t i = 0; i < next && c; i++) {
		if (!c[i])
			continue;
		lc.multi_remove_handle(m, c[i]);
		lc.easy_cleanup(c[i]);
	}
	for (size_t i = 0; b && i < n; i++)
		free(b[i].data);
	if (m)
		lc.multi_cleanup(m);
	free(b);
	free(c);
	if (r < 0 && r != -ENOENT)
		for (size_t i = 0; i < n; i++) {
			json_object_put(ret[i]);
			ret[i] = NULL;
		}
	return r;
}

/* ---- containers and networks --------------------------------------------- */

static const char *obj_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int port_cmp(const void *a, const void *b)
{
	const struct docker_port *x = a, *y = b;

	if (x->udp != y->udp)
		return x->udp ? 1 : -1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return strcmp(x->container, y->container);
}

static int bridge_cmp(const void *a, const void *b)
{
	const struct docker_bridge *x = a, *y = b;

	return strcmp(x->ifname, y->ifname);
}

static void copy_name(char *dst, size_t len, const char *name)
{
	if (!name)
		name = "?";
	if (*name == '/')
		name++;
	snprintf(dst, len, "%s", name);
}

static int read_ports(json_object *arr, struct docker_state *d, const char *sock,
		      char err[DOCKER_ERR_LEN])
{
	size_t n = 0, cap = 0;

	if (!json_object_is_type(arr, json_type_array)) {
		seterr(err, "docker: GET /containers/json on %s: expected a JSON array", sock);
		return -EPROTO;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *c = json_object_array_get_idx(arr, i), *ports, *names, *v;
		const char *name = NULL;

		if (!json_object_is_type(c, json_type_object))
			goto bad;
		if (json_object_object_get_ex(c, "Names", &names) &&
		    json_object_is_type(names, json_type_array) && json_object_array_length(names) > 0)
			name = json_object_get_string(json_object_array_get_idx(names, 0));
		if (!json_object_object_get_ex(c, "Ports", &ports) ||
		    json_object_is_type(ports, json_type_null))
			continue;
		if (!json_object_is_type(ports, json_type_array))
			goto bad;
		for (size_t j = 0; j < json_object_array_length(ports); j++) {
			json_object *pt = json_object_array_get_idx(ports, j);
			const char *type;
			int64_t port;

			if (!json_object_is_type(pt, json_type_object))
				goto bad;
			/* exposed but not published: no PublicPort */
			if (!json_object_object_get_ex(pt, "PublicPort", &v))
				continue;
			if (!json_object_is_type(v, json_type_int))
				goto bad;
			port = json_object_get_int64(v);
			type = obj_str(pt, "Type");
			if (port < 1 || port > 65535 || !type)
				goto bad;
			if (strcmp(type, "tcp") != 0 && strcmp(type, "udp") != 0)
				continue;       /* sctp: no set for it */
			if (n == cap) {
				struct docker_port *np;
				cap = cap ? cap * 2 : 16;
				np = realloc(d->ports, cap * sizeof(*np));
				if (!np) {
					seterr(err, "docker: out of memory");
					return -ENOMEM;
				}
				d->ports = np;
			}
			d->ports[n].udp = type[0] == 'u';
			d->ports[n].port = (uint16_t)port;
			copy_name(d->ports[n].container, sizeof(d->ports[n].container), name);
			n++;
		}
	}
	if (n)
		qsort(d->ports, n, sizeof(*d->ports), port_cmp);
	/* one entry per port: the same port on 0.0.0.0 and :: is listed twice */
	d->n_ports = 0;
	for (size_t i = 0; i < n; i++)
		if (d->n_ports == 0 || d->ports[d->n_ports - 1].udp != d->ports[i].udp ||
		    d->ports[d->n_ports - 1].port != d->ports[i].port)
			d->ports[d->n_ports++] = d->ports[i];
	return 0;
bad:
	seterr(err, "docker: GET /containers/json on %s: unexpected JSON in a container's Ports", sock);
	return -EPROTO;
}

static char *label_dup(json_object *labels, const char *key, bool *oom)
{
	const char *v = labels ? obj_str(labels, key) : NULL;
	char *d;

	if (!v)
		return NULL;
	d = strdup(v);
	*oom |= !d;
	return d;
}

/*
 * The running containers' names, addresses (NetworkSettings.Networks:
 * IPAddress and GlobalIPv6Address of every network) and io.hostguard.*
 * labels, from the same GET /containers/json as the ports.  A name or an
 * address that is not one is garbage: the whole answer is refused.
 */
static int read_containers(json_object *arr, struct docker_state *d, const char *sock,
			   char err[DOCKER_ERR_LEN])
{
	size_t len = json_object_array_length(arr);
	bool oom = false;

	d->containers = calloc(len + 1, sizeof(*d->containers));
	if (!d->containers) {
		seterr(err, "docker: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < len; i++) {
		json_object *c = json_object_array_get_idx(arr, i), *names, *labels = NULL, *ns, *nets;
		struct docker_container *ct = &d->containers[d->n_containers];
		const char *name = NULL;
		struct hg_error e = { 0 };
		char tok[HG_CONTAINER_NAME_MAX + 4];

		/* "/web1"; legacy links add "/other/alias" names: not its own */
		if (json_object_object_get_ex(c, "Names", &names) && json_object_is_type(names, json_type_array))
			for (size_t j = 0; j < json_object_array_length(names) && !name; j++) {
				const char *x = json_object_get_string(json_object_array_get_idx(names, j));
				if (x && x[0] == '/' && !strchr(x + 1, '/'))
					name = x;
			}
		if (!name)
			continue;
		/* a name no grant can hold (longer than HG_CONTAINER_NAME_MAX):
		 * nothing to resolve, no label grant (fails closed) */
		if (strlen(name + 1) >= sizeof(ct->name))
			continue;
		copy_name(ct->name, sizeof(ct->name), name);
		snprintf(tok, sizeof(tok), "0@%s", ct->name);
		if (hg_grant_target_name(HG_KEY_GRANT_UIDS, tok, NULL, 0, &e) != 1)
			goto bad;
		if (json_object_object_get_ex(c, "Labels", &labels) &&
		    !json_object_is_type(labels, json_type_object))
			labels = NULL;
		if (json_object_object_get_ex(c, "NetworkSettings", &ns) &&
		    json_object_is_type(ns, json_type_object) &&
		    json_object_object_get_ex(ns, "Networks", &nets) &&
		    json_object_is_type(nets, json_type_object)) {
			json_object_object_foreach(nets, netname, net) {
				static const char *const keys[] = { "IPAddress", "GlobalIPv6Address" };
				(void)netname;
				for (size_t k = 0; k < 2 && json_object_is_type(net, json_type_object); k++) {
					const char *a = obj_str(net, keys[k]);
					unsigned char buf[16];

					if (!a || !*a || ct->n_addrs == DOCKER_MAX_ADDRS)
						continue;
					if (strlen(a) >= sizeof(ct->addrs[0]) ||
					    inet_pton(k ? AF_INET6 : AF_INET, a, buf) != 1)
						goto bad;
					strcpy(ct->addrs[ct->n_addrs++], a);
				}
			}
		}
		ct->allow_uids = label_dup(labels, "io.hostguard.allow-uids", &oom);
		ct->allow_gids = label_dup(labels, "io.hostguard.allow-gids", &oom);
		ct->allow_ports = label_dup(labels, "io.hostguard.allow-ports", &oom);
		d->n_containers++;
		if (oom) {
			seterr(err, "docker: out of memory");
			return -ENOMEM;
		}
	}
	return 0;
bad:
	seterr(err, "docker: GET /containers/json on %s: a container name or address that is not one", sock);
	return -EPROTO;
}

const struct docker_container *docker_container(const struct docker_state *d, const char *name)
{
	for (size_t i = 0; d && i < d->n_containers; i++)
		if (strcmp(d->containers[i].name, name) == 0)
			return &d->containers[i];
	return NULL;
}

static int read_bridges(json_object *arr, struct docker_state *d, const char *sock,
			char err[DOCKER_ERR_LEN])
{
	size_t n = 0, len = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

	if (!json_object_is_type(arr, json_type_array)) {
		seterr(err, "docker: GET /networks on %s: expected a JSON array", sock);
		return -EPROTO;
	}
	d->bridges = calloc(len + 1, sizeof(*d->bridges));
	if (!d->bridges) {
		seterr(err, "docker: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < len; i++) {
		json_object *net = json_object_array_get_idx(arr, i), *opts;
		const char *driver, *id, *name, *ifname = NULL;
		struct hg_error e = { 0 };

		if (!json_object_is_type(net, json_type_object))
			goto bad;
		driver = obj_str(net, "Driver");
		if (!driver || strcmp(driver, "bridge") != 0)
			continue;
		id = obj_str(net, "Id");
		name = obj_str(net, "Name");
		if (json_object_object_get_ex(net, "Options", &opts) &&
		    json_object_is_type(opts, json_type_object))
			ifname = obj_str(opts, "com.docker.network.bridge.name");
		if (ifname && !*ifname)
			ifname = NULL;
		if (!ifname && name && strcmp(name, "bridge") == 0) {
			ifname = "docker0";
		} else if (!ifname) {
			if (!id || strlen(id) < 12)
				goto bad;
			snprintf(d->bridges[n].ifname, sizeof(d->bridges[n].ifname), "br-%.12s", id);
		}
		if (ifname) {
			if (strlen(ifname) >= sizeof(d->bridges[n].ifname))
				goto bad;
			strcpy(d->bridges[n].ifname, ifname);
		}
		if (hg_value_parse(HG_KEY_IFACES, d->bridges[n].ifname, NULL, NULL, &e) < 0 ||
		    strchr(d->bridges[n].ifname, '*'))
			goto bad;
		copy_name(d->bridges[n].network, sizeof(d->bridges[n].network), name);
		n++;
	}
	if (n)
		qsort(d->bridges, n, sizeof(*d->bridges), bridge_cmp);
	d->n_bridges = 0;
	for (size_t i = 0; i < n; i++)
		if (d->n_bridges == 0 || strcmp(d->bridges[d->n_bridges - 1].ifname, d->bridges[i].ifname))
			d->bridges[d->n_bridges++] = d->bridges[i];
	return 0;
bad:
	seterr(err, "docker: GET /networks on %s: unexpected JSON, or a bridge name that is not an interface name", sock);
	return -EPROTO;
}

int docker_state_from_networks(json_object *networks, const char *sock,
			       struct docker_state **ret, char err[DOCKER_ERR_LEN])
{
	struct docker_state *d = calloc(1, sizeof(*d));
	int r;

	if (!d) {
		seterr(err, "docker: out of memory");
		return -ENOMEM;
	}
	r = read_bridges(networks, d, sock, err);
	if (r < 0) {
		docker_state_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

int docker_read(const char *sock, struct docker_state **ret, char err[DOCKER_ERR_LEN])
{
	struct docker_state *d;
	json_object *obj = NULL;
	struct stat st;
	int r;

	if (stat(sock, &st) < 0) {
		seterr(err, "docker: %s: %m", sock);
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		seterr(err, "docker: %s is not a socket", sock);
		return -ENOTSOCK;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		seterr(err, "docker: out of memory");
		return -ENOMEM;
	}
	r = docker_get(sock, "/containers/json", &obj, err);
	if (r == 0)
		r = read_ports(obj, d, sock, err);
	if (r == 0)
		r = read_containers(obj, d, sock, err);
	json_object_put(obj);
	obj = NULL;
	if (r == 0)
		r = docker_get(sock, "/networks", &obj, err);
	if (r == 0)
		r = read_bridges(obj, d, sock, err);
	json_object_put(obj);
	if (r < 0) {
		docker_state_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

/* "a, b,c" split at commas and blanks, each piece to fn; stops at its first
 * nonzero return */
static int each_item(const char *list, int (*fn)(const char *item, void *data), void *data)
{
	char *copy = strdup(list), *save = NULL;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ", \t", &save); t && r == 0; t = strtok_r(NULL, ", \t", &save))
		r = fn(t, data);
	free(copy);
	return r;
}

static int check_port(const char *item, void *data)
{
	struct hg_error e = { 0 };

	(void)data;
	return hg_value_parse(HG_KEY_TCP, item, NULL, NULL, &e) < 0 ? -EINVAL : 0;
}

struct label_ctx {
	const struct docker_container *ct;
	struct hg_policy *p;
	enum hg_key key;
	const char *label, *value;
	const char *port;          /* NULL: every port */
	struct hg_error *err;
};

/* One principal of a label: a grant per address (and port item). */
static int label_principal(const char *principal, void *data)
{
	struct label_ctx *c = data;
	struct hg_error e = { 0 };
	char tok[256];

	for (size_t i = 0; i < c->ct->n_addrs; i++) {
		const char *a = c->ct->addrs[i];
		bool v6 = strchr(a, ':') != NULL;
		int r;

		if (c->port)
			snprintf(tok, sizeof(tok), v6 ? "%s@[%s]:%s" : "%s@%s:%s", principal, a, c->port);
		else
			snprintf(tok, sizeof(tok), "%s@%s", principal, a);
		r = hg_policy_add_grant_from(c->p, c->key, tok, HG_GRANT_LABEL, c->ct->name, &e);
		if (r == -ENOMEM)
			return -ENOMEM;
		if (r < 0) {
			/* an unknown user is no reason to grant less to the others:
			 * skip it, say so once */
			err_msg("warning: container %s: label %s=%s: %s %s'%s' (skipped)", c->ct->name,
				c->label, c->value, r == -ENOENT ? "unknown" : "invalid",
				r == -ENOENT ? (c->key == HG_KEY_GRANT_GIDS ? "group " : "user ") : "", principal);
			return 0;
		}
	}
	return 0;
}

static int label_port(const char *port, void *data)
{
	struct label_ctx *c = data;

	c->port = port;
	return each_item(c->value, label_principal, c);
}

static int label_grants(const struct docker_container *ct, struct hg_policy *p, struct hg_error *err)
{
	static const char ports_label[] = "io.hostguard.allow-ports";

	if (!ct->allow_uids && !ct->allow_gids)
		return 0;
	if (ct->allow_ports && (!*ct->allow_ports || each_item(ct->allow_ports, check_port, NULL) != 0)) {
		/* fails closed: no port list we understand, no grant */
		err_msg("warning: container %s: label %s=%s: not a list of ports or ranges "
			"(the container's label grants are skipped)", ct->name, ports_label, ct->allow_ports);
		return 0;
	}
	for (int k = 0; k < 2; k++) {
		struct label_ctx c = { ct, p, k ? HG_KEY_GRANT_GIDS : HG_KEY_GRANT_UIDS,
				       k ? "io.hostguard.allow-gids" : "io.hostguard.allow-uids",
				       k ? ct->allow_gids : ct->allow_uids, NULL, err };
		int r;

		if (!c.value)
			continue;
		r = ct->allow_ports ? each_item(ct->allow_ports, label_port, &c)
				    : each_item(c.value, label_principal, &c);
		if (r < 0)
			return r;
	}
	return 0;
}

int docker_note_unresolved(const struct hg_policy *p, const struct docker_state *d, bool quiet)
{
	int n = 0;

	for (int k = HG_KEY_GRANT_UIDS; k <= HG_KEY_GRANT_GIDS; k++) {
		for (size_t i = 0; i < hg_policy_count(p, k); i++) {
			const char *tok = hg_policy_token(p, k, i);
			char name[HG_CONTAINER_NAME_MAX];
			const struct docker_container *ct;

			if (hg_grant_target_name(k, tok, name, sizeof(name), NULL) != 1)
				continue;
			ct = docker_container(d, name);
			if (ct && ct->n_addrs)
				continue;
			n++;
			if (quiet)
				continue;
			if (ct)
				/* --network container:X, host or none: its addresses
				 * (if any) are another's, which the name does not grant */
				err_msg("note: %s %s: container %s has no address of its own (network mode "
					"container:, host or none); no element (fails closed)",
					hg_key_name(k), tok, name);
			else if (d)
				err_msg("note: %s %s: container %s is not running; no element (fails closed)",
					hg_key_name(k), tok, name);
			else
				err_msg("note: %s %s: no Docker to find container %s; no element (fails closed)",
					hg_key_name(k), tok, name);
		}
	}
	return n;
}

int docker_state_to_policy(struct docker_state *d, struct hg_policy *p,
			   struct hg_error *err)
{
	size_t np = hg_policy_count(p, HG_KEY_IFACES);

	for (size_t i = 0; i < d->n_containers; i++) {
		const struct docker_container *ct = &d->containers[i];
		const char *addrs[DOCKER_MAX_ADDRS];

		for (size_t j = 0; j < ct->n_addrs; j++)
			addrs[j] = ct->addrs[j];
		if (hg_policy_set_container(p, ct->name, addrs, ct->n_addrs, err) < 0 ||
		    label_grants(ct, p, err) < 0)
			return err->code ? err->code : -ENOMEM;
	}

	/* The values were checked when read: only memory can fail below. */
	for (size_t i = 0; i < d->n_ports; i++) {
		char tok[8];

		snprintf(tok, sizeof(tok), "%u", d->ports[i].port);
		if (hg_policy_add(p, d->ports[i].udp ? HG_KEY_PUBLISHED_UDP : HG_KEY_PUBLISHED_TCP,
				  tok, err) < 0)
			return err->code ? err->code : -ENOMEM;
	}
	for (size_t i = 0; i < d->n_bridges; i++) {
		bool covered = false;

		for (size_t j = 0; j < np && !covered; j++)
			covered = hg_pattern_match(hg_policy_token(p, HG_KEY_IFACES, j),
						   d->bridges[i].ifname);
		d->bridges[i].added = !covered;
		if (!covered && hg_policy_add(p, HG_KEY_IFACES, d->bridges[i].ifname, err) < 0)
			return err->code ? err->code : -ENOMEM;
	}
	return 0;
}

/*
 * Docker failed: keep what the live table learned from it before (its
 * published ports, and exact interface names the config does not cover), so
 * that an apply while dockerd is busy or restarting (the repair timer runs
 * one every minute) does not reopen docker-proxy until follow's next event.
 * Not the grants of container names and labels: keeping them opens.  The
 * address of a container that stopped meanwhile is the next container's
 * (a dockerd restarting starts its containers before it answers), and an
 * element's comment is only text that anyone with CAP_NET_ADMIN, or an old
 * "nft list ruleset" restored, can write: kept, "label:x" made any element
 * survive the repair.  They come back with the next apply or follow sync
 * that reads Docker.
 * Returns the number of entries kept, or -1 (no table, no privilege).
 */
static int keep_live_docker_entries(struct hg_policy *p)
{
	static const enum hg_key ports[] = { HG_KEY_PUBLISHED_TCP, HG_KEY_PUBLISHED_UDP };
	struct hg_nl *nl = NULL;
	struct hg_state *s = NULL;
	struct hg_error e = { 0 };
	size_t np = hg_policy_count(p, HG_KEY_IFACES);
	int n = 0;

	if (hg_nl_open(&nl, &e) < 0 || hg_state_read(nl, &s, &e) < 0) {
		hg_nl_close(nl);
		return -1;
	}
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < hg_state_count(s, ports[k]); i++) {
			uint32_t lo = 0, hi = 0;
			char tok[16];

			hg_state_range(s, ports[k], i, &lo, &hi);
			if (lo == hi)
				snprintf(tok, sizeof(tok), "%u", lo);
			else
				snprintf(tok, sizeof(tok), "%u-%u", lo, hi);
			n += hg_policy_add(p, ports[k], tok, &e) == 0;
		}
	}
	for (size_t i = 0; i < hg_state_count(s, HG_KEY_IFACES); i++) {
		const char *name = hg_state_iface(s, i);
		bool covered = strchr(name, '*') != NULL;

		for (size_t j = 0; j < np && !covered; j++)
			covered = hg_pattern_match(hg_policy_token(p, HG_KEY_IFACES, j), name);
		if (!covered)
			n += hg_policy_add(p, HG_KEY_IFACES, name, &e) == 0;
	}
	hg_state_free(s);
	hg_nl_close(nl);
	return n;
}

int docker_augment_policy(struct hg_policy *p, struct docker_state **ret_state)
{
	struct docker_state *d = NULL;
	struct hg_error e = { 0 };
	char err[DOCKER_ERR_LEN];
	const char *sock = docker_socket(p);
	int r;

	if (!sock) {
		docker_note_unresolved(p, NULL, false);
		return 0;
	}
	/* HOSTGUARD_DOCKER_SOCKET=keep: do not ask Docker, keep what the live
	 * table learned from it (the boot unit: a socket-activated docker.sock
	 * would start dockerd, which is ordered after us, and we would wait) */
	if (strcmp(sock, "keep") == 0) {
		keep_live_docker_entries(p);
		return 0;
	}
	r = docker_read(sock, &d, err);
	if (r == -ENOENT) {
		docker_note_unresolved(p, NULL, false);
		return 0;       /* no Docker on this host */
	}
	if (r == 0)
		r = docker_state_to_policy(d, p, &e);
	if (r < 0) {
		int kept = keep_live_docker_entries(p);

		if (kept > 0)
			err_msg("warning: %s; keeping the %d published ports and bridges of the live table; "
				"no grant of a container name or label until Docker answers (fails closed)",
				e.message[0] ? e.message : err, kept);
		else
			err_msg("warning: %s; using the config without Docker's ports, bridges and "
				"container grants", e.message[0] ? e.message : err);
		docker_state_free(d);
		return r;
	}
	docker_note_unresolved(p, d, false);
	if (ret_state)
		*ret_state = d;
	else
		docker_state_free(d);
	return 0;
}

int docker_edit_resolver(const char *cmd, enum hg_key key, enum hg_edit op,
			 const char *const *tokens, size_t n, bool runtime, struct hg_policy **ret)
{
	struct hg_policy *cfg = NULL, *res = NULL;
	struct docker_state *d = NULL;
	struct hg_error e = { 0 };
	char err[DOCKER_ERR_LEN] = "", name[HG_CONTAINER_NAME_MAX];
	const char *first = NULL, *sock;
	int ret_code = EXIT_FAIL, r;

	*ret = NULL;
	for (size_t i = 0; i < n && !first; i++)
		if (hg_grant_target_name(key, tokens[i], name, sizeof(name), NULL) == 1)
			first = tokens[i];
	if (!first)
		return EXIT_OK;
	if (runtime) {
		err_msg("%s: '%s': a grant to a container name lives in the config (follow keeps it on the "
			"container's addresses); --runtime and --for take addresses; nothing changed", cmd, first);
		return EXIT_INVALID;
	}
	res = hg_policy_new();
	if (!res)
		goto oom;
	if (op == HG_EDIT_REMOVE) {
		/* the live elements name their container: no Docker needed */
		*ret = res;
		return EXIT_OK;
	}
	if (load_policy_quiet(&cfg) < 0 || !(sock = docker_socket(cfg))) {
		err_msg("%s: '%s': container names need Docker (docker_socket is none or the config is "
			"unreadable); nothing changed", cmd, first);
		ret_code = EXIT_INVALID;
		goto out;
	}
	r = docker_read(sock, &d, err);
	if (r == -ENOENT) {
		err_msg("%s: '%s': no Docker at %s to find the container; nothing changed", cmd, first, sock);
		ret_code = EXIT_INVALID;
		goto out;
	}
	if (r < 0) {
		err_msg("%s: %s; nothing changed", cmd, err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct docker_container *ct;

		if (hg_grant_target_name(key, tokens[i], name, sizeof(name), NULL) != 1)
			continue;
		ct = docker_container(d, name);
		if (!ct || !ct->n_addrs) {
			err_msg(ct ? "%s: '%s': container %s has no address of its own (network mode container:, "
				     "host or none); nothing changed"
				   : "%s: '%s': no running container named %s; nothing changed",
				cmd, tokens[i], name);
			ret_code = EXIT_INVALID;
			goto out;
		}
	}
	for (size_t i = 0; i < d->n_containers; i++) {
		const char *addrs[DOCKER_MAX_ADDRS];

		for (size_t j = 0; j < d->containers[i].n_addrs; j++)
			addrs[j] = d->containers[i].addrs[j];
		if (hg_policy_set_container(res, d->containers[i].name, addrs, d->containers[i].n_addrs, &e) < 0)
			goto oom;
	}
	*ret = res;
	res = NULL;
	ret_code = EXIT_OK;
	goto out;
oom:
	err_msg("%s: out of memory", cmd);
out:
	hg_policy_free(res);
	hg_policy_free(cfg);
	docker_state_free(d);
	return ret_code;
}

/* ---- /events ------------------------------------------------------------- */

struct docker_events {
	CURLM *multi;
	CURL *easy;
	json_tokener *tok;
	size_t pending;         /* bytes of the event being parsed */
	docker_event_fn fn;
	void *userdata;
	struct peer peer;
	bool connected, added;
	char sock[108];
	char err[DOCKER_ERR_LEN];
};

static size_t events_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct docker_events *ev = userdata;
	size_t n = size * nmemb;
	long status = 0;

	if (!peer_ok(&ev->peer)) {
		peer_error(&ev->peer, ev->sock, ev->err);
		return 0;
	}
	/* the empty line that ends the headers */
	if (n <= 2 && (ptr[0] == '\r' || ptr[0] == '\n')) {
		lc.easy_getinfo(ev->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200) {
			seterr(ev->err, "docker: GET /events on %s: HTTP status %ld", ev->sock, status);
			return 0;
		}
		ev->connected = true;
	}
	return n;
}

static void events_dispatch(struct docker_events *ev, json_object *o)
{
	json_object *actor, *attrs;
	const char *type = obj_str(o, "Type"), *action = obj_str(o, "Action"), *name = NULL;

	if (!type || !action)
		return;
	if (json_object_object_get_ex(o, "Actor", &actor) &&
	    json_object_object_get_ex(actor, "Attributes", &attrs))
		name = obj_str(attrs, "name");
	ev->fn(type, action, name, ev->userdata);
}

static size_t events_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct docker_events *ev = userdata;
	size_t n = size * nmemb, off = 0;

	/* Newline-separated JSON objects; the tokener finds where each ends. */
	while (off < n) {
		size_t chunk = n - off > (size_t)1 << 30 ? (size_t)1 << 30 : n - off;
		json_object *o = json_tokener_parse_ex(ev->tok, ptr + off, (int)chunk);
		enum json_tokener_error je = json_tokener_get_error(ev->tok);
		size_t used;

		if (je == json_tokener_continue) {
			ev->pending += chunk;
			if (ev->pending > DOCKER_MAX_EVENT) {
				seterr(ev->err, "docker: GET /events on %s: an event longer than %u KiB",
				       ev->sock, DOCKER_MAX_EVENT >> 10);
				return 0;
			}
			return n;
		}
		if (je != json_tokener_success) {
			seterr(ev->err, "docker: GET /events on %s: the stream is not JSON (%s)",
			       ev->sock, json_tokener_error_desc(je));
			return 0;
		}
		used = json_tokener_get_parse_end(ev->tok);
		json_tokener_reset(ev->tok);
		ev->pending = 0;
		if (!json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			seterr(ev->err, "docker: GET /events on %s: an event that is not a JSON object",
			       ev->sock);
			return 0;
		}
		events_dispatch(ev, o);
		json_object_put(o);
		off += used ? used : chunk;
	}
	return n;
}

int docker_events_open(const char *sock, docker_event_fn fn, void *userdata,
		       struct docker_events **ret, char err[DOCKER_ERR_LEN])
{
	/* Only what can change published ports, bridges or a container's
	 * name, addresses and labels (grants). */
	static const char filters[] =
		"{\"type\":[\"container\",\"network\"],"
		"\"event\":[\"start\",\"die\",\"stop\",\"kill\",\"create\",\"destroy\",\"connect\",\"disconnect\",\"rename\"]}";
	struct docker_events *ev;
	struct stat st;
	char path[512];
	char *q;
	int r;

	if (stat(sock, &st) < 0) {
		seterr(err, "docker: %s: %m", sock);
		return -errno;
	}
	if (strlen(sock) >= sizeof(ev->sock)) {
		seterr(err, "docker: %s: socket path too long", sock);
		return -ENAMETOOLONG;
	}
	r = lc_load(err);
	if (r < 0)
		return r;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		goto oom;
	strcpy(ev->sock, sock);
	ev->fn = fn;
	ev->userdata = userdata;
	ev->tok = json_tokener_new();
	ev->multi = lc.multi_init();
	q = lc.easy_escape(NULL, filters, 0);
	if (!ev->tok || !ev->multi || !q) {
		lc.free(q);
		goto oom;
	}
	/* Not JSON_TOKENER_STRICT here: strict mode refuses a second object
	 * after the first, and one read may carry several events. */
	snprintf(path, sizeof(path), "/events?filters=%s", q);
	lc.free(q);
	ev->easy = easy_new(sock, path, &ev->peer);
	if (!ev->easy)
		goto oom;
	/* No overall timeout: the stream is meant to stay open, silent for hours. */
	lc.easy_setopt(ev->easy, CURLOPT_HEADERFUNCTION, events_header);
	lc.easy_setopt(ev->easy, CURLOPT_HEADERDATA, ev);
	lc.easy_setopt(ev->easy, CURLOPT_WRITEFUNCTION, events_write);
	lc.easy_setopt(ev->easy, CURLOPT_WRITEDATA, ev);
	if (lc.multi_add_handle(ev->multi, ev->easy) != CURLM_OK)
		goto oom;
	ev->added = true;
	*ret = ev;
	return 0;
oom:
	docker_events_close(ev);
	seterr(err, "docker: out of memory");
	return -ENOMEM;
}

bool docker_events_connected(const struct docker_events *ev)
{
	return ev && ev->connected;
}

int docker_events_wait(struct docker_events *ev, int extra_fd, int timeout_ms,
		       bool *ret_extra_ready, char err[DOCKER_ERR_LEN])
{
	struct curl_waitfd wfd = { .fd = extra_fd, .events = CURL_WAIT_POLLIN };
	int running = 0, left = 0;
	CURLMsg *m;
	CURLMcode mc;

	*ret_extra_ready = false;
	/* Blocks in poll() on curl's socket and the extra fd: no wakeups while
	 * Docker is quiet (no transfer timeout is set on the stream). */
	mc = lc.multi_poll(ev->multi, extra_fd >= 0 ? &wfd : NULL, extra_fd >= 0 ? 1 : 0,
			     timeout_ms, NULL);
	if (mc != CURLM_OK) {
		seterr(err, "docker: %s", lc.multi_strerror(mc));
		return -EIO;
	}
	*ret_extra_ready = extra_fd >= 0 && (wfd.revents & CURL_WAIT_POLLIN);
	mc = lc.multi_perform(ev->multi, &running);
	if (mc != CURLM_OK) {
		seterr(err, "docker: %s", lc.multi_strerror(mc));
		return -EIO;
	}
	while ((m = lc.multi_info_read(ev->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		if (ev->err[0]) {
			snprintf(err, DOCKER_ERR_LEN, "%s", ev->err);
			return -EPROTO;
		}
		if (m->data.result != CURLE_OK) {
			seterr(err, "docker: GET /events on %s: %s", ev->sock,
			       curl_reason(m->data.result));
			return -EIO;
		}
		seterr(err, "docker: GET /events on %s: the daemon closed the stream", ev->sock);
		return 0;
	}
	return 1;
}

void docker_events_close(struct docker_events *ev)
{
	if (!ev)
		return;
	if (ev->added)
		lc.multi_remove_handle(ev->multi, ev->easy);
	if (ev->easy)
		lc.easy_cleanup(ev->easy);
	if (ev->multi)
		lc.multi_cleanup(ev->multi);
	if (ev->tok)
		json_tokener_free(ev->tok);
	free(ev);
}
