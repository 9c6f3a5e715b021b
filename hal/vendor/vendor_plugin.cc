#include "hal/vendor/vendor_plugin.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <utility>

namespace xflowd::hal::vendor {

using base::InternalError;
using base::InvalidArgumentError;
using base::LogLevel;
using base::NotFoundError;
using base::Result;
using base::Status;
using base::UnimplementedError;

namespace {

const char* RcName(int rc) {
  switch (rc) {
    case XFV_OK:
      return "ok";
    case XFV_ERR_INVALID:
      return "invalid argument";
    case XFV_ERR_NOT_FOUND:
      return "no such port";
    case XFV_ERR_UNSUPPORTED:
      return "not supported by the hardware";
    case XFV_ERR_HARDWARE:
      return "SDK error";
    case XFV_ERR_NO_MEMORY:
      return "out of memory";
    case XFV_ERR_BUFFER:
      return "buffer too small";
  }
  return "unknown error";
}

const char* DirName(uint32_t d) { return d == XFV_EGRESS ? "egress" : "ingress"; }

// A fixed-size, NUL-terminated-or-not name from the plugin, bounded.
std::string BoundedString(const char* s, size_t max) { return std::string(s, strnlen(s, max)); }

PortInfo ToPortInfo(const xfv_port& p) {
  PortInfo info;
  info.ifindex = p.ifindex;
  info.name = BoundedString(p.name, sizeof(p.name));
  info.alias = BoundedString(p.alias, sizeof(p.alias));
  info.speed_bps = p.speed_bps;
  info.if_type = p.if_type;
  info.duplex = p.duplex;
  info.admin_up = p.admin_up != 0;
  info.oper_up = p.oper_up != 0;
  info.promiscuous = p.promiscuous != 0;
  std::memcpy(info.mac, p.mac, sizeof(info.mac));
  return info;
}

}  // namespace

Status CheckPluginTable(const xfv_plugin* t) {
  if (t == nullptr) return InvalidArgumentError(std::string(XFV_ENTRY_SYMBOL) + "() returned NULL");
  const std::string built_for =
      "built for vendor ABI " + std::to_string(t->abi_major) + "." + std::to_string(t->abi_minor);
  if (t->abi_major != XFV_ABI_MAJOR) {
    return InvalidArgumentError(
        built_for + ", but this xflowd speaks ABI " + std::to_string(XFV_ABI_MAJOR) + ".x (up to " +
        std::to_string(XFV_ABI_MAJOR) + "." + std::to_string(XFV_ABI_MINOR) +
        "): rebuild the plugin against this xflowd's "
        "xflowd/vendor_abi.h, or use an xflowd of its major version");
  }
  if (t->struct_size < XFV_PLUGIN_SIZE_1_0) {
    return InvalidArgumentError(built_for + " with a table of " + std::to_string(t->struct_size) +
                                " bytes; ABI " + std::to_string(XFV_ABI_MAJOR) +
                                " needs at least " + std::to_string(XFV_PLUGIN_SIZE_1_0) +
                                ": struct_size must be sizeof(xfv_plugin)");
  }
  struct Fn {
    const char* name;
    bool set;
  };
  const Fn fns[] = {
      {"init", t->init != nullptr},
      {"fini", t->fini != nullptr},
      {"list_ports", t->list_ports != nullptr},
      {"set_sampling_rate", t->set_sampling_rate != nullptr},
      {"get_sampling_rate", t->get_sampling_rate != nullptr},
      {"read_counters", t->read_counters != nullptr},
      {"sample_fd", t->sample_fd != nullptr},
      {"poll", t->poll != nullptr},
  };
  for (const Fn& f : fns) {
    if (!f.set) return InvalidArgumentError(built_for + ": its table has no " + f.name);
  }
  return Status::Ok();
}

Result<std::unique_ptr<VendorPlugin>> VendorPlugin::Load(const std::string& path) {
  const std::string what = "vendor plugin " + path;
  // RTLD_LOCAL: the plugin's symbols (and its SDK's) stay out of xflowd's namespace.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* e = dlerror();
    return NotFoundError(what + ": cannot load: " + (e ? e : "dlopen failed"));
  }
  dlerror();
  void* sym = dlsym(handle, XFV_ENTRY_SYMBOL);
  if (sym == nullptr) {
    dlclose(handle);
    return InvalidArgumentError(what + ": no symbol " + XFV_ENTRY_SYMBOL +
                                " (is it an xflowd vendor plugin? see docs/porting.md)");
  }
  xfv_entry_fn entry;
  static_assert(sizeof(entry) == sizeof(sym), "function and object pointers differ in size");
  std::memcpy(&entry, &sym, sizeof(entry));
  const xfv_plugin* table = entry();
  if (Status st = CheckPluginTable(table); !st.ok()) {
    dlclose(handle);
    return st.WithContext(what);
  }
  return std::unique_ptr<VendorPlugin>(new VendorPlugin(handle, table, path));
}

