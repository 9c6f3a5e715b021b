#include "agent/flow/flow_partition.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

namespace xflowd::agent::flow {

using exporter::netflow::FlowRecord;
using exporter::netflow::FlowRecordSink;

static_assert(std::is_trivially_copyable<FlowMeterStats>::value &&
                  sizeof(FlowMeterStats) % sizeof(uint64_t) == 0,
              "FlowPartition mirrors FlowMeterStats word by word");

std::vector<uint32_t> PartitionSizes(uint32_t total, uint32_t parts) {
  std::vector<uint32_t> out(parts, 0);
  for (uint32_t i = 0; i < parts; ++i) out[i] = total / parts + (i < total % parts ? 1 : 0);
  return out;
}

FlowRecordRing::FlowRecordRing(size_t blocks) : blocks_(std::max<size_t>(blocks, 2)) {}

bool FlowRecordRing::AcquireFree() {
  const uint64_t n = produced_.load(std::memory_order_relaxed);
  if (n - consumed_.load(std::memory_order_acquire) >= blocks_.size()) return false;
  filling_ = &blocks_[n % blocks_.size()];
  filling_->count = 0;
  return true;
}

bool FlowRecordRing::Push(const FlowRecord& r) {
  if (filling_ == nullptr && !AcquireFree()) return false;
  filling_->records[filling_->count] = r;
  if (++filling_->count == kBlockRecords) Publish();
  return true;
}

bool FlowRecordRing::Publish() {
  if (filling_ == nullptr || filling_->count == 0) return false;
  produced_.store(produced_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  filling_ = nullptr;  // the next Push takes a free block (or reports none)
  return true;
}

size_t FlowRecordRing::Drain(FlowRecordSink& sink, size_t budget) {
  size_t handed = 0;
  uint64_t c = consumed_.load(std::memory_order_relaxed);
  while (handed < budget && c < produced_.load(std::memory_order_acquire)) {
    const Block& b = blocks_[c % blocks_.size()];
    while (pos_ < b.count && handed < budget) {
      sink.OnFlow(b.records[pos_++]);
      ++handed;
    }
    if (pos_ < b.count) break;
    pos_ = 0;
    consumed_.store(++c, std::memory_order_release);
  }
  return handed;
}

bool FlowRecordRing::empty() const {
  return consumed_.load(std::memory_order_relaxed) == produced_.load(std::memory_order_acquire);
}

void FlowPartition::Writer::OnFlow(const FlowRecord& r) {
  while (!p_.ring_.Push(r)) {
    ++p_.ring_waits_;
    if (!p_.wait_()) {
      ++p_.ring_lost_;
      return;
    }
  }
  ++p_.records_;
}

FlowPartition::FlowPartition(const FlowMeterOptions& options, int64_t unix_offset_ms,
                             size_t ring_blocks, Wait wait)
    : unix_offset_ms_(unix_offset_ms), ring_(ring_blocks), wait_(std::move(wait)) {
  for (auto& w : mirror_) w.store(0, std::memory_order_relaxed);
  meter_ = std::make_unique<FlowMeter>(options, writer_);
  meter_->set_unix_offset_ms(unix_offset_ms_);
  Publish();
}

void FlowPartition::Publish() {
  meter_->FlushPending();
  ring_.Publish();
  FlowMeterStats s = earlier_;
  AddMeterStats(s, meter_->stats());
  uint64_t words[kMirrorWords];
  std::memcpy(words, &s, sizeof(s));
  for (size_t i = 0; i < kMirrorWords; ++i) mirror_[i].store(words[i], std::memory_order_relaxed);
  capacity_.store(meter_->cache().capacity(), std::memory_order_relaxed);
  memory_.store(meter_->cache().memory_bytes(), std::memory_order_relaxed);
  records_pub_.store(records_, std::memory_order_relaxed);
  waits_pub_.store(ring_waits_, std::memory_order_relaxed);
  lost_pub_.store(ring_lost_, std::memory_order_relaxed);
}

void FlowPartition::Tick(hal::base::MonoTime now) {
  meter_->Tick(now);
  Publish();
}

void FlowPartition::Flush(hal::base::MonoTime now) {
  meter_->Flush(now);
  Publish();
}

void FlowPartition::SetTimeouts(const FlowCacheOptions& options) {
  meter_->SetTimeouts(options);
  Publish();
}

void FlowPartition::Replace(hal::base::MonoTime now, const FlowMeterOptions& options) {
  meter_->Flush(now);
  AddMeterStats(earlier_, meter_->stats());
  earlier_.active_flows = 0;  // the flushed cache holds none
  meter_.reset();             // its memory goes before the new cache takes its own
  meter_ = std::make_unique<FlowMeter>(options, writer_);
  meter_->set_unix_offset_ms(unix_offset_ms_);
  Publish();
}

FlowPartitionStats FlowPartition::stats() const {
  FlowPartitionStats s;
  uint64_t words[kMirrorWords];
  for (size_t i = 0; i < kMirrorWords; ++i) words[i] = mirror_[i].load(std::memory_order_relaxed);
  std::memcpy(&s.meter, words, sizeof(s.meter));
  s.capacity = capacity_.load(std::memory_order_relaxed);
  s.memory_bytes = memory_.load(std::memory_order_relaxed);
  s.records = records_pub_.load(std::memory_order_relaxed);
  s.ring_waits = waits_pub_.load(std::memory_order_relaxed);
  s.ring_lost = lost_pub_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace xflowd::agent::flow
