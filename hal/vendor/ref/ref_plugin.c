/*
 * The reference xflowd vendor plugin: the ABI of xflowd/vendor_abi.h over refsdk, a simulated
 * ASIC (refsdk.h). A vendor's plugin has the same shape over its own SDK: map ports to
 * ifindexes, sampling sessions to set/get_sampling_rate, port statistics to read_counters, the
 * CPU sample channel to sample_fd + poll.
 *
 * Options (source.vendor.options, "key=value" separated by commas or spaces):
 *   ports=8 seed=1 speed=10000000000 pps=2000 ring=4096 loss-ppm=0 pow2=1
 *   vanish=IFINDEX@MS (that port goes away MS after start) tick-ms=10
 *   clock=timer (real time: traffic follows CLOCK_MONOTONIC, the fd wakes every tick-ms) or
 *   clock=manual (tests: every poll is tick-ms of ASIC time; the fd is always readable)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "refsdk.h"
#include "xflowd/vendor_abi.h"

#define REF_EXPORT __attribute__((visibility("default")))

typedef struct ref_ctx {
  refsdk_t* sdk;
  xfv_host host;
  uint32_t ports;
  int manual;
  uint32_t tick_ms;
  uint64_t manual_now_ns;
  int epfd;    /* sample_fd (timer clock): timerfd + eventfd */
  int timerfd; /* the ASIC's tick */
  int eventfd; /* "more waiting" (timer clock), always set (manual clock) */
} ref_ctx;

static void say(const xfv_host* host, int level, const char* fmt, ...) {
  if (host == NULL || host->log == NULL) return;
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  host->log(host->arg, level, line);
}

static int parse_u64(const char* text, uint64_t max, uint64_t* out) {
  if (text[0] < '0' || text[0] > '9') return 0;
  char* end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || v > max) return 0;
  *out = v;
  return 1;
}

