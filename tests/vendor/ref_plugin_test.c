/*
 * The reference plugin (hal/vendor/ref/ref_plugin.c) over a mocked SDK: CMocka mocks stand in
 * for every refsdk_* call, so each test says what the "hardware" answers and checks what the
 * plugin makes of it: an SDK that fails to set a rate, one that rounds it, a sample sequence
 * with a gap, a port that vanishes, options the plugin refuses before touching the SDK.
 */
#include <stdio.h>
#include <string.h>

/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "hal/vendor/ref/refsdk.h"
#include "xflowd/vendor_abi.h"

const xfv_plugin* xflowd_vendor_plugin(void);

/* ---- the mocked SDK ---- */

/* Pointers go through uintptr_t: on 32-bit targets CMocka's values are 64-bit. */
#define will_return_ptr(function, p) will_return(function, (uintptr_t)(p))

static refsdk_t* const kSdk = (refsdk_t*)(uintptr_t)0x5d4;

refsdk_t* refsdk_open(const refsdk_config* config) {
  check_expected(config->ports);
  return mock_ptr_type(refsdk_t*);
}
void refsdk_close(refsdk_t* sdk) { assert_ptr_equal(sdk, kSdk); }
uint32_t refsdk_port_count(refsdk_t* sdk) {
  (void)sdk;
  return mock_type(uint32_t);
}
int refsdk_port_get(refsdk_t* sdk, uint32_t port, refsdk_port_attr* attr) {
  (void)sdk;
  const int rc = mock_type(int);
  if (rc == REFSDK_OK) {
    memset(attr, 0, sizeof(*attr));
    attr->speed_bps = 25000000000ull;
    attr->mac[5] = (uint8_t)port;
    attr->admin_up = attr->oper_up = 1;
  }
  return rc;
}
int refsdk_samplepacket_set(refsdk_t* sdk, uint32_t port, int dir, uint32_t rate, uint32_t trunc) {
  (void)sdk;
  (void)trunc;
  check_expected(port);
  check_expected(dir);
  check_expected(rate);
  return mock_type(int);
}
int refsdk_samplepacket_get(refsdk_t* sdk, uint32_t port, int dir, uint32_t* rate) {
  (void)sdk;
  (void)port;
  (void)dir;
  *rate = mock_type(uint32_t);
  return mock_type(int);
}
int refsdk_port_stats_get(refsdk_t* sdk, uint32_t port, uint64_t stats[REFSDK_STAT_COUNT]) {
  (void)sdk;
  check_expected(port);
  const int rc = mock_type(int);
  if (rc == REFSDK_OK) {
    for (int i = 0; i < REFSDK_STAT_COUNT; ++i) stats[i] = 1000u + (uint64_t)i;
  }
  return rc;
}
int refsdk_run(refsdk_t* sdk, uint64_t now_ns) {
  (void)sdk;
  (void)now_ns;
  return REFSDK_OK;
}
int refsdk_sample_recv(refsdk_t* sdk, refsdk_sample* out) {
  (void)sdk;
  const refsdk_sample* s = mock_ptr_type(const refsdk_sample*);
  if (s == NULL) return 0;
  *out = *s;
  return 1;
}
int refsdk_event_recv(refsdk_t* sdk, refsdk_event* out) {
  (void)sdk;
  const refsdk_event* e = mock_ptr_type(const refsdk_event*);
  if (e == NULL) return 0;
  *out = *e;
  return 1;
}

/* ---- the host side ---- */

typedef struct host_log {
  int errors;
  char last[256];
} host_log;

static void on_log(void* arg, int level, const char* message) {
  host_log* l = arg;
  if (level == XFV_LOG_ERROR) ++l->errors;
  snprintf(l->last, sizeof(l->last), "%s", message);
}

typedef struct fixture {
  const xfv_plugin* t;
  void* ctx;
  host_log log;
  xfv_host host;
} fixture;

