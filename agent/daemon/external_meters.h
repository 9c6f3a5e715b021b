// ExternalMeters: flow meters that run off the loop thread, each with its own partition of
// the flow cache (the live probe's AF_PACKET fanout workers, docs/decisions.md D58). The
// FlowProbe keeps the one exporter per collector and feeds it the records these meters
// finished; the meters' threads never touch an exporter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/flow/flow_meter.h"
#include "exporter/netflow/flow_record.h"
#include "hal/base/status.h"
#include "hal/base/time.h"

namespace xflowd::agent::daemon {

class ExternalMeters {
 public:
  virtual ~ExternalMeters() = default;

  // Control plane, once: starts metering with options.cache.capacity flows split over the
  // partitions (their sizes add up to it); records carry Unix ms = flow time + unix_offset_ms.
  // Finished records wait until DrainRecords (loop thread) hands them to `sink`, which must
  // outlive the meters. An error (a cache smaller than the partitions) starts nothing.
  virtual hal::base::Status Start(const flow::FlowMeterOptions& options, int64_t unix_offset_ms,
                                  exporter::netflow::FlowRecordSink& sink) = 0;
  // Loop thread: hands up to `budget` finished records to the sink. Returns how many.
  virtual size_t DrainRecords(size_t budget) = 0;
  // Loop thread, control plane: every partition ends all its flows at `now`; the records have
  // reached the sink when it returns. `stop`: the partitions meter no packet after this
  // (shutdown).
  virtual void Flush(hal::base::MonoTime now, bool stop) = 0;
  // Reload: new timeouts for the cached flows and new ones, in every partition.
  virtual void SetTimeouts(const flow::FlowCacheOptions& options) = 0;
  // Reload: every partition ends all its flows (to the sink, before it returns) and meters on
  // with its share of options.cache.capacity.
  virtual hal::base::Status Replace(hal::base::MonoTime now,
                                    const flow::FlowMeterOptions& options) = 0;

  // The partitions' counters added up (the meters Replace ended included).
  virtual flow::FlowMeterStats meter_stats() const = 0;
  virtual uint64_t capacity() const = 0;     // flows, all partitions
  virtual size_t memory_bytes() const = 0;   // the partitions' caches
  virtual std::string Describe() const = 0;  // "2 partitions: 131072 + 131072 = 262144 flows"
};

}  // namespace xflowd::agent::daemon
