#include "hal/capfile/capture_map.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "hal/capfile/mapped_file_source.h"
#include "tests/support/frames.h"
#include "tests/support/temp_dir.h"

namespace xflowd::hal::capfile {
namespace {

using ::testing::HasSubstr;
using xflowd::testing::Bytes;
using xflowd::testing::Ethernet;
using xflowd::testing::Ipv4Udp;
using xflowd::testing::PcapFile;

constexpr uint32_t kLinkEthernet = 1;
constexpr uint32_t kLinkRaw = 101;
const Bytes kPayload = {1, 2, 3, 4, 5};

// A pcapng file in memory, little- or big-endian.
class Pcapng {
 public:
  explicit Pcapng(bool little_endian = true) : le_(little_endian) { Section(); }

  Pcapng& Section() {
    Block(0x0A0D0D0A, [&](Bytes& b) {
      W(b, 0x1A2B3C4D);
      H(b, 1);
      H(b, 0);
      W(b, 0xFFFFFFFF);
      W(b, 0xFFFFFFFF);
    });
    return *this;
  }
  // tsresol: -1 = none (microseconds); else the option's byte.
  Pcapng& Interface(uint16_t link_type, int tsresol = -1, uint32_t snaplen = 0) {
    Block(1, [&](Bytes& b) {
      H(b, link_type);
      H(b, 0);
      W(b, snaplen);
      if (tsresol >= 0) {
        H(b, 9);
        H(b, 1);
        b.push_back(static_cast<uint8_t>(tsresol));
        b.insert(b.end(), 3, 0);
        H(b, 0);  // opt_endofopt
        H(b, 0);
      }
    });
    return *this;
  }
  Pcapng& Packet(uint32_t interface, uint64_t ticks, const Bytes& frame, uint32_t orig = 0) {
    Block(6, [&](Bytes& b) {
      W(b, interface);
      W(b, static_cast<uint32_t>(ticks >> 32));
      W(b, static_cast<uint32_t>(ticks));
      W(b, static_cast<uint32_t>(frame.size()));
      W(b, orig ? orig : static_cast<uint32_t>(frame.size()));
      b.insert(b.end(), frame.begin(), frame.end());
      b.resize((b.size() + 3) & ~size_t{3}, 0);
    });
    return *this;
  }
  Pcapng& Simple(const Bytes& frame, uint32_t orig) {
    Block(3, [&](Bytes& b) {
      W(b, orig);
      b.insert(b.end(), frame.begin(), frame.end());
      b.resize((b.size() + 3) & ~size_t{3}, 0);
    });
    return *this;
  }
  Pcapng& Other(uint32_t type) {
    Block(type, [&](Bytes& b) { W(b, 0x12345678); });
    return *this;
  }
  const Bytes& bytes() const { return out_; }