/* init with two ports on a manual clock; fini turns every session off. */
static int setup(void** state) {
  static fixture f;
  memset(&f, 0, sizeof(f));
  f.t = xflowd_vendor_plugin();
  f.host.struct_size = sizeof(f.host);
  f.host.arg = &f.log;
  f.host.log = on_log;
  expect_value(refsdk_open, config->ports, 2);
  will_return_ptr(refsdk_open, kSdk);
  will_return(refsdk_port_count, 2);
  if (f.t->init("ports=2,clock=manual", &f.host, &f.ctx) != XFV_OK) return -1;
  *state = &f;
  return 0;
}

static int teardown(void** state) {
  fixture* f = *state;
  /* fini: ingress and egress off on both ports. */
  for (uint32_t port = 0; port < 2; ++port) {
    for (int dir = 0; dir < 2; ++dir) {
      expect_value(refsdk_samplepacket_set, port, port);
      expect_value(refsdk_samplepacket_set, dir, dir);
      expect_value(refsdk_samplepacket_set, rate, 0);
      will_return(refsdk_samplepacket_set, REFSDK_OK);
    }
  }
  f->t->fini(f->ctx);
  return 0;
}

static void table_is_abi_1(void** state) {
  (void)state;
  const xfv_plugin* t = xflowd_vendor_plugin();
  assert_int_equal(t->abi_major, XFV_ABI_MAJOR);
  assert_int_equal(t->abi_minor, XFV_ABI_MINOR);
  assert_int_equal(t->struct_size, sizeof(xfv_plugin));
}

static void bad_options_never_reach_the_sdk(void** state) {
  (void)state;
  host_log log;
  memset(&log, 0, sizeof(log));
  xfv_host host = {sizeof(host), &log, on_log};
  void* ctx = NULL;
  /* No refsdk_open expectation: a call would fail the test. */
  assert_int_equal(xflowd_vendor_plugin()->init("ports=0", &host, &ctx), XFV_ERR_INVALID);
  assert_int_equal(log.errors, 1);
  assert_non_null(strstr(log.last, "ports=0"));
  assert_int_equal(xflowd_vendor_plugin()->init("vanish=9@100,ports=8", &host, &ctx),
                   XFV_ERR_INVALID);
  assert_int_equal(xflowd_vendor_plugin()->init("colour=blue", &host, &ctx), XFV_ERR_INVALID);
  assert_non_null(strstr(log.last, "unknown key 'colour'"));
}

static void sdk_that_cannot_open_fails_init(void** state) {
  (void)state;
  host_log log;
  memset(&log, 0, sizeof(log));
  xfv_host host = {sizeof(host), &log, on_log};
  void* ctx = NULL;
  expect_value(refsdk_open, config->ports, 8);
  will_return_ptr(refsdk_open, NULL);
  assert_int_equal(xflowd_vendor_plugin()->init("", &host, &ctx), XFV_ERR_HARDWARE);
  assert_null(ctx);
  assert_non_null(strstr(log.last, "refsdk_open failed"));
}

static void sdk_failing_to_set_a_rate_is_an_error(void** state) {
  fixture* f = *state;
  expect_value(refsdk_samplepacket_set, port, 1);
  expect_value(refsdk_samplepacket_set, dir, 0);
  expect_value(refsdk_samplepacket_set, rate, 512);
  will_return(refsdk_samplepacket_set, REFSDK_E_FAIL);
  uint32_t applied = 77;
  assert_int_equal(f->t->set_sampling_rate(f->ctx, 2, XFV_INGRESS, 512, 128, &applied),
                   XFV_ERR_HARDWARE);
  assert_int_equal(applied, 77); /* untouched: nothing was applied */
  assert_int_equal(f->log.errors, 1);
  assert_non_null(strstr(f->log.last, "refsdk_samplepacket_set(port 1, ingress, 1-in-512)"));
}

static void applied_rate_is_read_back(void** state) {
  fixture* f = *state;
  expect_value(refsdk_samplepacket_set, port, 0);
  expect_value(refsdk_samplepacket_set, dir, 1);
  expect_value(refsdk_samplepacket_set, rate, 1000);
  will_return(refsdk_samplepacket_set, REFSDK_OK);
  will_return(refsdk_samplepacket_get, 1024); /* the ASIC rounded */
  will_return(refsdk_samplepacket_get, REFSDK_OK);
  uint32_t applied = 0;
  assert_int_equal(f->t->set_sampling_rate(f->ctx, 1, XFV_EGRESS, 1000, 128, &applied), XFV_OK);
  assert_int_equal(applied, 1024);
}

