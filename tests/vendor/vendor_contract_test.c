/*
 * The vendor plugin ABI contract (xflowd/vendor_abi.h), in C with CMocka, against any plugin:
 *
 *   vendor_contract_test PLUGIN.so [OPTIONS]
 *
 * OPTIONS is the string xflowd would hand to init (source.vendor.options). The suite loads the
 * plugin as xflowd does (dlopen + the entry symbol) and checks what xflowd relies on: the ABI
 * version and table size, ports with unique non-zero ifindexes, a rate set then read back (and
 * off again), an unknown port refused with XFV_ERR_NOT_FOUND, counters that never go back,
 * a stable pollable fd, samples that respect the budget, carry the rate their session applies
 * and number each session's samples upwards (gaps are allowed: they are drops), and a clean
 * fini. XFLOWD_CONTRACT_IDLE=1: the hardware sees no traffic, so no samples are required.
 * docs/porting.md "Vendor ASIC plugins" says how a vendor runs it for their target.
 */
#include <dlfcn.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "xflowd/vendor_abi.h"

#define MAX_PORTS 1024
#define ROUNDS 300 /* polls (each up to 10 ms) to wait for samples */
#define BUDGET 64u
#define RATE 16u /* low, so a few polls bring samples */

static const char* g_path;
static const char* g_options = "";
static int g_idle;

typedef struct fixture {
  void* handle;
  const xfv_plugin* table;
  void* ctx;
  xfv_host host;
  int log_lines;
  int errors_logged;
  xfv_port ports[MAX_PORTS];
  uint32_t port_count;
} fixture;

static void on_log(void* arg, int level, const char* message) {
  fixture* f = arg;
  assert_non_null(message);
  ++f->log_lines;
  if (level == XFV_LOG_ERROR) ++f->errors_logged;
  fprintf(stderr, "  plugin log [%d]: %s\n", level, message);
}

static int load(void** state) {
  fixture* f = calloc(1, sizeof(*f));
  if (f == NULL) return -1;
  f->handle = dlopen(g_path, RTLD_NOW | RTLD_LOCAL);
  if (f->handle == NULL) {
    fprintf(stderr, "dlopen %s: %s\n", g_path, dlerror());
    free(f);
    return -1;
  }
  void* sym = dlsym(f->handle, XFV_ENTRY_SYMBOL);
  if (sym == NULL) {
    fprintf(stderr, "%s: no symbol %s\n", g_path, XFV_ENTRY_SYMBOL);
    dlclose(f->handle);
    free(f);
    return -1;
  }
  xfv_entry_fn entry;
  memcpy(&entry, &sym, sizeof(entry));
  f->table = entry();
  f->host.struct_size = sizeof(f->host);
  f->host.arg = f;
  f->host.log = on_log;
  *state = f;
  return 0;
}

static int unload(void** state) {
  fixture* f = *state;
  if (f == NULL) return 0;
  if (f->ctx != NULL) f->table->fini(f->ctx);
  dlclose(f->handle);
  free(f);
  return 0;
}

/* load + init + list_ports. */
static int setup(void** state) {
  if (load(state) != 0) return -1;
  fixture* f = *state;
  if (f->table == NULL || f->table->abi_major != XFV_ABI_MAJOR || f->table->init == NULL) return -1;
  if (f->table->init(g_options, &f->host, &f->ctx) != XFV_OK) {
    fprintf(stderr, "init(\"%s\") failed\n", g_options);
    return -1;
  }
  if (f->table->list_ports(f->ctx, f->ports, MAX_PORTS, &f->port_count) != XFV_OK) return -1;
  return 0;
}

