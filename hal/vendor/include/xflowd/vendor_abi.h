/*
 * xflowd vendor plugin ABI: what a switch vendor implements, in a shared object, so that
 * xflowd samples and polls an ASIC whose SDK is not a Linux driver (docs/porting.md,
 * "Vendor ASIC plugins").
 *
 * C99, no dependencies beyond <stdint.h>. The concepts follow SAI: a per-port sampling
 * session (SAI samplepacket: 1-in-N per port and direction, the rate the hardware applied read
 * back), port statistics (SAI port stats: 64-bit counters), ports with their attributes and
 * port state changes.
 *
 * The plugin exports one symbol, XFV_ENTRY_SYMBOL, a function returning its table
 * (xfv_plugin). xflowd refuses a table whose abi_major differs from its own, or whose
 * struct_size is smaller than the table of that major's first minor (a plugin may be newer,
 * with a larger table: xflowd uses only what it knows). Within a major version, new members
 * are only ever appended to xfv_plugin, and the data structures below do not change.
 *
 * Threading: xflowd calls every function from one thread (its event loop), never two at once.
 * Callbacks (samples, port events, log lines) are only called from inside the call that
 * received them, on that thread. A plugin with threads of its own hands their work over to
 * poll() itself (a queue and an eventfd, say).
 *
 * Errors: functions return XFV_OK (0) or a negative xfv_status. Byte order: host order
 * everywhere, except header bytes (as they were on the wire).
 */
#ifndef XFLOWD_VENDOR_ABI_H
#define XFLOWD_VENDOR_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XFV_ABI_MAJOR 1
#define XFV_ABI_MINOR 0

/* The one symbol a plugin exports: `const xfv_plugin *xflowd_vendor_plugin(void);`. */
#define XFV_ENTRY_SYMBOL "xflowd_vendor_plugin"

typedef enum xfv_status {
  XFV_OK = 0,
  XFV_ERR_INVALID = -1,     /* a bad argument (unknown option, rate 0 where not allowed) */
  XFV_ERR_NOT_FOUND = -2,   /* no such port (it may have vanished) */
  XFV_ERR_UNSUPPORTED = -3, /* the hardware cannot do this (egress sampling, a counter) */
  XFV_ERR_HARDWARE = -4,    /* the SDK failed */
  XFV_ERR_NO_MEMORY = -5,
  XFV_ERR_BUFFER = -6 /* list_ports: more ports than the array holds (count says how many) */
} xfv_status;

typedef enum xfv_direction { XFV_INGRESS = 0, XFV_EGRESS = 1 } xfv_direction;

typedef enum xfv_port_event {
  XFV_PORT_ADDED = 0,
  XFV_PORT_REMOVED = 1, /* the port is gone: its samples and counters end */
  XFV_PORT_CHANGED = 2  /* speed, status, name or MAC changed */
} xfv_port_event;

typedef enum xfv_log_level {
  XFV_LOG_ERROR = 0,
  XFV_LOG_WARNING = 1,
  XFV_LOG_INFO = 2,
  XFV_LOG_DEBUG = 3
} xfv_log_level;

#define XFV_NAME_MAX 64
#define XFV_UNKNOWN32 UINT32_MAX /* a counter the hardware does not have */
#define XFV_UNKNOWN64 UINT64_MAX

/* One front-panel port (SAI port attributes). */
typedef struct xfv_port {
  uint32_t ifindex;         /* >= 1, unique, stable while the port exists: the sFlow data source */
  char name[XFV_NAME_MAX];  /* NUL-terminated, e.g. "Ethernet0" */
  char alias[XFV_NAME_MAX]; /* ifAlias; may be empty */
  uint64_t speed_bps;       /* 0 = unknown */
  uint32_t if_type;         /* IANAifType; 6 = ethernetCsmacd */
  uint32_t duplex;          /* 0 unknown, 1 full, 2 half */
  uint8_t admin_up;         /* 0 or 1 */
  uint8_t oper_up;          /* 0 or 1 */
  uint8_t promiscuous;      /* 0 or 1 */
  uint8_t reserved;
  uint8_t mac[6];
  uint8_t reserved2[2];
} xfv_port;

/*
 * A port's counters (SAI port statistics), 64-bit, as the interface MIBs define them. xflowd
 * fills the whole struct with XFV_UNKNOWN* before read_counters: a plugin sets what it has.
 */
typedef struct xfv_counters {
  uint64_t in_octets;         /* SAI_PORT_STAT_IF_IN_OCTETS, FCS included */
  uint64_t in_ucast_pkts;     /* SAI_PORT_STAT_IF_IN_UCAST_PKTS */
  uint64_t in_multicast_pkts; /* SAI_PORT_STAT_IF_IN_MULTICAST_PKTS */
  uint64_t in_broadcast_pkts; /* SAI_PORT_STAT_IF_IN_BROADCAST_PKTS */
  uint64_t in_discards;       /* SAI_PORT_STAT_IF_IN_DISCARDS */
  uint64_t in_errors;         /* SAI_PORT_STAT_IF_IN_ERRORS */
  uint64_t in_unknown_protos; /* SAI_PORT_STAT_IF_IN_UNKNOWN_PROTOS */
  uint64_t out_octets;
  uint64_t out_ucast_pkts;
  uint64_t out_multicast_pkts;
  uint64_t out_broadcast_pkts;
  uint64_t out_discards;
  uint64_t out_errors;
  /* dot3Stats (EtherLike-MIB); has_ethernet = 1 if any of them is set. */
  uint32_t has_ethernet;
  uint32_t dot3_alignment_errors;
  uint32_t dot3_fcs_errors;
  uint32_t dot3_single_collision_frames;
  uint32_t dot3_multiple_collision_frames;
  uint32_t dot3_sqe_test_errors;
  uint32_t dot3_deferred_transmissions;
  uint32_t dot3_late_collisions;
  uint32_t dot3_excessive_collisions;
  uint32_t dot3_internal_mac_transmit_errors;
  uint32_t dot3_carrier_sense_errors;
  uint32_t dot3_frame_too_longs;
  uint32_t dot3_internal_mac_receive_errors;
  uint32_t dot3_symbol_errors;
} xfv_counters;

