#include "hal/rtnl/ethtool.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

namespace xflowd::hal::rtnl {
namespace {

LinkSpeed Convert(uint32_t speed_mbps, uint8_t duplex) {
  LinkSpeed out;
  if (speed_mbps != 0 && speed_mbps != static_cast<uint32_t>(SPEED_UNKNOWN)) {
    out.speed_bps = uint64_t{speed_mbps} * 1000000ull;
  }
  if (duplex == DUPLEX_FULL) out.duplex = 1;
  if (duplex == DUPLEX_HALF) out.duplex = 2;
  return out;
}

int Ioctl(int fd, const std::string& ifname, void* data) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = static_cast<char*>(data);
  return ioctl(fd, SIOCETHTOOL, &ifr) == 0 ? 0 : errno;
}

}  // namespace

base::Result<LinkSpeed> ReadLinkSpeed(int sock_fd, const std::string& ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
    return base::InvalidArgumentError("bad interface name '" + ifname + "'");
  }
  // ETHTOOL_GLINKSETTINGS handshake: ask with 0 mask words; the kernel answers with
  // -(the number it wants), then ask again with that many. Room for 3 masks of up to 32 words.
  // (ethtool_link_settings ends in a flexible array, so it lives in a plain word buffer.)
  uint32_t words[(sizeof(ethtool_link_settings) + 3 * 32 * 4) / 4 + 1] = {};
  auto* s = reinterpret_cast<ethtool_link_settings*>(words);
  s->cmd = ETHTOOL_GLINKSETTINGS;
  int err = Ioctl(sock_fd, ifname, words);
  if (err == 0 && s->link_mode_masks_nwords < 0 && -s->link_mode_masks_nwords <= 32) {
    int8_t nwords = static_cast<int8_t>(-s->link_mode_masks_nwords);
    std::memset(words, 0, sizeof(words));
    s->cmd = ETHTOOL_GLINKSETTINGS;
    s->link_mode_masks_nwords = nwords;
    err = Ioctl(sock_fd, ifname, words);
    if (err == 0 && s->link_mode_masks_nwords > 0) return Convert(s->speed, s->duplex);
  }
  if (err == ENODEV) return base::NotFoundError("no interface " + ifname);
  ethtool_cmd cmd{};
  cmd.cmd = ETHTOOL_GSET;
  err = Ioctl(sock_fd, ifname, &cmd);
  if (err == 0) return Convert(ethtool_cmd_speed(&cmd), cmd.duplex);
  if (err == EOPNOTSUPP) return base::UnimplementedError(ifname + ": no ethtool link settings");
  return base::ErrnoError("SIOCETHTOOL " + ifname, err);
}

}  // namespace xflowd::hal::rtnl