static void table_matches_abi(void** state) {
  fixture* f = *state;
  const xfv_plugin* t = f->table;
  assert_non_null(t);
  /* xflowd refuses another major: the plugin must be built against this header's. */
  assert_int_equal(t->abi_major, XFV_ABI_MAJOR);
  assert_true(t->struct_size >= XFV_PLUGIN_SIZE_1_0);
  assert_non_null(t->name);
  assert_true(strlen(t->name) > 0);
  assert_non_null(t->version);
  assert_non_null(t->init);
  assert_non_null(t->fini);
  assert_non_null(t->list_ports);
  assert_non_null(t->set_sampling_rate);
  assert_non_null(t->get_sampling_rate);
  assert_non_null(t->read_counters);
  assert_non_null(t->sample_fd);
  assert_non_null(t->poll);
  /* The same table on every call. */
  void* sym = dlsym(f->handle, XFV_ENTRY_SYMBOL);
  xfv_entry_fn entry;
  memcpy(&entry, &sym, sizeof(entry));
  assert_ptr_equal(entry(), t);
}

static void bad_options_fail_with_a_message(void** state) {
  fixture* f = *state;
  void* ctx = NULL;
  const int rc = f->table->init("xflowd-contract-no-such-option=1", &f->host, &ctx);
  if (rc == XFV_OK) {
    /* A plugin may take any options; then it must still work and go away cleanly. */
    f->table->fini(ctx);
    return;
  }
  assert_true(rc < 0);
  assert_true(f->errors_logged > 0); /* the user is told why */
}

static void ports_are_listed(void** state) {
  fixture* f = *state;
  assert_true(f->port_count >= 1);
  assert_true(f->port_count <= MAX_PORTS);
  for (uint32_t i = 0; i < f->port_count; ++i) {
    const xfv_port* p = &f->ports[i];
    assert_int_not_equal(p->ifindex, 0);
    assert_non_null(memchr(p->name, '\0', sizeof(p->name)));
    assert_true(strlen(p->name) > 0);
    assert_true(p->admin_up <= 1 && p->oper_up <= 1);
    for (uint32_t j = 0; j < i; ++j) assert_int_not_equal(p->ifindex, f->ports[j].ifindex);
  }
  /* A short array: XFV_ERR_BUFFER and the real count. */
  if (f->port_count > 1) {
    uint32_t count = 0;
    xfv_port one;
    assert_int_equal(f->table->list_ports(f->ctx, &one, 1, &count), XFV_ERR_BUFFER);
    assert_int_equal(count, f->port_count);
  }
}

static uint32_t unknown_ifindex(const fixture* f) {
  uint32_t m = 0;
  for (uint32_t i = 0; i < f->port_count; ++i) {
    if (f->ports[i].ifindex > m) m = f->ports[i].ifindex;
  }
  return m + 100000;
}

static void rate_is_set_and_read_back(void** state) {
  fixture* f = *state;
  const uint32_t ifindex = f->ports[0].ifindex;
  uint32_t applied = 0, read = 0;
  assert_int_equal(f->table->set_sampling_rate(f->ctx, ifindex, XFV_INGRESS, 1000, 128, &applied),
                   XFV_OK);
  assert_true(applied >= 1); /* hardware may round, never to "off" */
  assert_int_equal(f->table->get_sampling_rate(f->ctx, ifindex, XFV_INGRESS, &read), XFV_OK);
  assert_int_equal(read, applied);
  /* Off again. */
  assert_int_equal(f->table->set_sampling_rate(f->ctx, ifindex, XFV_INGRESS, 0, 128, &applied),
                   XFV_OK);
  assert_int_equal(applied, 0);
  assert_int_equal(f->table->get_sampling_rate(f->ctx, ifindex, XFV_INGRESS, &read), XFV_OK);
  assert_int_equal(read, 0);
}

static void unknown_port_is_not_found(void** state) {
  fixture* f = *state;
  const uint32_t bad = unknown_ifindex(f);
  uint32_t applied = 0, read = 0;
  xfv_counters c;
  assert_int_equal(f->table->set_sampling_rate(f->ctx, bad, XFV_INGRESS, 1000, 128, &applied),
                   XFV_ERR_NOT_FOUND);
  assert_int_equal(f->table->get_sampling_rate(f->ctx, bad, XFV_INGRESS, &read), XFV_ERR_NOT_FOUND);
  assert_int_equal(f->table->read_counters(f->ctx, bad, &c), XFV_ERR_NOT_FOUND);
}