static void unknown_ifindex_is_not_found_without_the_sdk(void** state) {
  fixture* f = *state;
  uint32_t applied = 0;
  xfv_counters c;
  assert_int_equal(f->t->set_sampling_rate(f->ctx, 0, XFV_INGRESS, 10, 128, &applied),
                   XFV_ERR_NOT_FOUND);
  assert_int_equal(f->t->set_sampling_rate(f->ctx, 3, XFV_INGRESS, 10, 128, &applied),
                   XFV_ERR_NOT_FOUND);
  assert_int_equal(f->t->read_counters(f->ctx, 3, &c), XFV_ERR_NOT_FOUND);
  assert_int_equal(f->t->set_sampling_rate(f->ctx, 1, 7, 10, 128, &applied), XFV_ERR_INVALID);
}

typedef struct seen {
  xfv_sample samples[8];
  uint32_t n;
  uint32_t events[4];
  uint32_t event_ifindex[4];
  uint32_t n_events;
} seen;

static void on_sample(void* arg, const xfv_sample* s) {
  seen* w = arg;
  assert_true(w->n < 8);
  w->samples[w->n++] = *s;
}

static void on_event(void* arg, uint32_t event, const xfv_port* p) {
  seen* w = arg;
  assert_true(w->n_events < 4);
  w->events[w->n_events] = event;
  w->event_ifindex[w->n_events++] = p->ifindex;
}

static refsdk_sample make_sample(uint32_t port, uint32_t seq) {
  refsdk_sample s;
  memset(&s, 0, sizeof(s));
  s.port = port;
  s.in_port = port;
  s.out_port = 1 - port;
  s.rate = 256;
  s.seq = seq;
  s.frame_length = 1000;
  s.header_length = 64;
  s.header[12] = 0x08;
  return s;
}

static void sequence_gaps_pass_through(void** state) {
  fixture* f = *state;
  /* The SDK numbered 5, 6, then lost 7 and 8: the plugin must not renumber. */
  static refsdk_sample s[3];
  s[0] = make_sample(0, 5);
  s[1] = make_sample(0, 6);
  s[2] = make_sample(0, 9);
  will_return_ptr(refsdk_event_recv, NULL);
  will_return_ptr(refsdk_sample_recv, &s[0]);
  will_return_ptr(refsdk_sample_recv, &s[1]);
  will_return_ptr(refsdk_sample_recv, &s[2]);
  will_return_ptr(refsdk_sample_recv, NULL);
  seen w;
  memset(&w, 0, sizeof(w));
  uint32_t delivered = 0;
  assert_int_equal(f->t->poll(f->ctx, 10, on_sample, on_event, &w, &delivered), XFV_OK);
  assert_int_equal(delivered, 3);
  assert_int_equal(w.n, 3);
  assert_int_equal(w.samples[0].sequence, 5);
  assert_int_equal(w.samples[1].sequence, 6);
  assert_int_equal(w.samples[2].sequence, 9);
  assert_int_equal(w.samples[2].input_ifindex, 1); /* port 0 is ifindex 1 */
  assert_int_equal(w.samples[2].output_ifindex, 2);
  assert_int_equal(w.samples[2].sampling_rate, 256);
  assert_int_equal(w.samples[2].frame_length, 1000);
  assert_int_equal(w.samples[2].stripped, 4);
  assert_int_equal(w.samples[2].header_length, 64);
  assert_int_equal(w.samples[2].header[12], 0x08);
  assert_int_equal(w.samples[2].timestamp_ns, 0); /* manual clock: xflowd stamps */
}