/* Fills `c` from the options string; 0 and a log line on a bad one. */
static int parse_options(const char* options, const xfv_host* host, refsdk_config* c, int* manual,
                         uint32_t* tick_ms) {
  char buf[1024];
  if (strlen(options) >= sizeof(buf)) {
    say(host, XFV_LOG_ERROR, "options: longer than %zu bytes", sizeof(buf) - 1);
    return 0;
  }
  strcpy(buf, options);
  char* save = NULL;
  for (char* tok = strtok_r(buf, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
    char* eq = strchr(tok, '=');
    if (eq == NULL) {
      say(host, XFV_LOG_ERROR, "options: '%s' is not key=value", tok);
      return 0;
    }
    *eq = '\0';
    const char* key = tok;
    const char* val = eq + 1;
    uint64_t v = 0;
    int ok = 1;
    if (strcmp(key, "ports") == 0) {
      ok = parse_u64(val, REFSDK_MAX_PORTS, &v) && v >= 1;
      c->ports = (uint32_t)v;
    } else if (strcmp(key, "seed") == 0) {
      ok = parse_u64(val, UINT64_MAX, &v);
      c->seed = v;
    } else if (strcmp(key, "speed") == 0) {
      ok = parse_u64(val, UINT64_MAX, &v) && v >= 1;
      c->speed_bps = v;
    } else if (strcmp(key, "pps") == 0) {
      ok = parse_u64(val, 1000000, &v);
      c->pps = (uint32_t)v;
    } else if (strcmp(key, "ring") == 0) {
      ok = parse_u64(val, 1000000, &v) && v >= 1;
      c->ring = (uint32_t)v;
    } else if (strcmp(key, "loss-ppm") == 0) {
      ok = parse_u64(val, 1000000, &v);
      c->loss_ppm = (uint32_t)v;
    } else if (strcmp(key, "pow2") == 0) {
      ok = parse_u64(val, 1, &v);
      c->pow2 = (int)v;
    } else if (strcmp(key, "tick-ms") == 0) {
      ok = parse_u64(val, 1000, &v) && v >= 1;
      *tick_ms = (uint32_t)v;
    } else if (strcmp(key, "clock") == 0) {
      ok = strcmp(val, "timer") == 0 || strcmp(val, "manual") == 0;
      *manual = strcmp(val, "manual") == 0;
    } else if (strcmp(key, "vanish") == 0) {
      char* at = strchr(val, '@');
      uint64_t ifindex = 0, ms = 0;
      if (at != NULL) {
        *at = '\0';
        ok = parse_u64(val, REFSDK_MAX_PORTS, &ifindex) && ifindex >= 1 &&
             parse_u64(at + 1, UINT64_MAX / 1000000, &ms);
        *at = '@';
      } else {
        ok = 0;
      }
      c->vanish_port = (int32_t)ifindex - 1;
      c->vanish_after_ms = ms;
    } else {
      say(host, XFV_LOG_ERROR,
          "options: unknown key '%s' (known: ports, seed, speed, pps, ring, loss-ppm, pow2, "
          "vanish, tick-ms, clock)",
          key);
      return 0;
    }
    if (!ok) {
      say(host, XFV_LOG_ERROR, "options: %s=%s is not a valid value", key, val);
      return 0;
    }
  }
  if (c->vanish_port >= (int32_t)c->ports) {
    say(host, XFV_LOG_ERROR, "options: vanish: port %d does not exist (ports=%u)",
        c->vanish_port + 1, c->ports);
    return 0;
  }
  return 1;
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void ref_fini(void* vctx) {
  ref_ctx* ctx = vctx;
  if (ctx == NULL) return;
  if (ctx->sdk != NULL) {
    /* Sampling off before the SDK goes, as a real plugin leaves the ASIC clean. */
    for (uint32_t p = 0; p < ctx->ports; ++p) {
      refsdk_samplepacket_set(ctx->sdk, p, 0, 0, 0);
      refsdk_samplepacket_set(ctx->sdk, p, 1, 0, 0);
    }
    refsdk_close(ctx->sdk);
  }
  if (ctx->epfd >= 0) close(ctx->epfd);
  if (ctx->timerfd >= 0) close(ctx->timerfd);
  if (ctx->eventfd >= 0) close(ctx->eventfd);
  free(ctx);
}

static int ref_init(const char* options, const xfv_host* host, void** out) {
  if (options == NULL || host == NULL || out == NULL) return XFV_ERR_INVALID;
  refsdk_config c;
  memset(&c, 0, sizeof(c));
  c.ports = 8;
  c.seed = 1;
  c.speed_bps = 10000000000ull;
  c.pps = 2000;
  c.ring = 4096;
  c.pow2 = 1;
  c.vanish_port = -1;
  int manual = 0;
  uint32_t tick_ms = 10;
  if (!parse_options(options, host, &c, &manual, &tick_ms)) return XFV_ERR_INVALID;

  ref_ctx* ctx = calloc(1, sizeof(*ctx));
  if (ctx == NULL) return XFV_ERR_NO_MEMORY;
  ctx->host = *host;
  ctx->epfd = ctx->timerfd = ctx->eventfd = -1;
  ctx->manual = manual;
  ctx->tick_ms = tick_ms;
  ctx->sdk = refsdk_open(&c);
  if (ctx->sdk == NULL) {
    say(host, XFV_LOG_ERROR, "refsdk_open failed (ports=%u ring=%u)", c.ports, c.ring);
    ref_fini(ctx);
    return XFV_ERR_HARDWARE;
  }
  ctx->ports = refsdk_port_count(ctx->sdk);
  ctx->eventfd = eventfd(manual ? 1 : 0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (ctx->eventfd < 0) goto sys_error;
  if (!manual) {
    ctx->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (ctx->timerfd < 0 || ctx->epfd < 0) goto sys_error;
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    its.it_interval.tv_sec = tick_ms / 1000;
    its.it_interval.tv_nsec = (long)(tick_ms % 1000) * 1000000L;
    its.it_value = its.it_interval;
    if (timerfd_settime(ctx->timerfd, 0, &its, NULL) != 0) goto sys_error;
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->timerfd, &ev) != 0 ||
        epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->eventfd, &ev) != 0) {
      goto sys_error;
    }
  }
  refsdk_run(ctx->sdk, manual ? 0 : mono_ns()); /* the ASIC's clock starts now */
  say(host, XFV_LOG_INFO, "refsdk: %u ports, %u packets/s each, seed %llu, %s clock", c.ports,
      c.pps, (unsigned long long)c.seed, manual ? "manual" : "timer");
  *out = ctx;
  return XFV_OK;
sys_error:
  say(host, XFV_LOG_ERROR, "cannot make the sample fd: %s", strerror(errno));
  ref_fini(ctx);
  return XFV_ERR_HARDWARE;
}