static void wait_readable(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  (void)poll(&p, 1, 10);
}

typedef struct seen {
  fixture* f;
  uint32_t samples;
  uint32_t in_call;
  uint32_t ifindex[2 * MAX_PORTS];
  uint32_t dir[2 * MAX_PORTS];
  uint32_t last_seq[2 * MAX_PORTS];
  uint32_t sessions;
  uint32_t gaps;
  uint32_t removed;
  uint32_t removed_ifindex[MAX_PORTS];
  /* What each port's ingress session read back: callbacks must not call into the plugin. */
  uint32_t applied[MAX_PORTS];
} seen;

static uint32_t applied_rate(const seen* w, uint32_t ifindex, uint32_t dir) {
  if (dir != XFV_INGRESS) return 0; /* the suite switches on ingress only */
  for (uint32_t i = 0; i < w->f->port_count; ++i) {
    if (w->f->ports[i].ifindex == ifindex) return w->applied[i];
  }
  return 0;
}

static void on_sample(void* arg, const xfv_sample* s) {
  seen* w = arg;
  assert_non_null(s);
  assert_true(s->direction == XFV_INGRESS || s->direction == XFV_EGRESS);
  assert_true(s->frame_length >= s->header_length);
  assert_true(s->header_length == 0 || s->header != NULL);
  assert_true(s->header_length <= 128); /* what set_sampling_rate asked for */
  const uint32_t ifindex = s->direction == XFV_INGRESS ? s->input_ifindex : s->output_ifindex;
  assert_int_not_equal(ifindex, 0);
  /* Only sessions that were switched on sample, at the rate they read back. */
  assert_int_equal(s->sampling_rate, applied_rate(w, ifindex, s->direction));
  uint32_t i = 0;
  for (; i < w->sessions; ++i) {
    if (w->ifindex[i] == ifindex && w->dir[i] == s->direction) break;
  }
  if (i == w->sessions) {
    assert_true(w->sessions < 2 * MAX_PORTS);
    w->ifindex[i] = ifindex;
    w->dir[i] = s->direction;
    ++w->sessions;
  } else {
    const uint32_t d = s->sequence - w->last_seq[i]; /* modulo 2^32 */
    assert_true(d >= 1);                             /* numbered upwards, no repeats */
    assert_true(d < (1u << 24));                     /* a plausible gap */
    w->gaps += d - 1;
  }
  w->last_seq[i] = s->sequence;
  ++w->samples;
  ++w->in_call;
}

static void on_port_event(void* arg, uint32_t event, const xfv_port* p) {
  seen* w = arg;
  assert_true(event <= XFV_PORT_CHANGED);
  assert_non_null(p);
  assert_int_not_equal(p->ifindex, 0);
  if (event == XFV_PORT_REMOVED && w->removed < MAX_PORTS) {
    w->removed_ifindex[w->removed++] = p->ifindex;
  }
}

