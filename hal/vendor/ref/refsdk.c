/* refsdk: a made-up switch ASIC in software (see refsdk.h). Deterministic: every draw comes
 * from one splitmix64 stream seeded from the config. */
#include "refsdk.h"

#include <stdlib.h>
#include <string.h>

typedef struct session {
  uint32_t rate; /* 0: off */
  uint32_t trunc;
  uint32_t skip; /* packets until the next sample */
  uint32_t seq;
} session;

typedef struct port_state {
  int present;
  uint64_t stats[REFSDK_STAT_COUNT];
  session sess[2];
  uint64_t generated; /* packets made since the start */
} port_state;

struct refsdk {
  refsdk_config cfg;
  uint64_t rng;
  int started;
  uint64_t start_ns;
  uint64_t now_ns;
  port_state port[REFSDK_MAX_PORTS];
  refsdk_sample* ring;
  uint32_t ring_head, ring_count;
  refsdk_event events[2 * REFSDK_MAX_PORTS];
  uint32_t event_head, event_count;
};

static uint64_t next_u64(refsdk_t* s) {
  uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static uint32_t draw(refsdk_t* s, uint32_t lo, uint32_t hi) {
  return lo + (uint32_t)(next_u64(s) % ((uint64_t)hi - lo + 1));
}

refsdk_t* refsdk_open(const refsdk_config* config) {
  if (config == NULL || config->ports == 0 || config->ports > REFSDK_MAX_PORTS ||
      config->ring == 0 || config->loss_ppm > 1000000) {
    return NULL;
  }
  refsdk_t* s = calloc(1, sizeof(*s));
  if (s == NULL) return NULL;
  s->ring = calloc(config->ring, sizeof(refsdk_sample));
  if (s->ring == NULL) {
    free(s);
    return NULL;
  }
  s->cfg = *config;
  s->rng = config->seed;
  for (uint32_t i = 0; i < config->ports; ++i) s->port[i].present = 1;
  return s;
}

void refsdk_close(refsdk_t* sdk) {
  if (sdk == NULL) return;
  free(sdk->ring);
  free(sdk);
}

uint32_t refsdk_port_count(refsdk_t* sdk) { return sdk->cfg.ports; }

static port_state* find(refsdk_t* sdk, uint32_t port) {
  if (port >= sdk->cfg.ports || !sdk->port[port].present) return NULL;
  return &sdk->port[port];
}

int refsdk_port_get(refsdk_t* sdk, uint32_t port, refsdk_port_attr* attr) {
  if (attr == NULL) return REFSDK_E_PARAM;
  if (find(sdk, port) == NULL) return REFSDK_E_NOT_FOUND;
  memset(attr, 0, sizeof(*attr));
  attr->speed_bps = sdk->cfg.speed_bps;
  const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, (uint8_t)(port >> 8), (uint8_t)port};
  memcpy(attr->mac, mac, 6);
  attr->admin_up = 1;
  attr->oper_up = 1;
  return REFSDK_OK;
}

static uint32_t round_rate(const refsdk_t* sdk, uint32_t rate) {
  if (!sdk->cfg.pow2 || rate <= 1) return rate;
  uint32_t p = 1;
  while (p < rate && p < 0x80000000u) p <<= 1;
  return p;
}

int refsdk_samplepacket_set(refsdk_t* sdk, uint32_t port, int dir, uint32_t rate, uint32_t trunc) {
  if (dir != 0 && dir != 1) return REFSDK_E_PARAM;
  if (trunc > REFSDK_HEADER_MAX) trunc = REFSDK_HEADER_MAX;
  port_state* p = find(sdk, port);
  if (p == NULL) return REFSDK_E_NOT_FOUND;
  session* ss = &p->sess[dir];
  ss->rate = round_rate(sdk, rate);
  ss->trunc = trunc;
  ss->skip = 0;
  return REFSDK_OK;
}

int refsdk_samplepacket_get(refsdk_t* sdk, uint32_t port, int dir, uint32_t* rate) {
  if ((dir != 0 && dir != 1) || rate == NULL) return REFSDK_E_PARAM;
  port_state* p = find(sdk, port);
  if (p == NULL) return REFSDK_E_NOT_FOUND;
  *rate = p->sess[dir].rate;
  return REFSDK_OK;
}

int refsdk_port_stats_get(refsdk_t* sdk, uint32_t port, uint64_t stats[REFSDK_STAT_COUNT]) {
  port_state* p = find(sdk, port);
  if (p == NULL) return REFSDK_E_NOT_FOUND;
  memcpy(stats, p->stats, sizeof(p->stats));
  return REFSDK_OK;
}

static void put16(uint8_t* b, uint16_t v) {
  b[0] = (uint8_t)(v >> 8);
  b[1] = (uint8_t)v;
}

/* An Ethernet + IPv4 + TCP/UDP frame of `len` bytes on the wire (FCS included); the first
 * `keep` bytes go to `out`. */