 private:
  template <typename F>
  void Block(uint32_t type, F body) {
    Bytes b;
    body(b);
    const auto len = static_cast<uint32_t>(b.size() + 12);
    W(out_, type);
    W(out_, len);
    out_.insert(out_.end(), b.begin(), b.end());
    W(out_, len);
  }
  void W(Bytes& b, uint32_t v) {
    if (le_) {
      xflowd::testing::PutLe32(b, v);
    } else {
      xflowd::testing::Put32(b, v);
    }
  }
  void H(Bytes& b, uint16_t v) {
    if (le_) {
      b.push_back(static_cast<uint8_t>(v));
      b.push_back(static_cast<uint8_t>(v >> 8));
    } else {
      xflowd::testing::Put16(b, v);
    }
  }
  bool le_;
  Bytes out_;
};

std::unique_ptr<CaptureMap> Map(const Bytes& bytes) {
  auto r = CaptureMap::FromBytes(base::ByteView(bytes.data(), bytes.size()), "t");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::string MapError(const Bytes& bytes) {
  auto r = CaptureMap::FromBytes(base::ByteView(bytes.data(), bytes.size()), "t");
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}

std::vector<CaptureRecord> ReadAll(CaptureMap& m, std::string* error = nullptr) {
  std::vector<CaptureRecord> out;
  CaptureRecord rec;
  for (;;) {
    auto more = m.Next(&rec);
    if (!more.ok()) {
      if (error) *error = more.status().message();
      break;
    }
    if (!*more) break;
    out.push_back(rec);
  }
  return out;
}

TEST(CaptureMapTest, ClassicBothByteOrdersMicroAndNano) {
  const Bytes frame = Ethernet(0x0800, Ipv4Udp("192.0.2.1", "192.0.2.2", 1, 53, kPayload));
  for (bool le : {true, false}) {
    for (bool nano : {false, true}) {
      PcapFile w(kLinkEthernet, le, nano);
      w.Add(1767225600, 250000, frame, 1500);
      w.Add(1767225601, 5, {0xaa, 0xbb});
      auto m = Map(w.bytes());
      ASSERT_NE(m, nullptr);
      EXPECT_FALSE(m->pcapng());
      EXPECT_EQ(m->nanosecond(), nano);
      EXPECT_EQ(m->link_type(), kLinkEthernet);
      auto recs = ReadAll(*m);
      ASSERT_EQ(recs.size(), 2u) << le << nano;
      const int64_t mult = nano ? 1 : 1000;
      EXPECT_EQ(recs[0].time_ns, 1767225600000000000 + 250000 * mult);
      EXPECT_EQ(recs[0].original_length, 1500u);
      EXPECT_EQ(Bytes(recs[0].data.begin(), recs[0].data.end()), frame);
      EXPECT_EQ(recs[1].time_ns, 1767225601000000000 + 5 * mult);
      EXPECT_EQ(recs[1].data.size(), 2u);
      // Zero copy: the view points into the caller's bytes.
      EXPECT_GE(recs[1].data.data(), w.bytes().data());
      EXPECT_LT(recs[1].data.data(), w.bytes().data() + w.bytes().size());
      EXPECT_FALSE(m->truncated());
    }
  }
}

TEST(CaptureMapTest, ClassicCutAndCorruptAsTheStreamReader) {
  PcapFile w(kLinkEthernet);
  w.Add(1, 0, Bytes(100, 0));
  w.Add(2, 0, Bytes(100, 0));
  Bytes cut = w.bytes();
  cut.resize(cut.size() - 10);  // inside the second record's data
  auto m = Map(cut);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(ReadAll(*m).size(), 1u);
  EXPECT_TRUE(m->truncated());
  cut.resize(24 + 116 + 7);  // inside the second record's header
  m = Map(cut);
  EXPECT_EQ(ReadAll(*m).size(), 1u);
  EXPECT_TRUE(m->truncated());

  Bytes bad = w.bytes();
  xflowd::testing::PutLe32(bad, 3);
  xflowd::testing::PutLe32(bad, 0);
  xflowd::testing::PutLe32(bad, 0x7FFFFFFF);
  xflowd::testing::PutLe32(bad, 0x7FFFFFFF);
  m = Map(bad);
  std::string error;
  EXPECT_EQ(ReadAll(*m, &error).size(), 2u);
  EXPECT_THAT(error, HasSubstr("record 3 claims 2147483647 captured bytes"));
}

TEST(CaptureMapTest, RejectsWhatIsNoCapture) {
  EXPECT_THAT(MapError({}), HasSubstr("too short to be a pcap file"));
  const std::string http = "GET / HTTP/1.1\r\n\r\n......";
  EXPECT_THAT(MapError(Bytes(http.begin(), http.end())), HasSubstr("not a pcap or pcapng file"));
  Bytes header = PcapFile(kLinkEthernet).bytes();
  EXPECT_THAT(MapError(Bytes(header.begin(), header.begin() + 10)),
              HasSubstr("file header cut short"));
  header[4] = 3;
  EXPECT_THAT(MapError(header), HasSubstr("pcap version 3"));
  Bytes ng = Pcapng().bytes();
  ng[8] = 0x99;  // byte-order magic
  EXPECT_THAT(MapError(ng), HasSubstr("byte-order magic"));
}

TEST(CaptureMapTest, PcapngBothByteOrdersInterfacesAndResolutions) {
  const Bytes a = Ethernet(0x0800, Ipv4Udp("10.0.0.1", "10.0.0.2", 7, 53, kPayload));
  const Bytes b = Ipv4Udp("10.0.0.3", "10.0.0.4", 8, 53, kPayload);
  for (bool le : {true, false}) {
    Pcapng f(le);
    f.Interface(kLinkEthernet)                    // microseconds
        .Other(4)                                 // a name resolution block: skipped
        .Interface(kLinkRaw, 9)                   // nanoseconds
        .Interface(kLinkEthernet, 0x80 | 10, 64)  // 2^-10 s, snaplen 64
        .Packet(0, uint64_t{1767225600} * 1000000 + 7, a, 1000)
        .Packet(1, uint64_t{1767225601} * 1000000000 + 3, b)
        .Packet(2, (uint64_t{5} << 10) | 512, a)
        .Simple(a, static_cast<uint32_t>(a.size()))
        .Other(5);  // interface statistics
    auto m = Map(f.bytes());
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(m->pcapng());
    EXPECT_EQ(m->link_type(), kLinkEthernet);
    std::string error;
    auto recs = ReadAll(*m, &error);
    EXPECT_EQ(error, "");
    ASSERT_EQ(recs.size(), 4u) << le;
    EXPECT_EQ(recs[0].time_ns, (int64_t{1767225600} * 1000000 + 7) * 1000);
    EXPECT_EQ(recs[0].original_length, 1000u);
    EXPECT_EQ(recs[0].interface, 0u);
    EXPECT_EQ(Bytes(recs[0].data.begin(), recs[0].data.end()), a);
    EXPECT_EQ(recs[1].time_ns, int64_t{1767225601} * 1000000000 + 3);
    EXPECT_EQ(recs[1].interface, 1u);
    EXPECT_EQ(recs[1].link_type, kLinkRaw);
    EXPECT_EQ(Bytes(recs[1].data.begin(), recs[1].data.end()), b);
    EXPECT_EQ(recs[2].time_ns, int64_t{5} * 1000000000 + 500000000);
    EXPECT_EQ(recs[2].interface, 2u);
    // The SPB: interface 0's link type, no time of its own (the previous packet's), the
    // frame without the block's padding (interface 0 has no snaplen).
    EXPECT_EQ(recs[3].interface, 0u);
    EXPECT_EQ(recs[3].time_ns, recs[2].time_ns);
    EXPECT_EQ(recs[3].original_length, a.size());
    EXPECT_EQ(recs[3].data.size(), a.size());
  }
}

TEST(CaptureMapTest, PcapngANewSectionMayChangeByteOrderAndResetsInterfaces) {
  const Bytes a = Ipv4Udp("10.0.0.1", "10.0.0.2", 7, 53, kPayload);
  Pcapng first(true);
  first.Interface(kLinkRaw).Packet(0, 1000000, a);
  Pcapng second(false);
  second.Interface(kLinkEthernet, 9).Packet(0, 2000000000, Ethernet(0x0800, a));
  Bytes both = first.bytes();
  both.insert(both.end(), second.bytes().begin(), second.bytes().end());
  auto m = Map(both);
  ASSERT_NE(m, nullptr);
  auto recs = ReadAll(*m);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].link_type, kLinkRaw);
  EXPECT_EQ(recs[0].time_ns, 1000000000);
  EXPECT_EQ(recs[1].link_type, kLinkEthernet);
  EXPECT_EQ(recs[1].time_ns, 2000000000);
}

TEST(CaptureMapTest, PcapngCutAndCorruptBlocks) {
  const Bytes a = Ipv4Udp("10.0.0.1", "10.0.0.2", 7, 53, kPayload);
  Pcapng f;
  f.Interface(kLinkRaw).Packet(0, 1, a).Packet(0, 2, a);
  // Cut inside the last block: the first packet, then truncated().
  Bytes cut = f.bytes();
  cut.resize(cut.size() - 5);
  auto m = Map(cut);
  ASSERT_NE(m, nullptr);
  std::string error;
  EXPECT_EQ(ReadAll(*m, &error).size(), 1u);
  EXPECT_EQ(error, "");
  EXPECT_TRUE(m->truncated());

  // The trailing length of the second packet's block differs from the leading one.
  Bytes bad = f.bytes();
  bad[bad.size() - 4] ^= 0x40;
  m = Map(bad);
  EXPECT_EQ(ReadAll(*m, &error).size(), 1u);
  EXPECT_THAT(error, HasSubstr("record 2 is in a pcapng block whose two lengths differ"));

  // A packet on an interface no IDB described.
  Pcapng g;
  g.Interface(kLinkRaw).Packet(3, 1, a);
  m = Map(g.bytes());
  EXPECT_EQ(ReadAll(*m, &error).size(), 0u);
  EXPECT_THAT(error, HasSubstr("interface 3, which no IDB described"));

  // A block length that cannot be right.
  Bytes odd = f.bytes();
  odd[28 + 20 + 4] = 13;  // the first EPB's length (after SHB 28, IDB 20 bytes), little-endian
  m = Map(odd);
  EXPECT_EQ(ReadAll(*m, &error).size(), 0u);
  EXPECT_THAT(error, HasSubstr("pcapng block of length"));
}

TEST(MappedFileSourceTest, SamplesCarryLinkTypeIfindexAndTimeAndStopAtTheCut) {
  const Bytes a = Ipv4Udp("10.0.0.1", "10.0.0.2", 7, 53, kPayload);
  Pcapng f;
  f.Interface(kLinkEthernet).Interface(kLinkRaw, 9);
  f.Packet(0, 5, Ethernet(0x0800, a), 300).Packet(1, 7, a).Packet(1, 8, a);
  Bytes cut = f.bytes();
  cut.resize(cut.size() - 3);
  struct Sink : PacketSampleSink {
    void OnSample(const PacketSample& s) override { got.push_back(s); }
    std::vector<PacketSample> got;
  } sink;
  MappedFileOptions o;
  o.ifindex = 10;
  auto src = MappedFileSource::FromBytes(base::ByteView(cut.data(), cut.size()), "t", o);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  while (!(*src)->done()) (*src)->Drain(sink, 1);
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[0].input_ifindex, 10u);
  EXPECT_EQ(sink.got[0].link_type, LinkType::kEthernet);
  EXPECT_EQ(sink.got[0].frame_length, 300u);
  EXPECT_EQ(sink.got[0].timestamp.ns(), 5000);
  EXPECT_EQ(sink.got[1].input_ifindex, 11u);
  EXPECT_EQ(sink.got[1].link_type, LinkType::kRawIp);
  EXPECT_EQ(sink.got[1].timestamp.ns(), 7);
  EXPECT_EQ((*src)->stats().parse_errors, 1u);
  EXPECT_THAT((*src)->read_error(), HasSubstr("ends in the middle of a record"));
  EXPECT_EQ((*src)->packets_read(), 2u);
}