static void samples_follow_the_contract(void** state) {
  fixture* f = *state;
  const int fd = f->table->sample_fd(f->ctx);
  assert_true(fd >= 0);
  seen* w = calloc(1, sizeof(*w));
  assert_non_null(w);
  w->f = f;
  for (uint32_t i = 0; i < f->port_count; ++i) {
    assert_int_equal(f->table->set_sampling_rate(f->ctx, f->ports[i].ifindex, XFV_INGRESS, RATE,
                                                 128, &w->applied[i]),
                     XFV_OK);
    assert_true(w->applied[i] >= 1);
  }
  for (int round = 0; round < ROUNDS; ++round) {
    wait_readable(fd);
    uint32_t delivered = 0;
    w->in_call = 0;
    assert_int_equal(f->table->poll(f->ctx, BUDGET, on_sample, on_port_event, w, &delivered),
                     XFV_OK);
    assert_true(delivered <= BUDGET);
    assert_int_equal(delivered, w->in_call);
    assert_int_equal(f->table->sample_fd(f->ctx), fd); /* stable */
    if (w->samples >= 200 && round >= 100) break;
  }
  fprintf(stderr, "  %u samples from %u sessions, %u lost (gaps), %u ports removed\n", w->samples,
          w->sessions, w->gaps, w->removed);
  if (!g_idle) assert_true(w->samples > 0);
  /* A port that is gone: no counters, no sampling, not listed. */
  for (uint32_t i = 0; i < w->removed; ++i) {
    xfv_counters c;
    uint32_t applied = 0;
    assert_int_equal(f->table->read_counters(f->ctx, w->removed_ifindex[i], &c), XFV_ERR_NOT_FOUND);
    assert_int_equal(f->table->set_sampling_rate(f->ctx, w->removed_ifindex[i], XFV_INGRESS, RATE,
                                                 128, &applied),
                     XFV_ERR_NOT_FOUND);
    uint32_t count = 0;
    assert_int_equal(f->table->list_ports(f->ctx, f->ports, MAX_PORTS, &count), XFV_OK);
    for (uint32_t j = 0; j < count; ++j) {
      assert_int_not_equal(f->ports[j].ifindex, w->removed_ifindex[i]);
    }
  }
  free(w);
}

static void counters_never_go_back(void** state) {
  fixture* f = *state;
  const uint32_t ifindex = f->ports[0].ifindex;
  xfv_counters a, b;
  /* As xflowd hands them: every counter unknown, has_ethernet 0. */
  memset(&a, 0xFF, sizeof(a));
  a.has_ethernet = 0;
  assert_int_equal(f->table->read_counters(f->ctx, ifindex, &a), XFV_OK);
  const int fd = f->table->sample_fd(f->ctx);
  seen* w = calloc(1, sizeof(*w));
  assert_non_null(w);
  w->f = f; /* sampling is off: no samples expected, events allowed */
  for (int i = 0; i < 20; ++i) {
    uint32_t delivered = 0;
    wait_readable(fd);
    assert_int_equal(f->table->poll(f->ctx, BUDGET, on_sample, on_port_event, w, &delivered),
                     XFV_OK);
  }
  free(w);
  memset(&b, 0xFF, sizeof(b));
  b.has_ethernet = 0;
  assert_int_equal(f->table->read_counters(f->ctx, ifindex, &b), XFV_OK);
  const uint64_t *pa = &a.in_octets, *pb = &b.in_octets;
  for (int i = 0; i < 13; ++i) {
    if (pa[i] == XFV_UNKNOWN64) {
      assert_true(pb[i] == XFV_UNKNOWN64); /* a counter does not appear and vanish */
    } else {
      assert_true(pb[i] >= pa[i]);
    }
  }
  assert_true(b.has_ethernet <= 1);
}

int main(int argc, char** argv) {
  g_path = argc > 1 ? argv[1] : getenv("XFLOWD_VENDOR_PLUGIN");
  if (argc > 2) g_options = argv[2];
  const char* idle = getenv("XFLOWD_CONTRACT_IDLE");
  g_idle = idle != NULL && strcmp(idle, "1") == 0;
  if (g_path == NULL) {
    fprintf(stderr, "usage: %s PLUGIN.so [OPTIONS]\n", argv[0]);
    return 2;
  }
  fprintf(stderr, "vendor plugin contract: %s, options \"%s\"\n", g_path, g_options);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(table_matches_abi, load, unload),
      cmocka_unit_test_setup_teardown(bad_options_fail_with_a_message, load, unload),
      cmocka_unit_test_setup_teardown(ports_are_listed, setup, unload),
      cmocka_unit_test_setup_teardown(rate_is_set_and_read_back, setup, unload),
      cmocka_unit_test_setup_teardown(unknown_port_is_not_found, setup, unload),
      cmocka_unit_test_setup_teardown(samples_follow_the_contract, setup, unload),
      cmocka_unit_test_setup_teardown(counters_never_go_back, setup, unload),
  };
  return cmocka_run_group_tests_name("vendor_plugin_contract", tests, NULL, NULL);
}
