/*
 * The raw TCP fan-out floor in C: the same behaviour and command line as raw_tcp_relay.ts, without a
 * JavaScript runtime in the way. It plays the camera once (RTSP, TCP interleaved: OPTIONS, DESCRIBE,
 * SETUP, PLAY) and writes every access unit, byte for byte as interleaved frames, to every connected
 * TCP client as ONE send() per client (the RTP marker bit on channel 0 ends an access unit, RFC 6184
 * §5.1; RTCP goes out with the next one). Non-blocking sockets and epoll; what the kernel does not take
 * is queued per client, and a client with more than 8 MB queued has stopped reading and is dropped.
 *
 * With --threads T the clients are dealt round-robin to T threads (the main thread is thread 0 and
 * also reads the camera). Each frame is copied once into a reference-counted buffer and handed to the
 * other threads through a mailbox + eventfd; every thread then writes it to its own share, so T cores
 * run the fan-out in parallel. This shows what a perfect multi-core fan-out could reach. Thread i is
 * pinned to the i-th CPU the process may use (--no-pin to leave placement to the scheduler): without
 * it, the woken thread was measured to land on the waker's core and to start only once thread 0 had
 * finished its share, so two threads were no faster than one.
 *
 *   gcc -O2 -Wall -Wextra -pthread -o raw_tcp_relay_c scripts/bench/raw_tcp_relay.c
 *   ./raw_tcp_relay_c --source rtsp://127.0.0.1:9000/cam [--port 0] [--threads 1] [--no-pin]
 *
 * Prints {"event":"listening","port":N} on stdout once the camera plays. On SIGUSR1 it prints how
 * long handing each frame to all clients took since the previous SIGUSR1 (see print_stats) and starts
 * over. Exits 0 on SIGTERM/SIGINT, 1 when the camera connection closes or fails.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* accept4, memmem */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_QUEUED (8u << 20)   /* bytes queued for one client before it is dropped (as the TS relay) */
#define PENDING_CAP (4u << 20)  /* one access unit; a 1080p keyframe is ~85-170 KB */
#define UP_CAP (256u << 10)     /* upstream read buffer (an interleaved frame is at most 4 + 65535) */
#define RING 256                /* mailbox slots per thread: ~10 s of frames at 25 fps */
#define MAX_THREADS 64
#define STAT_CAP 16384          /* frame timings kept between two SIGUSR1: ~11 min at 25 fps */

/* Everything registered with an epoll starts with `kind`, so an event's data.ptr says what it is. */
enum kind { K_LISTEN, K_UPSTREAM, K_SIGNAL, K_WAKE, K_CLIENT };
struct handle { enum kind kind; int fd; };
/* A pointer to a struct converts to a pointer to its first member (C11 6.7.2.1p15). */
static enum kind kind_of(void *p) { return *(enum kind *)p; }

struct client {
  enum kind kind;               /* K_CLIENT */
  int fd;                       /* -1 once dropped (the struct lives until the end of the epoll batch) */
  size_t index;                 /* position in the owner's clients[] */
  uint8_t *q;                   /* bytes the kernel did not take yet: q[qoff..qlen) */
  size_t qoff, qlen, qcap;
  struct client *next_dead;
};

/* One access unit shared by the threads; the last one to finish with it records the time and frees it. */
struct frame { atomic_int refs; int key; double t0; size_t len; uint8_t data[]; };

struct msg { struct frame *frame; struct client *client; };  /* exactly one of the two is set */

struct thread {
  int ep;
  struct handle wake;           /* eventfd: "the mailbox has messages" (threads >= 1) */
  pthread_mutex_t mu;
  struct msg ring[RING];
  unsigned head, tail;          /* ring[tail..head) are pending; guarded by mu */
  struct client **clients;      /* owned by this thread only, so fan-out takes no lock */
  size_t n, cap;
  struct client *dead;          /* dropped during this epoll batch, freed after it */
  pthread_t tid;
};

static struct thread threads[MAX_THREADS];
static int nthreads = 1, pin = 1;
static cpu_set_t allowed_cpus;    /* the process's CPUs, read before any thread is pinned */
static atomic_int nclients;

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("raw_tcp_relay.c: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (!p) die("out of memory");
  return p;
}