VendorPlugin::~VendorPlugin() {
  if (handle_ != nullptr) dlclose(handle_);
}

VendorBackend::VendorBackend(std::unique_ptr<VendorPlugin> plugin, const xfv_plugin* table,
                             const base::Clock& clock, base::Logger& logger)
    : plugin_(std::move(plugin)), table_(table), clock_(clock), logger_(logger) {}

Result<std::unique_ptr<VendorBackend>> VendorBackend::Create(std::unique_ptr<VendorPlugin> plugin,
                                                             const xfv_plugin* table,
                                                             const std::string& options,
                                                             const base::Clock& clock,
                                                             base::Logger& logger) {
  XFLOWD_RETURN_IF_ERROR(CheckPluginTable(table));
  std::unique_ptr<VendorBackend> b(new VendorBackend(std::move(plugin), table, clock, logger));
  b->host_.struct_size = sizeof(xfv_host);
  b->host_.arg = b.get();
  b->host_.log = &VendorBackend::OnLogThunk;
  b->pending_.reserve(kMaxPendingEvents);
  b->sessions_.resize(kSessionSlots);
  void* ctx = nullptr;
  const int rc = table->init(options.c_str(), &b->host_, &ctx);
  if (rc != XFV_OK) {
    return b->Error("init", rc, "options \"" + options + "\" (the lines above say why)");
  }
  b->ctx_ = ctx;
  b->fd_ = table->sample_fd(ctx);
  if (b->fd_ < 0) return b->Error("sample_fd", b->fd_, "no pollable fd");
  return b;
}

VendorBackend::~VendorBackend() {
  if (ctx_ != nullptr) table_->fini(ctx_);
  // plugin_ (the dlopen handle) goes after fini, with the members.
}

std::string VendorBackend::Description() const {
  std::string d = "vendor plugin ";
  d += table_->name ? table_->name : "(unnamed)";
  if (table_->version) d += std::string(" ") + table_->version;
  d += " (ABI " + std::to_string(table_->abi_major) + "." + std::to_string(table_->abi_minor);
  if (plugin_) d += ", " + plugin_->path();
  return d + ")";
}

Status VendorBackend::Error(const char* call, int rc, const std::string& what) const {
  std::string m = std::string("vendor plugin ") + (table_->name ? table_->name : "") + ": " + call +
                  ": " + RcName(rc) + " (" + std::to_string(rc) + ")";
  if (!what.empty()) m += ": " + what;
  switch (rc) {
    case XFV_ERR_NOT_FOUND:
      return NotFoundError(m);
    case XFV_ERR_INVALID:
      return InvalidArgumentError(m);
    case XFV_ERR_UNSUPPORTED:
      return UnimplementedError(m);
    default:
      return InternalError(m);
  }
}

void VendorBackend::OnLogThunk(void* arg, int level, const char* message) {
  auto* b = static_cast<VendorBackend*>(arg);
  LogLevel l = LogLevel::kDebug;
  switch (level) {
    case XFV_LOG_ERROR:
      l = LogLevel::kError;
      break;
    case XFV_LOG_WARNING:
      l = LogLevel::kWarning;
      break;
    case XFV_LOG_INFO:
      l = LogLevel::kInfo;
      break;
    default:
      break;
  }
  b->logger_.Log(l, "vendor plugin: %s", message ? message : "(null)");
}

void VendorBackend::OnSampleThunk(void* arg, const xfv_sample* sample) {
  if (sample != nullptr) static_cast<VendorBackend*>(arg)->OnSample(*sample);
}

void VendorBackend::OnPortEventThunk(void* arg, uint32_t event, const xfv_port* port) {
  auto* b = static_cast<VendorBackend*>(arg);
  if (port == nullptr || event > XFV_PORT_CHANGED) {
    ++b->events_lost_;
    return;
  }
  ++b->vstats_.port_events;
  if (b->pending_.size() >= kMaxPendingEvents) {
    ++b->events_lost_;
    return;
  }
  const PortEvent e = event == XFV_PORT_ADDED     ? PortEvent::kAdded
                      : event == XFV_PORT_REMOVED ? PortEvent::kRemoved
                                                  : PortEvent::kChanged;
  b->pending_.push_back(PendingEvent{e, ToPortInfo(*port)});
}

