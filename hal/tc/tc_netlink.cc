#include "hal/tc/tc_netlink.h"

#include <arpa/inet.h>

#include <cstring>

#include "hal/netlink_wire.h"

namespace xflowd::hal::tc {
namespace {

using netlink::Align4;
using netlink::kNlaHdrLen;
using netlink::kNlmsgHdrLen;
using netlink::LoadHost;

constexpr uint16_t kNlmsgError = 2;
constexpr uint16_t kNlmsgDone = 3;
constexpr uint16_t kNlmFCapped = 0x100;   // NLM_F_CAPPED (in an ACK)
constexpr uint16_t kNlmFAckTlvs = 0x200;  // NLM_F_ACK_TLVS (in an ACK)
constexpr uint16_t kNlmsgerrAttrMsg = 1;  // NLMSGERR_ATTR_MSG
constexpr uint16_t kNlaFNested = 0x8000;
constexpr uint16_t kNlaTypeMask = 0x3FFF;
constexpr uint16_t kTcaKind = 1;
constexpr uint16_t kTcaOptions = 2;
constexpr uint16_t kTcaMatchallAct = 2;
constexpr uint16_t kTcaMatchallFlags = 3;
constexpr uint16_t kTcaActKind = 1;
constexpr uint16_t kTcaActOptions = 2;
constexpr uint16_t kTcaSampleParms = 2;
constexpr uint16_t kTcaSampleRate = 3;
constexpr uint16_t kTcaSampleTruncSize = 4;
constexpr uint16_t kTcaSamplePsampleGroup = 5;
constexpr uint16_t kTcaChain = 11;
constexpr int32_t kTcActPipe = 3;
constexpr uint16_t kEthPAll = 0x0003;

// Host-byte-order netlink message writer (control plane: a growing vector is fine).
class Msg {
 public:
  Msg(uint16_t type, uint16_t flags, uint32_t seq) {
    Put<uint32_t>(0);  // nlmsg_len, set by Finish
    Put<uint16_t>(type);
    Put<uint16_t>(flags);
    Put<uint32_t>(seq);
    Put<uint32_t>(0);  // nlmsg_pid: 0 = to the kernel
  }
  template <typename T>
  void Put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b_.insert(b_.end(), p, p + sizeof(v));
  }
  void Tcmsg(uint32_t ifindex, uint32_t handle, uint32_t parent, uint32_t info) {
    Put<uint8_t>(0);  // tcm_family AF_UNSPEC
    Put<uint8_t>(0);
    Put<uint16_t>(0);
    Put<int32_t>(static_cast<int32_t>(ifindex));
    Put<uint32_t>(handle);
    Put<uint32_t>(parent);
    Put<uint32_t>(info);
  }
  void Attr(uint16_t type, const void* p, size_t n) {
    Put<uint16_t>(static_cast<uint16_t>(4 + n));
    Put<uint16_t>(type);
    const auto* q = static_cast<const uint8_t*>(p);
    b_.insert(b_.end(), q, q + n);
    b_.resize(Align4(b_.size()), 0);
  }
  template <typename T>
  void AttrValue(uint16_t type, T v) {
    Attr(type, &v, sizeof(v));
  }
  void AttrString(uint16_t type, const char* s) { Attr(type, s, std::strlen(s) + 1); }
  size_t BeginNest(uint16_t type) {
    const size_t at = b_.size();
    Put<uint16_t>(0);
    Put<uint16_t>(static_cast<uint16_t>(type | kNlaFNested));
    return at;
  }
  void EndNest(size_t at) {
    const auto len = static_cast<uint16_t>(b_.size() - at);
    std::memcpy(b_.data() + at, &len, 2);
  }
  std::vector<uint8_t> Finish() {
    const auto len = static_cast<uint32_t>(b_.size());
    std::memcpy(b_.data(), &len, 4);
    return std::move(b_);
  }

 private:
  std::vector<uint8_t> b_;
};

uint32_t FilterParent(Direction d) {
  return d == Direction::kIngress ? kTcHClsactIngress : kTcHClsactEgress;
}
// TC_H_MAKE(prio << 16, htons(ETH_P_ALL)), as iproute2 fills tcm_info.
uint32_t FilterInfo(uint16_t priority) { return (uint32_t{priority} << 16) | htons(kEthPAll); }

}  // namespace