static void ep_ctl(int ep, int op, int fd, uint32_t events, void *ptr) {
  struct epoll_event ev = { .events = events, .data.ptr = ptr };
  if (epoll_ctl(ep, op, fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
}

/* ---------------------------------------------------------------------------------------------
 * Clients: one send() per frame; the rest is queued and flushed on EPOLLOUT. */

static void drop(struct thread *t, struct client *c) {
  close(c->fd);  /* also removes it from the epoll set */
  c->fd = -1;
  atomic_fetch_sub(&nclients, 1);
  t->clients[c->index] = t->clients[--t->n];  /* swap-remove */
  t->clients[c->index]->index = c->index;
  c->next_dead = t->dead;
  t->dead = c;
}

static void free_dead(struct thread *t) {
  while (t->dead) {
    struct client *c = t->dead;
    t->dead = c->next_dead;
    free(c->q);
    free(c);
  }
}

static void add_client(struct thread *t, struct client *c) {
  if (t->n == t->cap) {
    t->cap = t->cap ? 2 * t->cap : 256;
    t->clients = xrealloc(t->clients, t->cap * sizeof *t->clients);
  }
  c->index = t->n;
  t->clients[t->n++] = c;
  atomic_fetch_add(&nclients, 1);
  ep_ctl(t->ep, EPOLL_CTL_ADD, c->fd, EPOLLIN | EPOLLRDHUP, c);
}

/* Appends to the client's queue; false when that would pass MAX_QUEUED. */
static int enqueue(struct client *c, const uint8_t *p, size_t len) {
  if (c->qlen - c->qoff + len > MAX_QUEUED) return 0;
  if (c->qoff > 0) {  /* compact (rare: only while a client is behind) */
    memmove(c->q, c->q + c->qoff, c->qlen - c->qoff);
    c->qlen -= c->qoff;
    c->qoff = 0;
  }
  if (c->qlen + len > c->qcap) {
    c->qcap = c->qlen + len > 2 * c->qcap ? c->qlen + len : 2 * c->qcap;
    c->q = xrealloc(c->q, c->qcap);
  }
  memcpy(c->q + c->qlen, p, len);
  c->qlen += len;
  return 1;
}

static void send_frame(struct thread *t, struct client *c, const uint8_t *p, size_t len) {
  if (c->qlen > c->qoff) {  /* still behind: keep the byte order, the EPOLLOUT handler flushes */
    if (!enqueue(c, p, len)) drop(t, c);
    return;
  }
  ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (w < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { drop(t, c); return; }
    w = 0;
  }
  if ((size_t)w == len) return;
  if (!enqueue(c, p + w, len - (size_t)w)) { drop(t, c); return; }
  ep_ctl(t->ep, EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLRDHUP | EPOLLOUT, c);
}

/* The fan-out loop itself. Walk backwards so a swap-remove in drop() never skips a client. */
static void fanout(struct thread *t, const uint8_t *p, size_t len) {
  for (size_t i = t->n; i-- > 0;) send_frame(t, t->clients[i], p, len);
}

static void client_event(struct thread *t, struct client *c, uint32_t events) {
  if (c->fd < 0) return;  /* dropped earlier in this batch */
  if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) { drop(t, c); return; }
  if (events & EPOLLIN) {  /* readers send nothing that matters: discard, notice EOF */
    uint8_t sink[4096];
    ssize_t r = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) { drop(t, c); return; }
  }
  if ((events & EPOLLOUT) && c->qlen > c->qoff) {
    ssize_t w = send(c->fd, c->q + c->qoff, c->qlen - c->qoff, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { drop(t, c); return; }
    if (w > 0) c->qoff += (size_t)w;
    if (c->qoff == c->qlen) {
      c->qoff = c->qlen = 0;
      ep_ctl(t->ep, EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLRDHUP, c);
    }
  }
}

/* ---------------------------------------------------------------------------------------------
 * Fan-out timing: from "the access unit is complete" to "the last thread's last send() returned",
 * i.e. the time the kernel takes to take one frame for every client (copy + loopback TCP, whose
 * receive side runs inside send()). Keyframes (an IDR slice or SPS in the access unit) apart. */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct stat_class { double ms[STAT_CAP]; size_t n, frames; double bytes; };
static struct stat_class stats[2];  /* [0] other frames, [1] keyframes */
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;

static void record(int key, size_t len, double t0) {
  double ms = (now_s() - t0) * 1e3;
  pthread_mutex_lock(&stats_mu);
  struct stat_class *c = &stats[key];
  if (c->n < STAT_CAP) c->ms[c->n++] = ms;
  c->frames++;
  c->bytes += (double)len;
  pthread_mutex_unlock(&stats_mu);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* {"event":"fanout","clients":N,"threads":T,"keyframes":{...},"other":{...}} on stdout, then reset. */
static void print_stats(void) {
  pthread_mutex_lock(&stats_mu);
  printf("{\"event\":\"fanout\",\"clients\":%d,\"threads\":%d", atomic_load(&nclients), nthreads);
  for (int k = 1; k >= 0; k--) {
    struct stat_class *c = &stats[k];
    qsort(c->ms, c->n, sizeof c->ms[0], cmp_double);
    double p50 = c->n ? c->ms[c->n / 2] : 0, p99 = c->n ? c->ms[c->n * 99 / 100] : 0;
    printf(",\"%s\":{\"frames\":%zu,\"avgBytes\":%.0f,\"p50Ms\":%.3f,\"p99Ms\":%.3f,\"maxMs\":%.3f}",
           k ? "keyframes" : "other", c->frames, c->frames ? c->bytes / (double)c->frames : 0, p50, p99,
           c->n ? c->ms[c->n - 1] : 0);
    c->n = c->frames = 0;
    c->bytes = 0;
  }
  printf("}\n");
  fflush(stdout);
  pthread_mutex_unlock(&stats_mu);
}

/* ---------------------------------------------------------------------------------------------
 * Hand-off to the other threads. */

static void unref(struct frame *f) {
  if (atomic_fetch_sub(&f->refs, 1) == 1) {
    record(f->key, f->len, f->t0);
    free(f);
  }
}

/* Thread i runs on the i-th allowed CPU (see the header comment for why). */
static void pin_thread(int i) {
  if (nthreads == 1 || !pin) return;
  int want = i % CPU_COUNT(&allowed_cpus);
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &allowed_cpus) || want--) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    return;
  }
}