static int to_xfv(int sdk_rc) {
  switch (sdk_rc) {
    case REFSDK_OK:
      return XFV_OK;
    case REFSDK_E_PARAM:
      return XFV_ERR_INVALID;
    case REFSDK_E_NOT_FOUND:
      return XFV_ERR_NOT_FOUND;
    case REFSDK_E_NO_MEMORY:
      return XFV_ERR_NO_MEMORY;
    default:
      return XFV_ERR_HARDWARE;
  }
}

/* ifindex = port + 1. */
static int port_of(const ref_ctx* ctx, uint32_t ifindex, uint32_t* port) {
  if (ifindex == 0 || ifindex > ctx->ports) return 0;
  *port = ifindex - 1;
  return 1;
}

static void fill_port(xfv_port* out, uint32_t port, const refsdk_port_attr* a) {
  memset(out, 0, sizeof(*out));
  out->ifindex = port + 1;
  snprintf(out->name, sizeof(out->name), "swp%u", port + 1);
  out->if_type = 6;
  if (a != NULL) {
    out->speed_bps = a->speed_bps;
    out->duplex = 1;
    out->admin_up = a->admin_up ? 1 : 0;
    out->oper_up = a->oper_up ? 1 : 0;
    memcpy(out->mac, a->mac, 6);
  }
}

static int ref_list_ports(void* vctx, xfv_port* ports, uint32_t capacity, uint32_t* count) {
  ref_ctx* ctx = vctx;
  if (count == NULL || (ports == NULL && capacity > 0)) return XFV_ERR_INVALID;
  uint32_t n = 0;
  for (uint32_t p = 0; p < ctx->ports; ++p) {
    refsdk_port_attr a;
    int rc = refsdk_port_get(ctx->sdk, p, &a);
    if (rc == REFSDK_E_NOT_FOUND) continue;
    if (rc != REFSDK_OK) {
      say(&ctx->host, XFV_LOG_ERROR, "refsdk_port_get(%u): error %d", p, rc);
      return to_xfv(rc);
    }
    if (n < capacity) fill_port(&ports[n], p, &a);
    ++n;
  }
  *count = n;
  return n > capacity ? XFV_ERR_BUFFER : XFV_OK;
}

static int ref_set_sampling_rate(void* vctx, uint32_t ifindex, uint32_t direction, uint32_t rate,
                                 uint32_t header_bytes, uint32_t* applied_rate) {
  ref_ctx* ctx = vctx;
  uint32_t port = 0;
  if (applied_rate == NULL || direction > XFV_EGRESS) return XFV_ERR_INVALID;
  if (!port_of(ctx, ifindex, &port)) return XFV_ERR_NOT_FOUND;
  int rc = refsdk_samplepacket_set(ctx->sdk, port, (int)direction, rate, header_bytes);
  if (rc != REFSDK_OK) {
    say(&ctx->host, XFV_LOG_ERROR, "refsdk_samplepacket_set(port %u, %s, 1-in-%u): error %d", port,
        direction == XFV_INGRESS ? "ingress" : "egress", rate, rc);
    return to_xfv(rc);
  }
  /* What the hardware really does, read back: it may have rounded the rate. */
  rc = refsdk_samplepacket_get(ctx->sdk, port, (int)direction, applied_rate);
  if (rc != REFSDK_OK) {
    say(&ctx->host, XFV_LOG_ERROR, "refsdk_samplepacket_get(port %u): error %d", port, rc);
    return to_xfv(rc);
  }
  return XFV_OK;
}

static int ref_get_sampling_rate(void* vctx, uint32_t ifindex, uint32_t direction, uint32_t* rate) {
  ref_ctx* ctx = vctx;
  uint32_t port = 0;
  if (rate == NULL || direction > XFV_EGRESS) return XFV_ERR_INVALID;
  if (!port_of(ctx, ifindex, &port)) return XFV_ERR_NOT_FOUND;
  return to_xfv(refsdk_samplepacket_get(ctx->sdk, port, (int)direction, rate));
}