std::vector<uint8_t> BuildAddClsactRequest(uint32_t ifindex, uint32_t seq) {
  Msg m(kRtmNewQdisc, kNlmFRequest | kNlmFAck | kNlmFCreate | kNlmFExcl, seq);
  m.Tcmsg(ifindex, kTcHClsactHandle, kTcHClsact, 0);
  m.AttrString(kTcaKind, "clsact");
  return m.Finish();
}

std::vector<uint8_t> BuildDeleteClsactRequest(uint32_t ifindex, uint32_t seq) {
  Msg m(kRtmDelQdisc, kNlmFRequest | kNlmFAck, seq);
  m.Tcmsg(ifindex, kTcHClsactHandle, kTcHClsact, 0);
  m.AttrString(kTcaKind, "clsact");
  return m.Finish();
}

std::vector<uint8_t> BuildAddSampleFilterRequest(const SampleFilter& f, uint32_t seq) {
  Msg m(kRtmNewTfilter, kNlmFRequest | kNlmFAck | kNlmFCreate | kNlmFReplace, seq);
  m.Tcmsg(f.ifindex, f.handle, FilterParent(f.direction), FilterInfo(f.priority));
  m.AttrString(kTcaKind, "matchall");
  const size_t options = m.BeginNest(kTcaOptions);
  const size_t acts = m.BeginNest(kTcaMatchallAct);
  const size_t act = m.BeginNest(1);  // the first (only) action in the list
  m.AttrString(kTcaActKind, "sample");
  const size_t act_options = m.BeginNest(kTcaActOptions);
  // struct tc_sample { tc_gen }: index, capab, action, refcnt, bindcnt.
  const int32_t parms[5] = {0, 0, kTcActPipe, 0, 0};
  m.Attr(kTcaSampleParms, parms, sizeof(parms));
  m.AttrValue<uint32_t>(kTcaSampleRate, f.rate);
  m.AttrValue<uint32_t>(kTcaSamplePsampleGroup, f.group);
  if (f.trunc_size != 0) m.AttrValue<uint32_t>(kTcaSampleTruncSize, f.trunc_size);
  m.EndNest(act_options);
  m.EndNest(act);
  m.EndNest(acts);
  if (f.matchall_flags != 0) m.AttrValue<uint32_t>(kTcaMatchallFlags, f.matchall_flags);
  m.EndNest(options);
  return m.Finish();
}

std::vector<uint8_t> BuildDeleteSampleFilterRequest(const SampleFilter& f, uint32_t seq) {
  Msg m(kRtmDelTfilter, kNlmFRequest | kNlmFAck, seq);
  m.Tcmsg(f.ifindex, f.handle, FilterParent(f.direction), FilterInfo(f.priority));
  m.AttrString(kTcaKind, "matchall");
  return m.Finish();
}

std::vector<uint8_t> BuildGetSampleFilterRequest(const SampleFilter& f, uint32_t seq) {
  Msg m(kRtmGetTfilter, kNlmFRequest | kNlmFAck, seq);
  m.Tcmsg(f.ifindex, f.handle, FilterParent(f.direction), FilterInfo(f.priority));
  m.AttrString(kTcaKind, "matchall");
  return m.Finish();
}

std::vector<uint8_t> BuildSampleFilterMessage(const SampleFilter& f, uint32_t seq, uint32_t flags) {
  Msg m(kRtmNewTfilter, 0, seq);
  m.Tcmsg(f.ifindex, f.handle, FilterParent(f.direction), FilterInfo(f.priority));
  m.AttrString(kTcaKind, "matchall");
  m.AttrValue<uint32_t>(kTcaChain, 0);
  const size_t options = m.BeginNest(kTcaOptions);
  const size_t acts = m.BeginNest(kTcaMatchallAct);
  const size_t act = m.BeginNest(1);
  m.AttrString(kTcaActKind, "sample");
  const size_t act_options = m.BeginNest(kTcaActOptions);
  const int32_t parms[5] = {1, 0, kTcActPipe, 1, 1};
  m.Attr(kTcaSampleParms, parms, sizeof(parms));
  m.AttrValue<uint32_t>(kTcaSampleRate, f.rate);
  if (f.trunc_size != 0) m.AttrValue<uint32_t>(kTcaSampleTruncSize, f.trunc_size);
  m.AttrValue<uint32_t>(kTcaSamplePsampleGroup, f.group);
  m.EndNest(act_options);
  m.EndNest(act);
  m.EndNest(acts);
  m.AttrValue<uint32_t>(kTcaMatchallFlags, flags);
  m.EndNest(options);
  return m.Finish();
}

