/*
 * refsdk: the SDK of a made-up switch ASIC, simulated in software, for xflowd's reference
 * vendor plugin (ref_plugin.c). It stands where a real vendor's SDK stands (Broadcom SDK,
 * a SAI implementation): the plugin only calls these functions, so the plugin's tests
 * (tests/vendor/ref_plugin_test.c) replace them with CMocka mocks.
 *
 * The ASIC: `ports` front-panel ports (0-based), each receiving `pps` packets a second of a
 * deterministic seeded traffic mix (IPv4 TCP/UDP, 64..1518 bytes) that leaves by another
 * port; a samplepacket session per port and direction (1-in-N, N rounded up to a power of two
 * when pow2 is set, as some ASICs do) that numbers its samples; a ring of `ring` samples
 * towards the CPU (a full ring loses samples, the numbers go on: a gap); and a port that can
 * vanish at a given time (as a breakout or a line card going away).
 */
#ifndef XFLOWD_REFSDK_H
#define XFLOWD_REFSDK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define REFSDK_OK 0
#define REFSDK_E_PARAM -1
#define REFSDK_E_NOT_FOUND -2
#define REFSDK_E_FAIL -3
#define REFSDK_E_NO_MEMORY -4

#define REFSDK_MAX_PORTS 256
#define REFSDK_HEADER_MAX 256

typedef struct refsdk_config {
  uint32_t ports;      /* 1..REFSDK_MAX_PORTS */
  uint64_t seed;       /* traffic and sampling draws */
  uint64_t speed_bps;  /* every port's speed */
  uint32_t pps;        /* packets a second into each port */
  uint32_t ring;       /* samples the CPU ring holds, >= 1 */
  uint32_t loss_ppm;   /* samples lost on the way to the CPU, per million (a gap each) */
  int pow2;            /* round sampling rates up to a power of two */
  int32_t vanish_port; /* this port (0-based) goes away at vanish_after_ms; -1: none */
  uint64_t vanish_after_ms;
} refsdk_config;

typedef struct refsdk_port_attr {
  uint64_t speed_bps;
  uint8_t mac[6];
  int admin_up;
  int oper_up;
} refsdk_port_attr;

/* SAI-like port statistic ids. */
enum refsdk_stat {
  REFSDK_STAT_IF_IN_OCTETS = 0,
  REFSDK_STAT_IF_IN_UCAST_PKTS,
  REFSDK_STAT_IF_IN_MULTICAST_PKTS,
  REFSDK_STAT_IF_IN_BROADCAST_PKTS,
  REFSDK_STAT_IF_IN_DISCARDS,
  REFSDK_STAT_IF_IN_ERRORS,
  REFSDK_STAT_IF_OUT_OCTETS,
  REFSDK_STAT_IF_OUT_UCAST_PKTS,
  REFSDK_STAT_IF_OUT_MULTICAST_PKTS,
  REFSDK_STAT_IF_OUT_BROADCAST_PKTS,
  REFSDK_STAT_IF_OUT_DISCARDS,
  REFSDK_STAT_IF_OUT_ERRORS,
  REFSDK_STAT_COUNT
};

typedef struct refsdk_sample {
  uint32_t port;          /* the session's port */
  int dir;                /* 0 ingress, 1 egress */
  uint32_t in_port;       /* 0-based */
  uint32_t out_port;      /* 0-based */
  uint32_t rate;          /* the session's rate when sampled */
  uint32_t seq;           /* the session's sample number */
  uint32_t frame_length;  /* FCS included */
  uint32_t header_length; /* FCS left out */
  uint64_t time_ns;       /* the ASIC's time */
  uint8_t header[REFSDK_HEADER_MAX];
} refsdk_sample;

typedef struct refsdk_event {
  uint32_t port;
  int present; /* 0: the port went away */
} refsdk_event;

typedef struct refsdk refsdk_t;

/* NULL on bad config or no memory. */
refsdk_t* refsdk_open(const refsdk_config* config);
void refsdk_close(refsdk_t* sdk);
uint32_t refsdk_port_count(refsdk_t* sdk);
int refsdk_port_get(refsdk_t* sdk, uint32_t port, refsdk_port_attr* attr);
/* rate 0: session off. trunc: header bytes kept. */
int refsdk_samplepacket_set(refsdk_t* sdk, uint32_t port, int dir, uint32_t rate, uint32_t trunc);
int refsdk_samplepacket_get(refsdk_t* sdk, uint32_t port, int dir, uint32_t* rate);
int refsdk_port_stats_get(refsdk_t* sdk, uint32_t port, uint64_t stats[REFSDK_STAT_COUNT]);
/* Runs the ASIC up to time now_ns (its clock starts at the first call). */
int refsdk_run(refsdk_t* sdk, uint64_t now_ns);
/* 1 and *out filled if a sample waits, 0 if none. */
int refsdk_sample_recv(refsdk_t* sdk, refsdk_sample* out);
/* 1 and *out filled if a port event waits, 0 if none. */
int refsdk_event_recv(refsdk_t* sdk, refsdk_event* out);

#ifdef __cplusplus
}
#endif

#endif /* XFLOWD_REFSDK_H */