static void post(struct thread *t, struct msg m) {
  pthread_mutex_lock(&t->mu);
  int full = t->head - t->tail == RING;
  if (!full) t->ring[t->head++ % RING] = m;
  pthread_mutex_unlock(&t->mu);
  if (full) {  /* that thread is ~10 s behind: its clients miss this frame (or this new client) */
    if (m.frame) unref(m.frame);
    if (m.client) { close(m.client->fd); free(m.client); }
    return;
  }
  uint64_t one = 1;
  if (write(t->wake.fd, &one, sizeof one) < 0) die("eventfd write: %s", strerror(errno));
}

static void drain_mailbox(struct thread *t) {
  uint64_t v;
  if (read(t->wake.fd, &v, sizeof v) < 0 && errno != EAGAIN) die("eventfd read: %s", strerror(errno));
  for (;;) {
    pthread_mutex_lock(&t->mu);
    int empty = t->head == t->tail;
    struct msg m = empty ? (struct msg){ 0 } : t->ring[t->tail++ % RING];
    pthread_mutex_unlock(&t->mu);
    if (empty) return;
    if (m.client) add_client(t, m.client);
    if (m.frame) { fanout(t, m.frame->data, m.frame->len); unref(m.frame); }
  }
}

static void *worker(void *arg) {
  struct thread *t = arg;
  pin_thread((int)(t - threads));
  struct epoll_event evs[64];
  for (;;) {
    int n = epoll_wait(t->ep, evs, 64, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
      if (kind_of(evs[i].data.ptr) == K_WAKE) drain_mailbox(t);
      else client_event(t, evs[i].data.ptr, evs[i].events);
    }
    free_dead(t);
  }
  return NULL;
}

/* Main thread: post the frame to threads 1..T-1 first (they start at once), then write share 0. */
static void publish(const uint8_t *p, size_t len, int key) {
  double t0 = now_s();
  if (nthreads == 1) {  /* no copy: the sends are synchronous */
    fanout(&threads[0], p, len);
    record(key, len, t0);
    return;
  }
  struct frame *f = xrealloc(NULL, sizeof *f + len);
  atomic_init(&f->refs, nthreads);
  f->key = key;
  f->t0 = t0;
  f->len = len;
  memcpy(f->data, p, len);
  for (int i = 1; i < nthreads; i++) post(&threads[i], (struct msg){ .frame = f });
  fanout(&threads[0], f->data, len);
  unref(f);
}

/* ---------------------------------------------------------------------------------------------
 * The camera: a blocking RTSP handshake, then non-blocking interleaved frames. */