void VendorBackend::CountGap(uint32_t ifindex, uint32_t direction, uint32_t sequence) {
  // Open addressing over a table sized at Create: no allocation here.
  const uint64_t key = uint64_t{ifindex} * 2 + direction + 1;
  const size_t mask = sessions_.size() - 1;
  size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 40) & mask;
  for (size_t n = 0; n < sessions_.size(); ++n, i = (i + 1) & mask) {
    Session& s = sessions_[i];
    if (s.key == key) {
      const uint32_t d = sequence - s.last_sequence - 1;  // wraps by design
      if (d < (1u << 24)) vstats_.sequence_gaps += d;     // else a restart: not a drop
      s.last_sequence = sequence;
      return;
    }
    if (s.key == 0) {
      s.key = key;
      s.last_sequence = sequence;
      return;
    }
  }
  ++vstats_.untracked_sessions;
}

void VendorBackend::OnSample(const xfv_sample& s) {
  if (s.direction > XFV_EGRESS || s.sampling_rate == 0 || s.header_length > s.frame_length ||
      (s.header_length > 0 && s.header == nullptr) || s.stripped > s.frame_length) {
    ++vstats_.bad_samples;
    ++stats_.parse_errors;
    return;
  }
  PacketSample p;
  p.input_ifindex = s.input_ifindex;
  p.output_ifindex = s.output_ifindex;
  p.direction = s.direction == XFV_EGRESS ? Direction::kEgress : Direction::kIngress;
  p.frame_length = s.frame_length;
  p.stripped = s.stripped;
  p.sampling_rate = s.sampling_rate;
  p.source_sequence = s.sequence;
  p.has_source_sequence = true;
  p.vlan_valid = s.vlan_valid != 0;
  p.vlan_tci = s.vlan_tci;
  p.timestamp = s.timestamp_ns != 0 ? base::MonoTime::FromNs(static_cast<int64_t>(s.timestamp_ns))
                                    : clock_.Now();
  p.header = base::ByteView(s.header, s.header_length);
  const uint64_t before = vstats_.sequence_gaps;
  CountGap(s.direction == XFV_EGRESS ? s.output_ifindex : s.input_ifindex, s.direction, s.sequence);
  stats_.source_drops += vstats_.sequence_gaps - before;
  ++stats_.samples;
  sink_->OnSample(p);
}

size_t VendorBackend::Drain(PacketSampleSink& sink, size_t budget) {
  sink_ = &sink;
  uint32_t delivered = 0;
  const uint32_t b = budget > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(budget);
  const int rc = table_->poll(ctx_, b, &VendorBackend::OnSampleThunk,
                              &VendorBackend::OnPortEventThunk, this, &delivered);
  sink_ = nullptr;
  if (rc != XFV_OK) {
    ++vstats_.poll_errors;
    if (vstats_.poll_errors == 1 || (vstats_.poll_errors & (vstats_.poll_errors - 1)) == 0) {
      logger_.Log(LogLevel::kWarning, "vendor plugin: poll: %s (%d), %llu times so far", RcName(rc),
                  rc, static_cast<unsigned long long>(vstats_.poll_errors));
    }
  }
  return delivered;
}

void VendorBackend::DeliverPortEvents() {
  if (events_lost_ != events_lost_logged_) {
    events_lost_logged_ = events_lost_;
    logger_.Log(LogLevel::kWarning,
                "vendor plugin: %llu port events lost so far (more than %zu between two "
                "deliveries, or malformed)",
                static_cast<unsigned long long>(events_lost_), kMaxPendingEvents);
  }
  if (pending_.empty()) return;
  // The listener may call back into the plugin (ListPorts, SetSamplingRate): move them out.
  std::vector<PendingEvent> events;
  events.swap(pending_);
  pending_.reserve(kMaxPendingEvents);
  for (const PendingEvent& e : events) {
    const char* what = e.event == PortEvent::kAdded     ? "added"
                       : e.event == PortEvent::kRemoved ? "removed"
                                                        : "changed";
    logger_.Log(LogLevel::kInfo, "vendor plugin: port %s (ifindex %u) %s", e.port.name.c_str(),
                e.port.ifindex, what);
    if (listener_) listener_(e.event, e.port);
  }
}

Result<uint32_t> VendorBackend::SetSamplingRate(uint32_t ifindex, Direction direction,
                                                uint32_t rate, uint32_t header_bytes) {
  const uint32_t dir = direction == Direction::kEgress ? XFV_EGRESS : XFV_INGRESS;
  const std::string what =
      "ifindex " + std::to_string(ifindex) + " " + DirName(dir) + " 1-in-" + std::to_string(rate);
  uint32_t applied = 0;
  int rc = table_->set_sampling_rate(ctx_, ifindex, dir, rate, header_bytes, &applied);
  if (rc != XFV_OK) return Error("set_sampling_rate", rc, what);
  uint32_t readback = 0;
  rc = table_->get_sampling_rate(ctx_, ifindex, dir, &readback);
  if (rc != XFV_OK) return Error("get_sampling_rate", rc, what);
  if (readback != applied) {
    ++vstats_.rate_readback_differs;
    logger_.Log(LogLevel::kWarning,
                "vendor plugin: %s: set_sampling_rate said 1-in-%u, get_sampling_rate reads "
                "1-in-%u; reporting what it reads",
                what.c_str(), applied, readback);
  }
  if (rate != 0 && readback == 0) {
    return Error("set_sampling_rate", XFV_ERR_HARDWARE, what + ": sampling reads back as off");
  }
  return readback;
}

