// Fuzzes the vendor plugin seam: the reference plugin's options parser (arbitrary text as
// source.vendor.options: init, list the ports, fini) and the adapter's checks of what a plugin
// delivers (arbitrary bytes as xfv_sample fields and header, through VendorBackend::Drain):
// a plugin's bad sample must be counted, never trusted.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/vendor/vendor_plugin.h"

extern "C" const xfv_plugin* xflowd_vendor_plugin(void);

namespace {

using xflowd::hal::PacketSample;
using xflowd::hal::PacketSampleSink;
using xflowd::hal::vendor::VendorBackend;

struct Input {
  const uint8_t* data;
  size_t size;
};
Input g_input;

int Init(const char*, const xfv_host*, void** ctx) {
  *ctx = &g_input;
  return XFV_OK;
}
void Fini(void*) {}
int List(void*, xfv_port*, uint32_t, uint32_t* count) {
  *count = 0;
  return XFV_OK;
}
int Set(void*, uint32_t, uint32_t, uint32_t rate, uint32_t, uint32_t* applied) {
  *applied = rate;
  return XFV_OK;
}
int Get(void*, uint32_t, uint32_t, uint32_t* rate) {
  *rate = 1;
  return XFV_OK;
}
int Counters(void*, uint32_t, xfv_counters*) { return XFV_OK; }
int Fd(void*) { return 0; }
// Each sample: 32 bytes of fields, then header_length % 300 bytes of header (as much as is
// left); a port event every time the first byte is odd.
int Poll(void* ctx, uint32_t budget, xfv_sample_cb on_sample, xfv_port_event_cb on_event, void* arg,
         uint32_t* delivered) {
  Input* in = static_cast<Input*>(ctx);
  *delivered = 0;
  while (*delivered < budget && in->size >= 32) {
    uint32_t w[8];
    std::memcpy(w, in->data, sizeof(w));
    in->data += 32;
    in->size -= 32;
    xfv_sample s{};
    s.input_ifindex = w[0];
    s.output_ifindex = w[1];
    s.direction = w[2] % 4;
    s.sampling_rate = w[3];
    s.sequence = w[4];
    s.frame_length = w[5];
    s.stripped = w[6] % 16;
    const size_t want = w[7] % 300;
    s.header_length = static_cast<uint32_t>(want < in->size ? want : in->size);
    // A missing header with a length: must be refused, not read.
    s.header = (w[7] & 0x80000000u) ? nullptr : in->data;
    on_sample(arg, &s);
    in->data += s.header_length;
    in->size -= s.header_length;
    if (w[0] & 1) {
      xfv_port p{};
      p.ifindex = w[1];
      std::memcpy(p.name, &w[2], sizeof(w[2]));  // not NUL-terminated on purpose
      on_event(arg, w[0] % 5, &p);
    }
    ++*delivered;
  }
  return XFV_OK;
}

struct Sink : PacketSampleSink {
  uint64_t bytes = 0;
  void OnSample(const PacketSample& s) override {
    for (size_t i = 0; i < s.header.size(); ++i) bytes += s.header.data()[i];
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xflowd::hal::base::ManualClock clock;
  xflowd::hal::base::Logger logger = xflowd::hal::base::Logger::Null();
  // The reference plugin's options: the text up to the first NUL, on the manual clock (no
  // traffic is made: init, list, fini only).
  const size_t text_len = strnlen(reinterpret_cast<const char*>(data), size);
  const std::string options(reinterpret_cast<const char*>(data), text_len);
  {
    auto b = VendorBackend::Create(nullptr, xflowd_vendor_plugin(), options, clock, logger);
    if (b.ok()) (void)(*b)->ListPorts();
  }
  // The rest: samples and events from a plugin.
  if (text_len < size) {
    g_input = {data + text_len + 1, size - text_len - 1};
    xfv_plugin t{};
    t.abi_major = XFV_ABI_MAJOR;
    t.abi_minor = XFV_ABI_MINOR;
    t.struct_size = sizeof(xfv_plugin);
    t.name = "fuzz";
    t.init = Init;
    t.fini = Fini;
    t.list_ports = List;
    t.set_sampling_rate = Set;
    t.get_sampling_rate = Get;
    t.read_counters = Counters;
    t.sample_fd = Fd;
    t.poll = Poll;
    auto b = VendorBackend::Create(nullptr, &t, "", clock, logger);
    if (b.ok()) {
      Sink sink;
      (*b)->SetListener(
          [](xflowd::hal::PortEvent, const xflowd::hal::PortInfo& p) { (void)p.name.size(); });
      for (int i = 0; i < 8 && g_input.size >= 32; ++i) (*b)->Drain(sink, 16);
      (*b)->DeliverPortEvents();
    }
  }
  return 0;
}