static struct { uint8_t *buf; size_t start, end; } up;  /* received, not yet consumed: buf[start..end) */
static int upfd = -1, cseq = 0;
static char url[1024], session[256];
static uint8_t pending[PENDING_CAP];
static size_t pending_len;
static int pending_key;  /* the access unit in `pending` holds an IDR slice or an SPS */

static void up_send(const char *method, const char *target, const char *extra) {
  char req[4096];
  int n = snprintf(req, sizeof req, "%s %s RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: strom-bench\r\n%s\r\n",
                   method, target, ++cseq, extra);
  if (n < 0 || (size_t)n >= sizeof req) die("%s: request too long", method);
  if (send(upfd, req, (size_t)n, MSG_NOSIGNAL) != n) die("%s %s: send failed: %s", method, target, strerror(errno));
}

/* Reads more camera bytes into up.buf (blocking during the handshake); 0 on EOF. */
static ssize_t up_read(void) {
  if (up.start > 0) {
    memmove(up.buf, up.buf + up.start, up.end - up.start);
    up.end -= up.start;
    up.start = 0;
  }
  if (up.end == UP_CAP) die("camera sent an unparseable stream");
  ssize_t r = recv(upfd, up.buf + up.end, UP_CAP - up.end, 0);
  if (r > 0) up.end += (size_t)r;
  return r;
}

/* Value of header `name` in a NUL-terminated RTSP head, trimmed, into out ("" when absent). */
static void header(const char *head, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  out[0] = 0;
  for (const char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
    line += 2;
    if (strncasecmp(line, name, nl) || line[nl] != ':') continue;
    const char *v = line + nl + 1, *e = strstr(v, "\r\n");
    if (!e) e = v + strlen(v);
    while (v < e && (*v == ' ' || *v == '\t')) v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
    size_t len = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
    memcpy(out, v, len);
    out[len] = 0;
    return;
  }
}

/* Sends a request and waits for its response; returns the head (headers), body into *body. */
static char *request(const char *method, const char *target, const char *extra, char **body) {
  up_send(method, target, extra);
  for (;;) {
    uint8_t *b = up.buf + up.start;
    size_t avail = up.end - up.start;
    uint8_t *eoh = memmem(b, avail, "\r\n\r\n", 4);
    if (eoh) {
      size_t headlen = (size_t)(eoh - b);
      char *head = xrealloc(NULL, headlen + 3);
      memcpy(head, b, headlen);
      memcpy(head + headlen, "\r\n", 3);  /* every header line ends in CRLF: simpler lookups */
      char cl[32];
      header(head, "content-length", cl, sizeof cl);
      size_t bodylen = (size_t)atol(cl);
      if (headlen + 4 + bodylen <= avail) {
        *body = xrealloc(NULL, bodylen + 1);
        memcpy(*body, eoh + 4, bodylen);
        (*body)[bodylen] = 0;
        up.start += headlen + 4 + bodylen;
        int status = 0;
        if (sscanf(head, "RTSP/%*d.%*d %d", &status) != 1 || status != 200) {
          die("%s %s: %.*s", method, target, (int)strcspn(head, "\r\n"), head);
        }
        return head;
      }
      free(head);
    }
    ssize_t r = up_read();
    if (r <= 0) die("%s %s: no response (%s)", method, target, r == 0 ? "connection closed" : strerror(errno));
  }
}

/* The first video media's a=control, else the first media's (as firstVideoControl in _rtsp_wire.ts). */
static void video_control(const char *sdp, char *out, size_t cap) {
  int in_video = 0, saw_media = 0;
  out[0] = 0;
  for (const char *l = sdp; *l; l += strcspn(l, "\n"), l += *l == '\n') {
    size_t len = strcspn(l, "\r\n");
    if (!strncmp(l, "m=", 2)) {
      if (in_video) break;
      in_video = !strncmp(l, "m=video", 7);
      saw_media = 1;
    } else if (saw_media && !strncmp(l, "a=control:", 10) && (in_video || !out[0])) {
      size_t n = len - 10 < cap - 1 ? len - 10 : cap - 1;
      memcpy(out, l + 10, n);
      out[n] = 0;
      if (in_video) return;
    }
  }
}