Result<PortCounters> VendorBackend::ReadCounters(uint32_t ifindex) {
  xfv_counters c;
  std::memset(&c, 0xFF, sizeof(c));  // every counter unknown until the plugin sets it
  c.has_ethernet = 0;
  const int rc = table_->read_counters(ctx_, ifindex, &c);
  if (rc != XFV_OK) return Error("read_counters", rc, "ifindex " + std::to_string(ifindex));
  PortCounters p;
  p.in_octets = c.in_octets;
  p.in_ucast_pkts = c.in_ucast_pkts;
  p.in_multicast_pkts = c.in_multicast_pkts;
  p.in_broadcast_pkts = c.in_broadcast_pkts;
  p.in_discards = c.in_discards;
  p.in_errors = c.in_errors;
  p.in_unknown_protos = c.in_unknown_protos;
  p.out_octets = c.out_octets;
  p.out_ucast_pkts = c.out_ucast_pkts;
  p.out_multicast_pkts = c.out_multicast_pkts;
  p.out_broadcast_pkts = c.out_broadcast_pkts;
  p.out_discards = c.out_discards;
  p.out_errors = c.out_errors;
  p.has_ethernet = c.has_ethernet != 0;
  p.dot3_alignment_errors = c.dot3_alignment_errors;
  p.dot3_fcs_errors = c.dot3_fcs_errors;
  p.dot3_single_collision_frames = c.dot3_single_collision_frames;
  p.dot3_multiple_collision_frames = c.dot3_multiple_collision_frames;
  p.dot3_sqe_test_errors = c.dot3_sqe_test_errors;
  p.dot3_deferred_transmissions = c.dot3_deferred_transmissions;
  p.dot3_late_collisions = c.dot3_late_collisions;
  p.dot3_excessive_collisions = c.dot3_excessive_collisions;
  p.dot3_internal_mac_transmit_errors = c.dot3_internal_mac_transmit_errors;
  p.dot3_carrier_sense_errors = c.dot3_carrier_sense_errors;
  p.dot3_frame_too_longs = c.dot3_frame_too_longs;
  p.dot3_internal_mac_receive_errors = c.dot3_internal_mac_receive_errors;
  p.dot3_symbol_errors = c.dot3_symbol_errors;
  return p;
}

Result<std::vector<PortInfo>> VendorBackend::ListPorts() {
  std::vector<xfv_port> raw(64);
  for (int attempt = 0; attempt < 4; ++attempt) {
    uint32_t count = 0;
    const int rc = table_->list_ports(ctx_, raw.data(), static_cast<uint32_t>(raw.size()), &count);
    if (rc == XFV_ERR_BUFFER && count > raw.size()) {
      raw.resize(count);  // the port count grew between two calls: ask again
      continue;
    }
    if (rc != XFV_OK) return Error("list_ports", rc, "");
    if (count > raw.size()) return Error("list_ports", XFV_ERR_BUFFER, "count beyond capacity");
    std::vector<PortInfo> ports;
    ports.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      if (raw[i].ifindex == 0) {
        return Error("list_ports", XFV_ERR_INVALID,
                     "port " + BoundedString(raw[i].name, sizeof(raw[i].name)) + " has ifindex 0");
      }
      ports.push_back(ToPortInfo(raw[i]));
    }
    return ports;
  }
  return Error("list_ports", XFV_ERR_BUFFER, "the port count kept changing");
}

std::string VendorBackend::Summary() const {
  char line[512];
  std::snprintf(line, sizeof(line),
                "%s: %llu samples, %llu lost before xflowd (sequence gaps), %llu malformed, %llu "
                "port events (%llu lost), %llu poll errors\n",
                Description().c_str(), static_cast<unsigned long long>(stats_.samples),
                static_cast<unsigned long long>(vstats_.sequence_gaps),
                static_cast<unsigned long long>(vstats_.bad_samples),
                static_cast<unsigned long long>(vstats_.port_events),
                static_cast<unsigned long long>(events_lost_),
                static_cast<unsigned long long>(vstats_.poll_errors));
  return line;
}

}  // namespace xflowd::hal::vendor