namespace {

// Calls fn(type, payload, payload_len) for each attribute in [p, p + n); false if one is
// malformed (length below the header or past the end).
template <typename Fn>
bool ForEachAttr(const uint8_t* p, size_t n, Fn fn) {
  size_t off = 0;
  while (n - off >= kNlaHdrLen) {
    const uint16_t len = LoadHost<uint16_t>(p + off);
    const uint16_t type = LoadHost<uint16_t>(p + off + 2) & kNlaTypeMask;
    if (len < kNlaHdrLen || len > n - off) return false;
    if (!fn(type, p + off + kNlaHdrLen, size_t{len} - kNlaHdrLen)) return false;
    const size_t step = Align4(len);
    if (step >= n - off) break;
    off += step;
  }
  return true;
}

bool U32Attr(const uint8_t* v, size_t n, uint32_t* out) {
  if (n < 4) return false;
  *out = LoadHost<uint32_t>(v);
  return true;
}

bool KindIs(const uint8_t* v, size_t n, const char* kind) {
  const size_t k = std::strlen(kind);
  return n >= k && std::memcmp(v, kind, k) == 0 && (n == k || v[k] == 0);
}

// TCA_ACT_OPTIONS of a sample action.
bool ParseSampleOptions(const uint8_t* p, size_t n, AppliedSampleFilter* out) {
  bool rate = false;
  const bool ok = ForEachAttr(p, n, [&](uint16_t type, const uint8_t* v, size_t len) {
    if (type == kTcaSampleRate) rate = U32Attr(v, len, &out->rate);
    if (type == kTcaSamplePsampleGroup) (void)U32Attr(v, len, &out->group);
    if (type == kTcaSampleTruncSize) (void)U32Attr(v, len, &out->trunc_size);
    return true;
  });
  return ok && rate;
}

// TCA_MATCHALL_ACT: the action list, each entry nested under its position (1, 2, ...). The
// first "sample" action decides.
bool ParseActions(const uint8_t* p, size_t n, AppliedSampleFilter* out) {
  bool found = false;
  (void)ForEachAttr(p, n, [&](uint16_t, const uint8_t* v, size_t len) {
    bool sample = false;
    const uint8_t* opts = nullptr;
    size_t opts_len = 0;
    (void)ForEachAttr(v, len, [&](uint16_t type, const uint8_t* a, size_t alen) {
      if (type == kTcaActKind) sample = KindIs(a, alen, "sample");
      if (type == kTcaActOptions) {
        opts = a;
        opts_len = alen;
      }
      return true;
    });
    if (sample && opts != nullptr && ParseSampleOptions(opts, opts_len, out)) found = true;
    return !found;  // stop at the first sample action
  });
  return found;
}

}  // namespace