/*
 * One packet sample (SAI samplepacket trap). `sequence` numbers the samples of one sampling
 * session (port + direction): +1 for every sample the hardware took, including samples lost
 * before they reached xflowd, so a gap is a drop (xflowd counts it and grows the sample pool
 * by rate x (1 + gap)). It may start anywhere and wraps at 2^32.
 */
typedef struct xfv_sample {
  uint32_t input_ifindex;  /* 0 = unknown */
  uint32_t output_ifindex; /* 0 = unknown */
  uint32_t direction;      /* xfv_direction: whose session took it (ingress: input port's) */
  uint32_t sampling_rate;  /* 1-in-N this sample was taken at (what the hardware applied) */
  uint32_t sequence;
  uint32_t frame_length;  /* on the wire, FCS included */
  uint32_t stripped;      /* bytes of the frame not in header's tail: 4 if the FCS is left out */
  uint32_t header_length; /* bytes at `header` */
  const uint8_t* header;  /* the frame from its Ethernet header; valid during the callback */
  uint64_t timestamp_ns;  /* CLOCK_MONOTONIC when sampled; 0 = unknown (xflowd stamps it) */
  uint16_t vlan_tci;      /* an 802.1Q tag taken out of the bytes; only if vlan_valid */
  uint8_t vlan_valid;
  uint8_t reserved;
} xfv_sample;

typedef void (*xfv_sample_cb)(void* arg, const xfv_sample* sample);
typedef void (*xfv_port_event_cb)(void* arg, uint32_t event /* xfv_port_event */,
                                  const xfv_port* port);
typedef void (*xfv_log_cb)(void* arg, int level /* xfv_log_level */, const char* message);

/* What xflowd gives the plugin at init; valid until fini. */
typedef struct xfv_host {
  uint32_t struct_size; /* sizeof(xfv_host) as xflowd was built */
  void* arg;            /* passed back to log */
  xfv_log_cb log;       /* into xflowd's log; may be called from any plugin call */
} xfv_host;

typedef struct xfv_plugin {
  uint16_t abi_major;   /* XFV_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor;   /* XFV_ABI_MINOR the plugin was built with */
  uint32_t struct_size; /* sizeof(xfv_plugin) as the plugin was built */
  const char* name;     /* "Acme Tomahawk SDK 6.5": for logs */
  const char* version;  /* the plugin's own version */

  /* Opens the SDK. `options`: the configuration's source.vendor.options string, as given
     (may be empty, never NULL). A message for the user goes through host->log before an
     error return. *ctx is passed to every other call. */
  int (*init)(const char* options, const xfv_host* host, void** ctx);
  /* Stops sampling on every port and releases everything. */
  void (*fini)(void* ctx);

  /* Copies up to `capacity` ports to `ports` and sets *count to how many exist; XFV_ERR_BUFFER
     if that is more than capacity (xflowd asks again with a larger array). */
  int (*list_ports)(void* ctx, xfv_port* ports, uint32_t capacity, uint32_t* count);

  /* Sets 1-in-`rate` sampling on a port and direction (0 = off), headers truncated to
     `header_bytes`. *applied_rate = what the hardware really samples at (it may round, e.g. to
     a power of two); samples then carry that rate. */
  int (*set_sampling_rate)(void* ctx, uint32_t ifindex, uint32_t direction, uint32_t rate,
                           uint32_t header_bytes, uint32_t* applied_rate);
  /* Reads back the rate a port and direction samples at now (0 = off). */
  int (*get_sampling_rate)(void* ctx, uint32_t ifindex, uint32_t direction, uint32_t* rate);

  /* Reads a port's counters now; XFV_ERR_NOT_FOUND if the port is gone. */
  int (*read_counters)(void* ctx, uint32_t ifindex, xfv_counters* counters);

  /* A file descriptor that becomes readable (poll/epoll) when samples or port events wait. It
     stays the same from init to fini; the plugin owns it. */
  int (*sample_fd)(void* ctx);
  /* Hands up to `budget` waiting samples to on_sample, and every waiting port event to
     on_port_event, without blocking; *delivered = samples handed. Clears the fd's readiness
     when nothing is left. */
  int (*poll)(void* ctx, uint32_t budget, xfv_sample_cb on_sample, xfv_port_event_cb on_port_event,
              void* arg, uint32_t* delivered);
} xfv_plugin;

/* The size of the table of ABI 1.0: a table must be at least this large. */
#define XFV_PLUGIN_SIZE_1_0 ((uint32_t)sizeof(xfv_plugin))

typedef const xfv_plugin* (*xfv_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* XFLOWD_VENDOR_ABI_H */