static int ref_read_counters(void* vctx, uint32_t ifindex, xfv_counters* c) {
  ref_ctx* ctx = vctx;
  uint32_t port = 0;
  if (c == NULL) return XFV_ERR_INVALID;
  if (!port_of(ctx, ifindex, &port)) return XFV_ERR_NOT_FOUND;
  uint64_t s[REFSDK_STAT_COUNT];
  int rc = refsdk_port_stats_get(ctx->sdk, port, s);
  if (rc != REFSDK_OK) return to_xfv(rc);
  c->in_octets = s[REFSDK_STAT_IF_IN_OCTETS];
  c->in_ucast_pkts = s[REFSDK_STAT_IF_IN_UCAST_PKTS];
  c->in_multicast_pkts = s[REFSDK_STAT_IF_IN_MULTICAST_PKTS];
  c->in_broadcast_pkts = s[REFSDK_STAT_IF_IN_BROADCAST_PKTS];
  c->in_discards = s[REFSDK_STAT_IF_IN_DISCARDS];
  c->in_errors = s[REFSDK_STAT_IF_IN_ERRORS];
  c->out_octets = s[REFSDK_STAT_IF_OUT_OCTETS];
  c->out_ucast_pkts = s[REFSDK_STAT_IF_OUT_UCAST_PKTS];
  c->out_multicast_pkts = s[REFSDK_STAT_IF_OUT_MULTICAST_PKTS];
  c->out_broadcast_pkts = s[REFSDK_STAT_IF_OUT_BROADCAST_PKTS];
  c->out_discards = s[REFSDK_STAT_IF_OUT_DISCARDS];
  c->out_errors = s[REFSDK_STAT_IF_OUT_ERRORS];
  return XFV_OK; /* in_unknown_protos and dot3: not counted by this ASIC, left unknown */
}

static int ref_sample_fd(void* vctx) {
  ref_ctx* ctx = vctx;
  return ctx->manual ? ctx->eventfd : ctx->epfd;
}

static int ref_poll(void* vctx, uint32_t budget, xfv_sample_cb on_sample,
                    xfv_port_event_cb on_port_event, void* arg, uint32_t* delivered) {
  ref_ctx* ctx = vctx;
  if (on_sample == NULL || on_port_event == NULL || delivered == NULL) return XFV_ERR_INVALID;
  *delivered = 0;
  if (ctx->manual) {
    ctx->manual_now_ns += (uint64_t)ctx->tick_ms * 1000000ull;
    refsdk_run(ctx->sdk, ctx->manual_now_ns);
  } else {
    uint64_t ticks;
    if (read(ctx->timerfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN) {
      say(&ctx->host, XFV_LOG_WARNING, "timerfd: %s", strerror(errno));
    }
    refsdk_run(ctx->sdk, mono_ns());
  }
  refsdk_event ev;
  while (refsdk_event_recv(ctx->sdk, &ev) == 1) {
    xfv_port p;
    refsdk_port_attr a;
    const int have = ev.present && refsdk_port_get(ctx->sdk, ev.port, &a) == REFSDK_OK;
    fill_port(&p, ev.port, have ? &a : NULL);
    on_port_event(arg, ev.present ? XFV_PORT_ADDED : XFV_PORT_REMOVED, &p);
  }
  refsdk_sample s;
  while (*delivered < budget && refsdk_sample_recv(ctx->sdk, &s) == 1) {
    xfv_sample x;
    memset(&x, 0, sizeof(x));
    x.input_ifindex = s.in_port + 1;
    x.output_ifindex = s.out_port + 1;
    x.direction = s.dir == 1 ? XFV_EGRESS : XFV_INGRESS;
    x.sampling_rate = s.rate;
    x.sequence = s.seq;
    x.frame_length = s.frame_length;
    x.stripped = 4; /* the FCS */
    x.header_length = s.header_length;
    x.header = s.header;
    x.timestamp_ns = ctx->manual ? 0 : s.time_ns;
    on_sample(arg, &x);
    ++*delivered;
  }
  if (!ctx->manual) {
    /* Budget used up: samples may still wait, so stay readable; otherwise clear. */
    if (*delivered == budget && budget > 0) {
      uint64_t one = 1;
      if (write(ctx->eventfd, &one, sizeof(one)) < 0 && errno != EAGAIN) return XFV_ERR_HARDWARE;
    } else {
      uint64_t v;
      if (read(ctx->eventfd, &v, sizeof(v)) < 0 && errno != EAGAIN) return XFV_ERR_HARDWARE;
    }
  }
  return XFV_OK;
}

static const xfv_plugin kRefPlugin = {
    XFV_ABI_MAJOR,
    XFV_ABI_MINOR,
    (uint32_t)sizeof(xfv_plugin),
    "xflowd-ref (refsdk simulated ASIC)",
    "1.0",
    ref_init,
    ref_fini,
    ref_list_ports,
    ref_set_sampling_rate,
    ref_get_sampling_rate,
    ref_read_counters,
    ref_sample_fd,
    ref_poll,
};

REF_EXPORT const xfv_plugin* xflowd_vendor_plugin(void) { return &kRefPlugin; }