bool ParseSampleFilter(base::ByteView buf, uint32_t seq, AppliedSampleFilter* out) {
  constexpr size_t kTcmsgLen = 20;
  const uint8_t* p = buf.data();
  size_t off = 0;
  while (buf.size() - off >= kNlmsgHdrLen) {
    const uint32_t len = LoadHost<uint32_t>(p + off);
    const uint16_t type = LoadHost<uint16_t>(p + off + 4);
    const uint32_t mseq = LoadHost<uint32_t>(p + off + 8);
    if (len < kNlmsgHdrLen || len > buf.size() - off) return false;
    if (type == kRtmNewTfilter && mseq == seq && len >= kNlmsgHdrLen + kTcmsgLen) {
      const uint8_t* m = p + off + kNlmsgHdrLen;
      AppliedSampleFilter f;
      f.ifindex = static_cast<uint32_t>(LoadHost<int32_t>(m + 4));
      f.parent = LoadHost<uint32_t>(m + 12);
      bool matchall = false;
      bool sample = false;
      (void)ForEachAttr(m + kTcmsgLen, len - kNlmsgHdrLen - kTcmsgLen,
                        [&](uint16_t t, const uint8_t* v, size_t vlen) {
                          if (t == kTcaKind) matchall = KindIs(v, vlen, "matchall");
                          if (t == kTcaOptions) {
                            (void)ForEachAttr(v, vlen, [&](uint16_t o, const uint8_t* w, size_t n) {
                              if (o == kTcaMatchallAct) sample = ParseActions(w, n, &f);
                              if (o == kTcaMatchallFlags) (void)U32Attr(w, n, &f.flags);
                              return true;
                            });
                          }
                          return true;
                        });
      if (matchall && sample) {
        *out = f;
        return true;
      }
    }
    if (type == kNlmsgDone) return false;
    const size_t step = Align4(len);
    if (step >= buf.size() - off) break;
    off += step;
  }
  return false;
}

bool FindAck(base::ByteView buf, uint32_t seq, NetlinkAck* ack) {
  const uint8_t* p = buf.data();
  size_t off = 0;
  while (buf.size() - off >= kNlmsgHdrLen) {
    const uint32_t len = LoadHost<uint32_t>(p + off);
    const uint16_t type = LoadHost<uint16_t>(p + off + 4);
    const uint16_t flags = LoadHost<uint16_t>(p + off + 6);
    const uint32_t mseq = LoadHost<uint32_t>(p + off + 8);
    if (len < kNlmsgHdrLen || len > buf.size() - off) return false;
    if (type == kNlmsgError && mseq == seq && len >= kNlmsgHdrLen + 4) {
      ack->seq = mseq;
      ack->error = LoadHost<int32_t>(p + off + kNlmsgHdrLen);
      ack->ext_message.clear();
      // struct nlmsgerr: error, then the request's nlmsghdr (+ its payload unless capped).
      size_t tlv = kNlmsgHdrLen + 4 + kNlmsgHdrLen;
      if (!(flags & kNlmFCapped) && len >= tlv) {
        tlv = kNlmsgHdrLen + 4 + Align4(LoadHost<uint32_t>(p + off + kNlmsgHdrLen + 4));
      }
      if ((flags & kNlmFAckTlvs) && tlv <= len) {
        while (len - tlv >= 4) {
          const uint16_t alen = LoadHost<uint16_t>(p + off + tlv);
          const uint16_t atype = LoadHost<uint16_t>(p + off + tlv + 2) & kNlaTypeMask;
          if (alen < 4 || alen > len - tlv) break;
          if (atype == kNlmsgerrAttrMsg && alen > 4) {
            const char* s = reinterpret_cast<const char*>(p + off + tlv + 4);
            ack->ext_message.assign(s, strnlen(s, alen - 4));
          }
          tlv += Align4(alen);
          if (tlv > len) break;
        }
      }
      return true;
    }
    if (type == kNlmsgDone) return false;
    const size_t step = Align4(len);
    if (step >= buf.size() - off) break;
    off += step;
  }
  return false;
}

std::vector<uint8_t> BuildAck(base::ByteView request, int error, const std::string& ext_message) {
  uint8_t req_hdr[kNlmsgHdrLen] = {};
  std::memcpy(req_hdr, request.data(), request.size() < kNlmsgHdrLen ? request.size() : 16);
  uint32_t seq = 0;
  std::memcpy(&seq, req_hdr + 8, 4);
  uint16_t flags = kNlmFCapped;
  if (!ext_message.empty()) flags |= kNlmFAckTlvs;
  Msg m(kNlmsgError, flags, seq);
  m.Put<int32_t>(error);
  for (uint8_t b : req_hdr) m.Put<uint8_t>(b);
  if (!ext_message.empty()) m.AttrString(kNlmsgerrAttrMsg, ext_message.c_str());
  return m.Finish();
}

}  // namespace xflowd::hal::tc
