#include "tools/xflowdump/sequence_tracker.h"

namespace xflowd::tools::xflowdump {

SequenceTracker::Observation SequenceTracker::Observe(uint32_t seq, bool restarted) {
  Observation o;
  if (!started_) {
    started_ = true;
    last_ = seq;
    return o;  // kFirst
  }
  const uint32_t ahead = seq - last_;  // modulo 2^32
  const uint32_t behind = last_ - seq;
  if (ahead == 1 && !restarted) {
    o.step = Step::kNext;
  } else if (ahead == 0 && !restarted) {
    o.step = Step::kDuplicate;
    return o;  // last_ unchanged
  } else if (!restarted && ahead < kMaxGap && seq > 1) {
    o.step = Step::kGap;
    o.missing = ahead - 1;
  } else if (!restarted && behind < kLateWindow && seq > 1) {
    o.step = Step::kLate;
    return o;  // the stream is still at last_
  } else {
    o.step = Step::kReset;
  }
  last_ = seq;
  return o;
}

void Count(const SequenceTracker::Observation& o, SequenceCounts* counts) {
  using Step = SequenceTracker::Step;
  if (o.step == Step::kFirst) return;
  ++counts->checked;
  switch (o.step) {
    case Step::kGap:
      ++counts->gaps;
      counts->missing += o.missing;
      break;
    case Step::kDuplicate:
      ++counts->duplicates;
      break;
    case Step::kLate:
      ++counts->late;
      if (counts->missing > 0) --counts->missing;
      break;
    case Step::kReset:
      ++counts->resets;
      break;
    default:
      break;
  }
}

}  // namespace xflowd::tools::xflowdump
