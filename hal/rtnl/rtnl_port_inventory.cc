#include "hal/rtnl/rtnl_port_inventory.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "hal/rtnl/ethtool.h"

namespace xflowd::hal::rtnl {
namespace {

bool SameInfo(const PortInfo& a, const PortInfo& b) {
  return a.ifindex == b.ifindex && a.name == b.name && a.alias == b.alias &&
         a.speed_bps == b.speed_bps && a.if_type == b.if_type && a.duplex == b.duplex &&
         a.admin_up == b.admin_up && a.oper_up == b.oper_up && a.promiscuous == b.promiscuous &&
         std::memcmp(a.mac, b.mac, 6) == 0;
}

}  // namespace

using base::Result;
using base::Status;

Result<std::unique_ptr<RtnlPortInventory>> RtnlPortInventory::Create(
    const RtnlInventoryOptions& options) {
  auto events = RouteSocket::Create(true, options.event_rcvbuf_bytes);
  if (!events.ok()) return events.status().WithContext("rtnl link events");
  auto requests = RouteSocket::Create(false);
  if (!requests.ok()) return requests.status().WithContext("rtnl requests");
  int ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (ioctl_fd < 0) return base::ErrnoError("socket for SIOCETHTOOL", errno);
  std::unique_ptr<RtnlPortInventory> inv(new RtnlPortInventory(
      options, std::move(events).value(), std::move(requests).value(), ioctl_fd));
  Status st = inv->requests_->DumpLinks([&](const LinkMessage& l) { inv->Apply(l, false); });
  if (!st.ok()) return st.WithContext("initial link dump");
  return inv;
}

RtnlPortInventory::~RtnlPortInventory() { close(ioctl_fd_); }

Result<std::vector<PortInfo>> RtnlPortInventory::ListPorts() {
  std::vector<PortInfo> out;
  out.reserve(links_.size());
  for (const auto& kv : links_) out.push_back(kv.second.info);
  return out;
}

const LinkDetails* RtnlPortInventory::Find(uint32_t ifindex) const {
  auto it = links_.find(ifindex);
  return it == links_.end() ? nullptr : &it->second;
}

ParseStats RtnlPortInventory::parse_stats() const {
  ParseStats a = events_->parse_stats();
  const ParseStats& b = requests_->parse_stats();
  a.messages += b.messages;
  a.links += b.links;
  a.truncated += b.truncated;
  a.bad_attr_length += b.bad_attr_length;
  a.unknown_attrs += b.unknown_attrs;
  a.other_messages += b.other_messages;
  a.error_messages += b.error_messages;
  return a;
}

void RtnlPortInventory::Notify(PortEvent event, const PortInfo& info) {
  switch (event) {
    case PortEvent::kAdded:
      ++stats_.added;
      break;
    case PortEvent::kRemoved:
      ++stats_.removed;
      break;
    case PortEvent::kChanged:
      ++stats_.changed;
      break;
  }
  if (listener_) listener_(event, info);
}

size_t RtnlPortInventory::Apply(const LinkMessage& link, bool notify) {
  if (link.ifindex == 0) return 0;
  auto it = links_.find(link.ifindex);
  if (link.is_delete) {
    if (it == links_.end()) return 0;
    PortInfo gone = it->second.info;
    links_.erase(it);
    if (notify) Notify(PortEvent::kRemoved, gone);
    return notify ? 1 : 0;
  }
  bool is_new = it == links_.end();
  LinkDetails d = is_new ? LinkDetails() : it->second;
  ApplyToPortInfo(link, &d.info);
  if (link.has_mtu) d.mtu = link.mtu;
  // IFLA_MASTER is absent when the port has no master (also after release).
  d.master_ifindex = link.has_master ? link.master_ifindex : 0;
  if (link.has_operstate) d.operstate = link.operstate;
  if (options_.read_ethtool && !d.info.name.empty()) {
    auto sp = ReadLinkSpeed(ioctl_fd_, d.info.name);
    if (sp.ok()) {
      d.info.speed_bps = sp->speed_bps;
      d.info.duplex = sp->duplex;
    } else {
      d.info.speed_bps = 0;
      d.info.duplex = 0;
      // Unsupported drivers and links that vanished meanwhile are normal.
      if (sp.status().code() != base::StatusCode::kUnimplemented &&
          sp.status().code() != base::StatusCode::kNotFound) {
        ++stats_.ethtool_errors;
      }
    }
  }
  bool changed = is_new || !SameInfo(d.info, links_[link.ifindex].info);
  links_[link.ifindex] = d;
  if (!notify || !changed) return 0;
  Notify(is_new ? PortEvent::kAdded : PortEvent::kChanged, d.info);
  return 1;
}

size_t RtnlPortInventory::ProcessEvents() {
  size_t calls = 0;
  bool overrun = false;
  stats_.events +=
      events_->ReadEvents([&](const LinkMessage& l) { calls += Apply(l, true); }, &overrun);
  if (overrun) {
    ++stats_.overruns;
    size_t before = stats_.added + stats_.removed + stats_.changed;
    if (Resync().ok()) calls += stats_.added + stats_.removed + stats_.changed - before;
  }
  return calls;
}

Status RtnlPortInventory::Resync() {
  ++stats_.resyncs;
  std::set<uint32_t> seen;
  std::vector<LinkMessage> dumped;
  XFLOWD_RETURN_IF_ERROR(requests_->DumpLinks([&](const LinkMessage& l) {
    seen.insert(l.ifindex);
    dumped.push_back(l);
  }));
  std::vector<uint32_t> gone;
  for (const auto& kv : links_) {
    if (!seen.count(kv.first)) gone.push_back(kv.first);
  }
  for (uint32_t ifindex : gone) {
    LinkMessage del;
    del.is_delete = true;
    del.ifindex = ifindex;
    Apply(del, true);
  }
  for (const LinkMessage& l : dumped) Apply(l, true);
  return Status::Ok();
}

Result<std::unique_ptr<RtnlCounterSource>> RtnlCounterSource::Create(int timeout_ms) {
  auto s = RouteSocket::Create(false, 1 << 20, timeout_ms);
  if (!s.ok()) return s.status().WithContext("rtnl counters");
  return std::unique_ptr<RtnlCounterSource>(new RtnlCounterSource(std::move(s).value()));
}

Result<LinkStats64> RtnlCounterSource::ReadStats64(uint32_t ifindex) {
  auto link = socket_->GetLink(ifindex);
  if (!link.ok()) return link.status();
  if (!link->has_stats64) {
    return base::UnavailableError("link " + std::to_string(ifindex) + ": no IFLA_STATS64");
  }
  return link->stats;
}

Result<PortCounters> RtnlCounterSource::ReadCounters(uint32_t ifindex) {
  auto link = socket_->GetLink(ifindex);
  if (!link.ok()) return link.status();
  return ToPortCounters(*link);
}

}  // namespace xflowd::hal::rtnl