static void budget_is_respected(void** state) {
  fixture* f = *state;
  static refsdk_sample s[2];
  s[0] = make_sample(1, 1);
  s[1] = make_sample(1, 2);
  will_return_ptr(refsdk_event_recv, NULL);
  will_return_ptr(refsdk_sample_recv, &s[0]);
  seen w;
  memset(&w, 0, sizeof(w));
  uint32_t delivered = 0;
  assert_int_equal(f->t->poll(f->ctx, 1, on_sample, on_event, &w, &delivered), XFV_OK);
  assert_int_equal(delivered, 1); /* the second stays in the SDK for the next poll */
  will_return_ptr(refsdk_event_recv, NULL);
  will_return_ptr(refsdk_sample_recv, &s[1]);
  assert_int_equal(f->t->poll(f->ctx, 1, on_sample, on_event, &w, &delivered), XFV_OK);
  assert_int_equal(w.n, 2);
  assert_int_equal(w.samples[1].sequence, 2);
}

static void vanished_port_is_reported_and_gone(void** state) {
  fixture* f = *state;
  static const refsdk_event gone = {1, 0};
  will_return_ptr(refsdk_event_recv, &gone);
  will_return_ptr(refsdk_event_recv, NULL);
  will_return_ptr(refsdk_sample_recv, NULL);
  seen w;
  memset(&w, 0, sizeof(w));
  uint32_t delivered = 0;
  assert_int_equal(f->t->poll(f->ctx, 10, on_sample, on_event, &w, &delivered), XFV_OK);
  assert_int_equal(w.n_events, 1);
  assert_int_equal(w.events[0], XFV_PORT_REMOVED);
  assert_int_equal(w.event_ifindex[0], 2);
  /* Its counters: the SDK says not found, so does the plugin. */
  expect_value(refsdk_port_stats_get, port, 1);
  will_return(refsdk_port_stats_get, REFSDK_E_NOT_FOUND);
  xfv_counters c;
  assert_int_equal(f->t->read_counters(f->ctx, 2, &c), XFV_ERR_NOT_FOUND);
  /* The list leaves it out. */
  will_return(refsdk_port_get, REFSDK_OK);
  will_return(refsdk_port_get, REFSDK_E_NOT_FOUND);
  xfv_port ports[4];
  uint32_t count = 0;
  assert_int_equal(f->t->list_ports(f->ctx, ports, 4, &count), XFV_OK);
  assert_int_equal(count, 1);
  assert_int_equal(ports[0].ifindex, 1);
  assert_string_equal(ports[0].name, "swp1");
  assert_int_equal(ports[0].speed_bps, 25000000000ull);
}

static void counters_map_to_the_abi(void** state) {
  fixture* f = *state;
  expect_value(refsdk_port_stats_get, port, 0);
  will_return(refsdk_port_stats_get, REFSDK_OK);
  xfv_counters c;
  memset(&c, 0xFF, sizeof(c));
  assert_int_equal(f->t->read_counters(f->ctx, 1, &c), XFV_OK);
  assert_int_equal(c.in_octets, 1000 + REFSDK_STAT_IF_IN_OCTETS);
  assert_int_equal(c.in_discards, 1000 + REFSDK_STAT_IF_IN_DISCARDS);
  assert_int_equal(c.out_octets, 1000 + REFSDK_STAT_IF_OUT_OCTETS);
  assert_int_equal(c.out_errors, 1000 + REFSDK_STAT_IF_OUT_ERRORS);
  assert_true(c.in_unknown_protos == XFV_UNKNOWN64); /* the ASIC has none: left unknown */
  assert_true(c.dot3_fcs_errors == XFV_UNKNOWN32);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(table_is_abi_1),
      cmocka_unit_test(bad_options_never_reach_the_sdk),
      cmocka_unit_test(sdk_that_cannot_open_fails_init),
      cmocka_unit_test_setup_teardown(sdk_failing_to_set_a_rate_is_an_error, setup, teardown),
      cmocka_unit_test_setup_teardown(applied_rate_is_read_back, setup, teardown),
      cmocka_unit_test_setup_teardown(unknown_ifindex_is_not_found_without_the_sdk, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(sequence_gaps_pass_through, setup, teardown),
      cmocka_unit_test_setup_teardown(budget_is_respected, setup, teardown),
      cmocka_unit_test_setup_teardown(vanished_port_is_reported_and_gone, setup, teardown),
      cmocka_unit_test_setup_teardown(counters_map_to_the_abi, setup, teardown),
  };
  return cmocka_run_group_tests_name("ref_plugin", tests, NULL, NULL);
}