TEST(MappedFileSourceTest, UnknownLinkTypesAreClearErrors) {
  auto user0 = MappedFileSource::FromBytes(
      base::ByteView(PcapFile(147).bytes().data(), PcapFile(147).bytes().size()), "u");
  // (the temporary bytes are only read during FromBytes: the header check fails there)
  ASSERT_FALSE(user0.ok());
  EXPECT_THAT(user0.status().message(), HasSubstr("link type 147 is not supported"));

  Pcapng f;
  f.Interface(kLinkRaw).Interface(147);
  f.Packet(0, 1, Ipv4Udp("10.0.0.1", "10.0.0.2", 7, 53, kPayload)).Packet(1, 2, {1, 2, 3});
  auto src = MappedFileSource::FromBytes(base::ByteView(f.bytes().data(), f.bytes().size()), "t");
  ASSERT_TRUE(src.ok());
  struct Count : PacketSampleSink {
    void OnSample(const PacketSample&) override { ++n; }
    int n = 0;
  } count;
  while (!(*src)->done()) (*src)->Drain(count, 10);
  EXPECT_EQ(count.n, 1);
  EXPECT_THAT((*src)->read_error(), HasSubstr("interface 1 has link type 147"));
}

TEST(MappedFileSourceTest, OpensFilesAndSaysWhatIsWrong) {
  testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto missing = MappedFileSource::Create(dir.File("nope.pcap"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), base::StatusCode::kNotFound);
  auto d = MappedFileSource::Create(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("is a directory"));
  const std::string path = dir.File("a.pcap");
  PcapFile w(kLinkRaw);
  w.Add(3, 4, Ipv4Udp("10.0.0.1", "10.0.0.2", 7, 53, kPayload));
  std::FILE* fp = std::fopen(path.c_str(), "wb");
  ASSERT_NE(fp, nullptr);
  std::fwrite(w.bytes().data(), 1, w.bytes().size(), fp);
  std::fclose(fp);
  auto src = MappedFileSource::Create(path);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  struct Count : PacketSampleSink {
    void OnSample(const PacketSample& s) override { t = s.timestamp.ns(); }
    int64_t t = 0;
  } c;
  while (!(*src)->done()) (*src)->Drain(c, 10);
  EXPECT_EQ(c.t, 3000004000);
  EXPECT_EQ((*src)->read_error(), "");
  const std::string empty = dir.File("empty");
  std::fclose(std::fopen(empty.c_str(), "wb"));
  auto e = MappedFileSource::Create(empty);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("too short"));
}

}  // namespace
}  // namespace xflowd::hal::capfile
