// TcSamplingControl: 1-in-N sampling on Linux ports with tc: a clsact qdisc, and per direction a
// matchall filter whose sample action sends 1-in-N packets to a psample group (read back by
// hal::psample::PsamplePacketSource). Switch ASIC drivers (mlxsw) offload the same filter.
//
// Control plane only: each call sends one or two rtnetlink requests (built by tc_netlink.h) on
// a raw NETLINK_ROUTE socket with extended ACKs and waits for the answer (poll with a timeout,
// no sleep). Errors name what is missing: a kernel without matchall or act_sample gets
// "tc classifier matchall is not available in this kernel (CONFIG_NET_CLS_MATCHALL)" or
// "tc action sample is not available in this kernel (CONFIG_NET_ACT_SAMPLE)".
//
// Ownership: a clsact qdisc that was already there (EEXIST) is never deleted, since other
// filters may hang off it; one we created goes away when our last filter on that port does.
// The destructor removes everything we added (best effort).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "hal/base/byte_view.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/sampling_control.h"
#include "hal/tc/tc_netlink.h"

namespace xflowd::hal::tc {

struct TcSamplingOptions {
  uint32_t ingress_group = 1;  // psample groups: keep in step with the PSAMPLE parser's mapping
  uint32_t egress_group = 2;
  uint16_t priority = 1000;
  uint32_t handle = 1;
  uint32_t matchall_flags = 0;  // kTcaClsFlagsSkipSw: hardware only (fail if not offloaded)
  int timeout_ms = 5000;        // waiting for the kernel's answer to one request
  // Where a failed read-back of the applied rate is reported (warning); null: not logged.
  base::Logger* logger = nullptr;
};

class TcSamplingControl final : public SamplingControl {
 public:
  // Opens a NETLINK_ROUTE socket (CAP_NET_ADMIN is needed for the requests, not to open it).
  static base::Result<std::unique_ptr<TcSamplingControl>> Create(
      const TcSamplingOptions& options = TcSamplingOptions());
  // Talks through an fd that is already open: a netlink socket in another namespace, or one end
  // of a socketpair whose other end plays the kernel in tests. Takes ownership of `fd`.
  static base::Result<std::unique_ptr<TcSamplingControl>> FromFd(
      int fd, const TcSamplingOptions& options = TcSamplingOptions());
  ~TcSamplingControl() override;
  TcSamplingControl(const TcSamplingControl&) = delete;
  TcSamplingControl& operator=(const TcSamplingControl&) = delete;

  // rate 0 removes the filter. header_bytes 0 = whole packets. Returns the rate applied, read
  // back from the kernel after the filter is in (RTM_GETTFILTER): an offloading driver may
  // round it. A kernel that does not answer the read-back (counted in readback_failures())
  // leaves the rate asked for, which it accepted. Errors: NOT_FOUND (no such device),
  // PERMISSION_DENIED (needs CAP_NET_ADMIN), UNAVAILABLE (kernel feature missing, named in the
  // message), INTERNAL otherwise.
  base::Result<uint32_t> SetSamplingRate(uint32_t ifindex, Direction direction, uint32_t rate,
                                         uint32_t header_bytes) override;
  // Removes every filter we added and every clsact qdisc we created. Returns the first error.
  base::Status RemoveAll();

  // The rate in force on ifindex/direction (0 = none).
  uint32_t applied_rate(uint32_t ifindex, Direction direction) const;
  // Filters whose rate could not be read back (the rate asked for was taken as applied).
  uint64_t readback_failures() const { return readback_failures_; }
  uint64_t unconfirmed_rates() const override { return readback_failures_; }

 private:
  struct Port {
    bool clsact_checked = false;  // AddClsact answered (ok or EEXIST)
    bool clsact_ours = false;     // we created it, so we delete it
    uint32_t rate[2] = {0, 0};    // installed filter rate per direction, 0 = none
  };
  TcSamplingControl(int fd, const TcSamplingOptions& options);
  // Sends one request and waits for its ACK; with `filter`, also keeps the RTM_NEWTFILTER that
  // answers it (*found says whether one came).
  base::Result<NetlinkAck> Transact(std::vector<uint8_t> request,
                                    AppliedSampleFilter* filter = nullptr, bool* found = nullptr);
  // The rate the kernel reports for our filter on ifindex/direction; `asked` if it cannot say.
  uint32_t ReadBackRate(uint32_t ifindex, Direction direction, uint32_t asked);
  SampleFilter FilterFor(uint32_t ifindex, Direction direction) const;
  base::Status RemoveFilter(uint32_t ifindex, Direction direction, Port& port);
  base::Status MaybeRemoveClsact(uint32_t ifindex, Port& port);

  int fd_;
  TcSamplingOptions options_;
  uint32_t seq_ = 0;
  std::map<uint32_t, Port> ports_;
  std::vector<uint8_t> rx_;
  uint64_t readback_failures_ = 0;
};

}  // namespace xflowd::hal::tc