static uint32_t build_header(uint8_t* out, uint32_t keep, uint32_t in, uint32_t outp, uint32_t len,
                             uint64_t flow) {
  uint8_t f[64];
  memset(f, 0, sizeof(f));
  const uint8_t dst[6] = {0x02, 0x00, 0x00, 0x01, (uint8_t)(outp >> 8), (uint8_t)outp};
  const uint8_t src[6] = {0x02, 0x00, 0x00, 0x02, (uint8_t)(in >> 8), (uint8_t)in};
  memcpy(f, dst, 6);
  memcpy(f + 6, src, 6);
  put16(f + 12, 0x0800);
  uint8_t* ip = f + 14;
  const int tcp = (flow & 1) != 0;
  ip[0] = 0x45;
  put16(ip + 2, (uint16_t)(len - 4 - 14));
  put16(ip + 4, (uint16_t)(flow >> 8));
  ip[8] = 64;
  ip[9] = tcp ? 6 : 17;
  ip[12] = 10;
  ip[13] = 0;
  ip[14] = (uint8_t)in;
  ip[15] = (uint8_t)(1 + ((flow >> 16) % 200));
  ip[16] = 10;
  ip[17] = 1;
  ip[18] = (uint8_t)outp;
  ip[19] = (uint8_t)(1 + ((flow >> 24) % 200));
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  put16(ip + 10, (uint16_t)~sum);
  uint8_t* l4 = ip + 20;
  put16(l4, (uint16_t)(1024 + ((flow >> 32) % 60000)));
  put16(l4 + 2, tcp ? 443 : 53);
  if (tcp) {
    l4[12] = 0x50;
    l4[13] = 0x10; /* ACK */
    put16(l4 + 14, 65535);
  } else {
    put16(l4 + 4, (uint16_t)(len - 4 - 14 - 20));
  }
  const uint32_t frame = len - 4;
  uint32_t n = keep < frame ? keep : frame;
  const uint32_t built = tcp ? 14 + 20 + 20 : 14 + 20 + 8;
  memset(out, 0, n);
  memcpy(out, f, n < built ? n : built);
  return n;
}

static void take_sample(refsdk_t* s, uint32_t port, int dir, uint32_t in, uint32_t out,
                        uint32_t len, uint64_t flow, uint64_t t_ns) {
  session* ss = &s->port[port].sess[dir];
  if (ss->rate == 0) return;
  if (ss->skip == 0) ss->skip = draw(s, 1, 2 * ss->rate - 1);
  if (--ss->skip > 0) return;
  ss->skip = draw(s, 1, 2 * ss->rate - 1);
  ++ss->seq;
  const int lost = s->cfg.loss_ppm > 0 && draw(s, 1, 1000000) <= s->cfg.loss_ppm;
  if (lost || s->ring_count == s->cfg.ring) return; /* the number is used: a gap */
  refsdk_sample* smp = &s->ring[(s->ring_head + s->ring_count) % s->cfg.ring];
  ++s->ring_count;
  smp->port = port;
  smp->dir = dir;
  smp->in_port = in;
  smp->out_port = out;
  smp->rate = ss->rate;
  smp->seq = ss->seq;
  smp->frame_length = len;
  smp->time_ns = t_ns;
  smp->header_length = build_header(smp->header, ss->trunc, in, out, len, flow);
}

static void push_event(refsdk_t* s, uint32_t port, int present) {
  if (s->event_count == sizeof(s->events) / sizeof(s->events[0])) return;
  refsdk_event* e =
      &s->events[(s->event_head + s->event_count) % (sizeof(s->events) / sizeof(s->events[0]))];
  ++s->event_count;
  e->port = port;
  e->present = present;
}

int refsdk_run(refsdk_t* sdk, uint64_t now_ns) {
  if (!sdk->started) {
    sdk->started = 1;
    sdk->start_ns = now_ns;
    sdk->now_ns = now_ns;
    return REFSDK_OK;
  }
  if (now_ns <= sdk->now_ns) return REFSDK_OK;
  sdk->now_ns = now_ns;
  const uint64_t elapsed = now_ns - sdk->start_ns;
  const refsdk_config* c = &sdk->cfg;
  if (c->vanish_port >= 0 && (uint32_t)c->vanish_port < c->ports &&
      sdk->port[c->vanish_port].present && elapsed >= c->vanish_after_ms * 1000000ull) {
    sdk->port[c->vanish_port].present = 0;
    push_event(sdk, (uint32_t)c->vanish_port, 0);
  }
  const uint64_t due = (uint64_t)((double)elapsed * c->pps / 1e9);
  for (uint32_t in = 0; in < c->ports; ++in) {
    port_state* ip = &sdk->port[in];
    if (!ip->present) {
      ip->generated = due;
      continue;
    }
    for (; ip->generated < due; ++ip->generated) {
      const uint64_t flow = next_u64(sdk);
      const uint32_t len = 64 + (uint32_t)((flow >> 40) % (1518 - 64 + 1));
      const uint32_t out =
          c->ports > 1 ? (in + 1 + (uint32_t)(flow % (c->ports - 1))) % c->ports : in;
      ip->stats[REFSDK_STAT_IF_IN_OCTETS] += len;
      ip->stats[REFSDK_STAT_IF_IN_UCAST_PKTS] += 1;
      take_sample(sdk, in, 0, in, out, len, flow, now_ns);
      port_state* op = &sdk->port[out];
      if (!op->present) {
        ip->stats[REFSDK_STAT_IF_IN_DISCARDS] += 1;
        continue;
      }
      op->stats[REFSDK_STAT_IF_OUT_OCTETS] += len;
      op->stats[REFSDK_STAT_IF_OUT_UCAST_PKTS] += 1;
      take_sample(sdk, out, 1, in, out, len, flow, now_ns);
    }
  }
  return REFSDK_OK;
}

int refsdk_sample_recv(refsdk_t* sdk, refsdk_sample* out) {
  if (sdk->ring_count == 0) return 0;
  *out = sdk->ring[sdk->ring_head];
  sdk->ring_head = (sdk->ring_head + 1) % sdk->cfg.ring;
  --sdk->ring_count;
  return 1;
}

int refsdk_event_recv(refsdk_t* sdk, refsdk_event* out) {
  if (sdk->event_count == 0) return 0;
  *out = sdk->events[sdk->event_head];
  sdk->event_head = (sdk->event_head + 1) % (sizeof(sdk->events) / sizeof(sdk->events[0]));
  --sdk->event_count;
  return 1;
}