static void play_camera(void) {
  char host[256], port[16] = "554";
  const char *p = url + 7, *path;  /* after "rtsp://" */
  if (strncasecmp(url, "rtsp://", 7)) die("--source must be an rtsp:// URL, not \"%s\"", url);
  size_t hl = strcspn(p, ":/");
  if (hl >= sizeof host) die("host too long in %s", url);
  memcpy(host, p, hl);
  host[hl] = 0;
  path = p + hl;
  if (*path == ':') {
    size_t pl = strcspn(path + 1, "/");
    snprintf(port, sizeof port, "%.*s", (int)pl, path + 1);
  }

  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
  int rc = getaddrinfo(host, port, &hints, &ai);
  if (rc) die("cannot resolve %s: %s", host, gai_strerror(rc));
  upfd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (upfd < 0 || connect(upfd, ai->ai_addr, ai->ai_addrlen) < 0) die("connect %s: %s", url, strerror(errno));
  freeaddrinfo(ai);
  int one = 1;
  setsockopt(upfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval tv = { .tv_sec = 10 };  /* each handshake step: 10 s, as the TS side */
  setsockopt(upfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  up.buf = xrealloc(NULL, UP_CAP);

  char *body, *head, base[1024], control[1024], target[2100], extra[512];
  free(request("OPTIONS", url, "", &body));
  free(body);
  head = request("DESCRIBE", url, "Accept: application/sdp\r\n", &body);
  header(head, "content-base", base, sizeof base);
  if (!base[0]) header(head, "content-location", base, sizeof base);
  if (!base[0]) snprintf(base, sizeof base, "%s", url);
  video_control(body, control, sizeof control);
  free(head);
  free(body);
  /* Resolve a=control against the base URL (RFC 2326 §C.1.1). */
  if (!control[0] || !strcmp(control, "*")) snprintf(target, sizeof target, "%s", base);
  else if (!strncasecmp(control, "rtsp://", 7) || !strncasecmp(control, "rtsps://", 8)) snprintf(target, sizeof target, "%s", control);
  else snprintf(target, sizeof target, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", control);

  head = request("SETUP", target, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n", &body);
  header(head, "session", session, sizeof session);
  session[strcspn(session, "; \t")] = 0;
  free(head);
  free(body);
  snprintf(extra, sizeof extra, "Session: %s\r\nRange: npt=0.000-\r\n", session);
  free(request("PLAY", base, extra, &body));
  free(body);
  /* Bytes after the PLAY response are already interleaved frames: they stay in up.buf. */
}

/* Consumes what is complete in up.buf: interleaved frames into `pending`, RTSP text (keep-alive
 * responses) skipped. The 4-byte '$' header goes along, so readers parse it like RTSP interleaved. */
static void parse_upstream(void) {
  while (up.end > up.start) {
    uint8_t *b = up.buf + up.start;
    size_t avail = up.end - up.start;
    if (b[0] == '$') {
      if (avail < 4) return;
      size_t total = 4 + ((size_t)b[2] << 8 | b[3]);
      if (avail < total) return;
      if (pending_len + total > PENDING_CAP) pending_len = 0;  /* cannot happen with sane frames */
      memcpy(pending + pending_len, b, total);
      pending_len += total;
      up.start += total;
      if (b[1] != 0 || total < 4 + 12) continue;  /* RTCP, or too short for RTP */
      /* Skip the RTP header (RFC 3550 §5.1: 12 bytes + CSRCs + extension) to the H.264 NAL header. */
      size_t off = 4 + 12 + 4 * (size_t)(b[4] & 0x0f);
      if ((b[4] & 0x10) && off + 4 <= total) off += 4 + 4 * ((size_t)b[off + 2] << 8 | b[off + 3]);
      if (off + 1 < total) {
        int nal = b[off] & 0x1f;  /* 5 IDR, 7 SPS; 28 FU-A carries the type in its next byte (RFC 6184 §5.8) */
        if (nal == 5 || nal == 7 || (nal == 28 && (b[off + 1] & 0x1f) == 5)) pending_key = 1;
      }
      if (b[5] & 0x80) {  /* the marker bit: the access unit is complete */
        publish(pending, pending_len, pending_key);
        pending_len = 0;
        pending_key = 0;
      }
      continue;
    }
    uint8_t *eoh = memmem(b, avail, "\r\n\r\n", 4);
    if (!eoh) return;
    char head[4096];
    size_t hl = (size_t)(eoh - b) < sizeof head - 3 ? (size_t)(eoh - b) : sizeof head - 3;
    memcpy(head, b, hl);
    memcpy(head + hl, "\r\n", 3);
    char cl[32];
    header(head, "content-length", cl, sizeof cl);
    size_t total = (size_t)(eoh - b) + 4 + (size_t)atol(cl);
    if (avail < total) return;
    up.start += total;
  }
}

/* --------------------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  int port = 0;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(argv[i], "--no-pin")) { pin = 0; continue; }
    if (!strcmp(argv[i], "--source")) snprintf(url, sizeof url, "%s", v);
    else if (!strcmp(argv[i], "--port")) port = atoi(v);
    else if (!strcmp(argv[i], "--threads")) nthreads = atoi(v);
    else die("unknown option %s (use --source rtsp://..., --port N, --threads T, --no-pin)", argv[i]);
    i++;
  }
  if (!url[0]) die("usage: raw_tcp_relay_c --source rtsp://host:port/path [--port 0] [--threads 1]");
  if (nthreads < 1 || nthreads > MAX_THREADS) die("--threads: 1..%d", MAX_THREADS);

  /* SIGTERM/SIGINT/SIGUSR1 arrive through a signalfd in the main loop; threads inherit the mask. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  play_camera();

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t salen = sizeof sa;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 1024) < 0) die("listen: %s", strerror(errno));
  getsockname(lfd, (struct sockaddr *)&sa, &salen);

  sched_getaffinity(0, sizeof allowed_cpus, &allowed_cpus);
  for (int i = 0; i < nthreads; i++) {
    struct thread *t = &threads[i];
    t->ep = epoll_create1(EPOLL_CLOEXEC);
    if (t->ep < 0) die("epoll_create1: %s", strerror(errno));
    if (i == 0) continue;
    pthread_mutex_init(&t->mu, NULL);
    t->wake = (struct handle){ K_WAKE, eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };
    ep_ctl(t->ep, EPOLL_CTL_ADD, t->wake.fd, EPOLLIN, &t->wake);
    if (pthread_create(&t->tid, NULL, worker, t)) die("pthread_create failed");
  }
  struct thread *t0 = &threads[0];
  pin_thread(0);
  struct handle hl = { K_LISTEN, lfd }, hu = { K_UPSTREAM, upfd }, hs = { K_SIGNAL, signalfd(-1, &sigs, SFD_CLOEXEC) };
  struct timeval no_timeout = { 0 };
  setsockopt(upfd, SOL_SOCKET, SO_RCVTIMEO, &no_timeout, sizeof no_timeout);
  ep_ctl(t0->ep, EPOLL_CTL_ADD, lfd, EPOLLIN, &hl);
  ep_ctl(t0->ep, EPOLL_CTL_ADD, upfd, EPOLLIN | EPOLLRDHUP, &hu);
  ep_ctl(t0->ep, EPOLL_CTL_ADD, hs.fd, EPOLLIN, &hs);
  parse_upstream();  /* frames that came with the PLAY response */

  printf("{\"event\":\"listening\",\"port\":%d}\n", ntohs(sa.sin_port));
  fflush(stdout);

  double next_keepalive = now_s() + 20;
  unsigned dealt = 0;
  struct epoll_event evs[64];
  for (;;) {
    int timeout = (int)((next_keepalive - now_s()) * 1000);
    int n = epoll_wait(t0->ep, evs, 64, timeout > 0 ? timeout : 0);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
      enum kind k = kind_of(evs[i].data.ptr);
      if (k == K_SIGNAL) {
        struct signalfd_siginfo si;
        if (read(hs.fd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGUSR1) print_stats();
        else exit(0);  /* SIGTERM/SIGINT: the kernel closes every socket */
      } else if (k == K_UPSTREAM) {
        ssize_t r = up_read();  /* epoll said readable: this recv does not block */
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) die("upstream closed");
        parse_upstream();
      } else if (k == K_LISTEN) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct client *c = xrealloc(NULL, sizeof *c);
          *c = (struct client){ .kind = K_CLIENT, .fd = fd };
          /* Round-robin: every thread gets early, middle and late connections alike. */
          struct thread *t = &threads[dealt++ % (unsigned)nthreads];
          if (t == t0) add_client(t0, c);
          else post(t, (struct msg){ .client = c });
        }
      } else {
        client_event(t0, evs[i].data.ptr, evs[i].events);
      }
    }
    free_dead(t0);
    if (now_s() >= next_keepalive) {  /* OPTIONS with the session: the keep-alive every server accepts */
      char extra[300];
      snprintf(extra, sizeof extra, "Session: %s\r\n", session);
      up_send("OPTIONS", url, extra);
      next_keepalive = now_s() + 20;
    }
  }
}
