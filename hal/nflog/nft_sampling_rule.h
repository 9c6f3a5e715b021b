// Optional: xflowd installs its own nftables sampling rule for an NFLOG source, by running
// `nft -f -` with a small ruleset on stdin (nft is the supported interface to nftables; its
// netlink protocol is not stable enough to speak directly). The rule lives in its own table,
// netdev family, so removing it is one `delete table` and never touches anyone else's rules:
//
//   table netdev xflowd_<dev> {
//     chain sample_ingress {
//       type filter hook ingress device "<dev>" priority -500;
//       numgen random mod <N> == 0 log group <G> [snaplen <S>] [queue-threshold <Q>]
//     }
//   }
//
// Direction::kEgress uses `hook egress` (kernel 5.16+). nft runs in the network namespace of
// the calling thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "hal/base/status.h"
#include "hal/packet_sample.h"

namespace xflowd::hal::nflog {

struct NftRuleOptions {
  std::string device;  // interface name (letters, digits, - _ . only; < 16 chars)
  Direction direction = Direction::kIngress;
  uint32_t sampling_rate = 1;    // N: numgen random mod N == 0
  uint16_t group = 0;            // log group
  uint32_t snaplen = 0;          // 0 = no snaplen clause
  uint32_t queue_threshold = 0;  // 0 = none
  int priority = -500;
  std::string nft_path = "nft";
};

// The table's name for this device/direction: "xflowd_<dev>" or "xflowd_egress_<dev>".
std::string NftTableName(const NftRuleOptions& options);
// The ruleset Install() feeds to nft: first an (empty) declaration and a delete of the table,
// so re-installing atomically replaces the old rule, then the table. INVALID_ARGUMENT for a
// bad device name or rate 0.
base::Result<std::string> BuildNftRuleset(const NftRuleOptions& options);

class NftSamplingRule {
 public:
  static base::Result<std::unique_ptr<NftSamplingRule>> Install(const NftRuleOptions& options);
  // Removes the table (errors ignored; call Remove() to see them).
  ~NftSamplingRule();
  base::Status Remove();

 private:
  explicit NftSamplingRule(NftRuleOptions o) : options_(std::move(o)) {}
  NftRuleOptions options_;
  bool installed_ = true;
};

// Runs `nft_path -f -` with `script` on stdin; the error names nft's stderr.
base::Status RunNft(const std::string& nft_path, const std::string& script);

}  // namespace xflowd::hal::nflog
