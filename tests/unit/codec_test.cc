// Specification tests for the pure wire codec (src/protocol/codec.h, command.h):
// framing, splitting at every byte, limits, malformed input, and the encoder.
#include "protocol/codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_queue.h"
#include "protocol/command.h"

namespace gearbox::protocol {
namespace {

using namespace std::string_literals;
using Status = DecodeResult::Status;

// An owned copy of a decoded item (decoder views die at the next Feed()).
struct Owned {
  Item::Kind kind = Item::Kind::kPacket;
  Magic magic = Magic::kRequest;
  Command command = Command::kText;
  std::vector<std::string> parts;
  std::string text;

  bool operator==(const Owned&) const = default;
};

Owned Own(const Item& item) {
  Owned o;
  o.kind = item.kind;
  if (item.kind == Item::Kind::kText) {
    o.text = std::string(item.text);
    return o;
  }
  o.magic = item.frame.magic;
  o.command = item.frame.command;
  for (size_t i = 0; i < item.frame.nparts; ++i)
    o.parts.emplace_back(item.frame.parts[i]);
  return o;
}

std::ostream& operator<<(std::ostream& os, const Owned& o) {
  if (o.kind == Item::Kind::kText) return os << "text[" << o.text << "]";
  os << (o.magic == Magic::kRequest ? "REQ " : "RES ") << Name(o.command) << "(";
  for (const auto& p : o.parts)
    os << '"' << p << "\" ";
  return os << ")";
}

Owned TextItem(std::string text) {
  Owned o;
  o.kind = Item::Kind::kText;
  o.text = std::move(text);
  return o;
}

// A valid packet of `type` with realistic parts: several arguments (the second one empty),
// and for data commands a blob with NULs in it.
struct Sample {
  std::string bytes;
  Owned expected;
};

Sample SamplePacket(uint32_t type) {
  const CommandInfo* info = Lookup(type);
  Sample s;
  s.expected.kind = Item::Kind::kPacket;
  s.expected.command = static_cast<Command>(type);
  s.expected.magic = info->request ? Magic::kRequest : Magic::kResponse;
  for (size_t i = 0; i < info->argc; ++i) {
    s.expected.parts.push_back(i == 1 ? ""
                                      : "arg" + std::to_string(i) + "-" + std::string(info->name));
  }
  if (info->data) s.expected.parts.push_back("da\0ta\0\0with NULs\0"s);
  std::string body;
  for (size_t i = 0; i < s.expected.parts.size(); ++i) {
    if (i > 0) body.push_back('\0');
    body += s.expected.parts[i];
  }
  s.bytes = s.expected.magic == Magic::kRequest ? "\0REQ"s : "\0RES"s;
  for (uint32_t v : {type, static_cast<uint32_t>(body.size())}) {
    s.bytes.push_back(static_cast<char>(v >> 24));
    s.bytes.push_back(static_cast<char>(v >> 16));
    s.bytes.push_back(static_cast<char>(v >> 8));
    s.bytes.push_back(static_cast<char>(v));
  }
  s.bytes += body;
  return s;
}

std::string Header(std::string_view magic, uint32_t type, uint32_t size) {
  std::string h(magic);
  for (uint32_t v : {type, size}) {
    h.push_back(static_cast<char>(v >> 24));
    h.push_back(static_cast<char>(v >> 16));
    h.push_back(static_cast<char>(v >> 8));
    h.push_back(static_cast<char>(v));
  }
  return h;
}

// Drains every item the decoder can give; fails the test on kSkip/kFatal.
void Drain(StreamDecoder& d, std::vector<Owned>* out) {
  for (;;) {
    Item item;
    DecodeResult r = d.Next(&item);
    if (r.status == Status::kNeedMore) return;
    ASSERT_EQ(r.status, Status::kItem) << ErrorName(r.error);
    out->push_back(Own(item));
  }
}

std::vector<Owned> FeedInPieces(std::string_view bytes, std::vector<size_t> cuts) {
  StreamDecoder d;
  std::vector<Owned> got;
  size_t at = 0;
  cuts.push_back(bytes.size());
  for (size_t cut : cuts) {
    d.Feed(bytes.substr(at, cut - at));
    Drain(d, &got);
    at = cut;
  }
  EXPECT_EQ(d.buffered(), 0u);
  return got;
}

// ---------------------------------------------------------------------------------------------
// The command table

TEST(CommandTable, HasARowForEveryTypeFromOneToFortyTwo) {
  for (uint32_t t = 1; t <= kMaxCommand; ++t) {
    const CommandInfo* info = Lookup(t);
    ASSERT_NE(info, nullptr) << t;
    EXPECT_FALSE(info->name.empty());
    EXPECT_EQ(Name(static_cast<Command>(t)), info->name);
    EXPECT_LE(info->parts(), kMaxParts) << info->name;
  }
}

TEST(CommandTable, TextAndTypesAboveFortyTwoHaveNoRow) {
  EXPECT_EQ(Lookup(0), nullptr);
  EXPECT_EQ(Lookup(43), nullptr);
  EXPECT_EQ(Lookup(UINT32_MAX), nullptr);
}

TEST(CommandTable, LayoutsMatchGearmand) {
  struct Row {
    Command c;
    uint8_t argc;
    bool data;
  };
  // gearmand-behaviour.md §1.2, with SUBMIT_REDUCE_JOB's real (4-argument) layout.
  for (Row r :
       {Row{Command::kCanDo, 1, false}, Row{Command::kSubmitJob, 2, true},
        Row{Command::kJobAssign, 2, true}, Row{Command::kWorkStatus, 3, false},
        Row{Command::kWorkComplete, 1, true}, Row{Command::kWorkFail, 1, false},
        Row{Command::kEchoReq, 0, true}, Row{Command::kError, 2, false},
        Row{Command::kStatusRes, 5, false}, Row{Command::kCanDoTimeout, 2, false},
        Row{Command::kWorkException, 1, true}, Row{Command::kJobAssignUniq, 3, true},
        Row{Command::kSubmitJobSched, 7, true}, Row{Command::kSubmitJobEpoch, 3, true},
        Row{Command::kSubmitReduceJob, 4, true}, Row{Command::kSubmitReduceJobBackground, 4, true},
        Row{Command::kJobAssignAll, 4, true}, Row{Command::kStatusResUnique, 6, false}}) {
    EXPECT_EQ(Info(r.c).argc, r.argc) << Name(r.c);
    EXPECT_EQ(Info(r.c).data, r.data) << Name(r.c);
  }
}

// ---------------------------------------------------------------------------------------------
// Every packet type, split at every position

class EveryPacketType : public ::testing::TestWithParam<uint32_t> {};

TEST_P(EveryPacketType, DecodesWholeIntoExactlyOneIdenticalFrame) {
  Sample s = SamplePacket(GetParam());
  Item item;
  DecodeResult r = Decode(s.bytes, Limits{}, &item);
  ASSERT_EQ(r.status, Status::kItem) << ErrorName(r.error);
  EXPECT_EQ(r.consumed, s.bytes.size());
  EXPECT_EQ(r.type, GetParam());
  EXPECT_EQ(Own(item), s.expected);
}

TEST_P(EveryPacketType, DecodesIdenticallyWhenSplitInTwoAtEveryPosition) {
  Sample s = SamplePacket(GetParam());
  for (size_t cut = 0; cut <= s.bytes.size(); ++cut) {
    std::vector<Owned> got = FeedInPieces(s.bytes, {cut});
    ASSERT_EQ(got.size(), 1u) << "cut at " << cut;
    EXPECT_EQ(got[0], s.expected) << "cut at " << cut;
  }
}

TEST_P(EveryPacketType, DecodesIdenticallyWhenFedByteByByte) {
  Sample s = SamplePacket(GetParam());
  std::vector<size_t> cuts;
  for (size_t i = 1; i < s.bytes.size(); ++i)
    cuts.push_back(i);
  std::vector<Owned> got = FeedInPieces(s.bytes, cuts);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], s.expected);
}

TEST_P(EveryPacketType, NeedsMoreUntilTheLastByteAndReportsTheTotal) {
  Sample s = SamplePacket(GetParam());
  for (size_t n = 0; n < s.bytes.size(); ++n) {
    Item item;
    DecodeResult r = Decode(std::string_view(s.bytes).substr(0, n), Limits{}, &item);
    ASSERT_EQ(r.status, Status::kNeedMore) << n;
    EXPECT_EQ(r.consumed, 0u);
    if (n == 0) continue;
    EXPECT_EQ(r.need, n < kHeaderSize ? kHeaderSize : s.bytes.size()) << n;
  }
}

TEST_P(EveryPacketType, EncoderProducesTheSameBytes) {
  Sample s = SamplePacket(GetParam());
  std::vector<std::string_view> v(s.expected.parts.begin(), s.expected.parts.end());
  // initializer_list needs a fixed arity: build the packet with the encoder part by part.
  std::string encoded;
  switch (v.size()) {
    case 0:
      encoded = EncodePacket(s.expected.magic, s.expected.command, {});
      break;
    case 1:
      encoded = EncodePacket(s.expected.magic, s.expected.command, {v[0]});
      break;
    case 2:
      encoded = EncodePacket(s.expected.magic, s.expected.command, {v[0], v[1]});
      break;
    case 3:
      encoded = EncodePacket(s.expected.magic, s.expected.command, {v[0], v[1], v[2]});
      break;
    case 4:
      encoded = EncodePacket(s.expected.magic, s.expected.command, {v[0], v[1], v[2], v[3]});
      break;
    case 5:
      encoded = EncodePacket(s.expected.magic, s.expected.command, {v[0], v[1], v[2], v[3], v[4]});
      break;
    case 6:
      encoded =
          EncodePacket(s.expected.magic, s.expected.command, {v[0], v[1], v[2], v[3], v[4], v[5]});
      break;
    case 8:
      encoded = EncodePacket(s.expected.magic, s.expected.command,
                             {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]});
      break;
    default:
      FAIL() << "no sample with " << v.size() << " parts";
  }
  EXPECT_EQ(encoded, s.bytes);
}

INSTANTIATE_TEST_SUITE_P(Decoder, EveryPacketType, ::testing::Range<uint32_t>(1, kMaxCommand + 1),
                         [](const ::testing::TestParamInfo<uint32_t>& i) {
                           return std::string(Lookup(i.param)->name);
                         });

// ---------------------------------------------------------------------------------------------
// Streams of several items

std::string MixedStream(std::vector<Owned>* expected) {
  std::string bytes;
  for (uint32_t t : {7u, 1u, 16u, 9u, 35u, 13u, 4u, 42u}) {
    if (t == 16) {
      bytes += "status\n";
      expected->push_back(TextItem("status"));
    }
    if (t == 9) {
      bytes += "show unique jobs\r\n";
      expected->push_back(TextItem("show unique jobs"));
    }
    Sample s = SamplePacket(t);
    bytes += s.bytes;
    expected->push_back(s.expected);
  }
  bytes += "version\r\n\n";
  expected->push_back(TextItem("version"));
  expected->push_back(TextItem(""));
  return bytes;
}

TEST(Decoder, DecodesPacketsAndTextLinesBackToBackSplitAtEveryPosition) {
  std::vector<Owned> expected;
  std::string bytes = MixedStream(&expected);
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    std::vector<Owned> got = FeedInPieces(bytes, {cut});
    ASSERT_EQ(got, expected) << "cut at " << cut;
  }
}

TEST(Decoder, DecodesPacketsAndTextLinesBackToBackInThreePieces) {
  std::vector<Owned> expected;
  std::string bytes = MixedStream(&expected);
  for (size_t a = 0; a <= bytes.size(); a += 7) {
    for (size_t b = a; b <= bytes.size(); b += 5) {
      ASSERT_EQ(FeedInPieces(bytes, {a, b}), expected) << a << "," << b;
    }
  }
}

TEST(Decoder, DecodesPacketsAndTextLinesBackToBackByteByByte) {
  std::vector<Owned> expected;
  std::string bytes = MixedStream(&expected);
  std::vector<size_t> cuts;
  for (size_t i = 1; i < bytes.size(); ++i)
    cuts.push_back(i);
  EXPECT_EQ(FeedInPieces(bytes, cuts), expected);
}

TEST(Decoder, DecodesAllItemsOfOneFeedWithoutAnotherFeed) {
  std::vector<Owned> expected;
  std::string bytes = MixedStream(&expected);
  StreamDecoder d;
  d.Feed(bytes);
  std::vector<Owned> got;
  Drain(d, &got);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(d.buffered(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Text lines

TEST(Decoder, TextLineEndsAtNewlineAndDropsOneCarriageReturn) {
  struct Case {
    std::string in;
    std::string text;
  };
  for (const Case& c : {Case{"status\n", "status"}, Case{"status\r\n", "status"}, Case{"\n", ""},
                        Case{"\r\n", ""}, Case{"a\r\r\n", "a\r"}, Case{" status\n", " status"},
                        Case{"a\rb\n", "a\rb"}, Case{"x\ty  z\n", "x\ty  z"}}) {
    Item item;
    DecodeResult r = Decode(c.in, Limits{}, &item);
    ASSERT_EQ(r.status, Status::kItem) << c.in;
    EXPECT_EQ(item.kind, Item::Kind::kText);
    EXPECT_EQ(item.text, c.text);
    EXPECT_EQ(r.consumed, c.in.size());
  }
}

TEST(Decoder, TextWithoutNewlineNeedsMore) {
  Item item;
  EXPECT_EQ(Decode("status", Limits{}, &item).status, Status::kNeedMore);
  EXPECT_EQ(Decode("status\r", Limits{}, &item).status, Status::kNeedMore);
}

TEST(Decoder, TextLineStopsAtTheFirstNewlineOnly) {
  Item item;
  DecodeResult r = Decode("a\nb\n", Limits{}, &item);
  ASSERT_EQ(r.status, Status::kItem);
  EXPECT_EQ(item.text, "a");
  EXPECT_EQ(r.consumed, 2u);
}

TEST(Decoder, AcceptsTextLineOfExactlyMaxLineIncludingTerminator) {
  Limits lim;
  lim.max_line = 16;
  std::string line(15, 'x');
  line += '\n';
  Item item;
  DecodeResult r = Decode(line, lim, &item);
  ASSERT_EQ(r.status, Status::kItem);
  EXPECT_EQ(item.text, std::string(15, 'x'));
}

TEST(Decoder, RejectsTextLineLongerThanMaxLine) {
  Limits lim;
  lim.max_line = 16;
  Item item;
  DecodeResult r = Decode(std::string(16, 'x') + "\n", lim, &item);
  EXPECT_EQ(r.status, Status::kFatal);
  EXPECT_EQ(r.error, DecodeError::kLineTooLong);
}

TEST(Decoder, RejectsEndlessTextLineAsSoonAsMaxLineBytesArrived) {
  Limits lim;
  lim.max_line = 16;
  Item item;
  EXPECT_EQ(Decode(std::string(15, 'x'), lim, &item).status, Status::kNeedMore);
  DecodeResult r = Decode(std::string(16, 'x'), lim, &item);
  EXPECT_EQ(r.status, Status::kFatal);
  EXPECT_EQ(r.error, DecodeError::kLineTooLong);
}

TEST(Decoder, DefaultMaxLineIs8KiB) {
  Item item;
  EXPECT_EQ(Decode(std::string(8 * 1024 - 1, 'x') + "\n", Limits{}, &item).status, Status::kItem);
  EXPECT_EQ(Decode(std::string(8 * 1024, 'x'), Limits{}, &item).error, DecodeError::kLineTooLong);
}

TEST(Decoder, StreamRejectsEndlessTextLineFedInPieces) {
  Limits lim;
  lim.max_line = 32;
  StreamDecoder d(lim);
  Item item;
  for (int i = 0; i < 3; ++i) {
    d.Feed("0123456789");
    ASSERT_EQ(d.Next(&item).status, Status::kNeedMore);
  }
  d.Feed("0123456789");
  DecodeResult r = d.Next(&item);
  EXPECT_EQ(r.status, Status::kFatal);
  EXPECT_EQ(r.error, DecodeError::kLineTooLong);
}

// ---------------------------------------------------------------------------------------------
// Limits and malformed packets

TEST(Decoder, RejectsFrameLargerThanLimitFromTheHeaderAlone) {
  Item item;
  DecodeResult r = Decode(Header("\0REQ"s, 7, 0xFFFFFFFFu), Limits{}, &item);
  EXPECT_EQ(r.status, Status::kFatal);
  EXPECT_EQ(r.error, DecodeError::kTooLarge);
  EXPECT_EQ(r.type, 7u);
}

TEST(Decoder, StreamRejectsFourGiBHeaderWithoutBufferingTheBody) {
  StreamDecoder d;
  d.Feed(Header("\0REQ"s, 16, 0xFFFFFFFFu));
  Item item;
  DecodeResult r = d.Next(&item);
  EXPECT_EQ(r.status, Status::kFatal);
  EXPECT_EQ(r.error, DecodeError::kTooLarge);
  EXPECT_EQ(d.buffered(), kHeaderSize);
}

TEST(Decoder, AcceptsFrameOfExactlyMaxPacket) {
  Limits lim;
  lim.max_packet = 10;
  Item item;
  std::string p = Header("\0REQ"s, 16, 10) + std::string(10, 'x');
  DecodeResult r = Decode(p, lim, &item);
  ASSERT_EQ(r.status, Status::kItem);
  EXPECT_EQ(item.frame.last(), std::string(10, 'x'));
  DecodeResult big = Decode(Header("\0REQ"s, 16, 11), lim, &item);
  EXPECT_EQ(big.status, Status::kFatal);
  EXPECT_EQ(big.error, DecodeError::kTooLarge);
}

TEST(Decoder, ChecksSizeLimitBeforeTheType) {
  Item item;
  Limits lim;
  lim.max_packet = 100;
  DecodeResult r = Decode(Header("\0REQ"s, 99, 1000), lim, &item);
  EXPECT_EQ(r.status, Status::kFatal);
  EXPECT_EQ(r.error, DecodeError::kTooLarge);
}

TEST(Decoder, DetectsBadMagicFromTheFirstDifferingByte) {
  const std::string good = "\0REQ"s;
  for (size_t i = 1; i < 4; ++i) {
    std::string bad = good.substr(0, i) + "X";
    Item item;
    DecodeResult r = Decode(bad, Limits{}, &item);
    EXPECT_EQ(r.status, Status::kFatal) << i;
    EXPECT_EQ(r.error, DecodeError::kBadMagic) << i;
    // A correct prefix is not an error yet.
    EXPECT_EQ(Decode(good.substr(0, i), Limits{}, &item).status, Status::kNeedMore) << i;
  }
}

TEST(Decoder, RejectsBadMagicWithAWholeHeader) {
  Item item;
  DecodeResult r = Decode(Header("\0XYZ"s, 7, 0), Limits{}, &item);
  EXPECT_EQ(r.status, Status::kFatal);
  EXPECT_EQ(r.error, DecodeError::kBadMagic);
}

TEST(Decoder, DecodesResponseMagic) {
  Item item;
  std::string p = Header("\0RES"s, 8, 7) + "H:lap:1";
  DecodeResult r = Decode(p, Limits{}, &item);
  ASSERT_EQ(r.status, Status::kItem);
  EXPECT_EQ(item.frame.magic, Magic::kResponse);
  EXPECT_EQ(item.frame.command, Command::kJobCreated);
  EXPECT_EQ(item.frame.arg(0), "H:lap:1");
}

TEST(Decoder, SkipsUnknownTypeByItsDeclaredSize) {
  for (uint32_t type : {0u, 43u, 99u, 0xFFFFFFFFu}) {
    std::string p = Header("\0REQ"s, type, 5) + "ab\0cd"s;
    Item item;
    DecodeResult r = Decode(p + "status\n", Limits{}, &item);
    EXPECT_EQ(r.status, Status::kSkip) << type;
    EXPECT_EQ(r.error, DecodeError::kUnknownCommand) << type;
    EXPECT_EQ(r.consumed, p.size()) << type;
    EXPECT_EQ(r.type, type);
  }
}

TEST(Decoder, UnknownTypeWaitsForItsWholeBodyBeforeSkipping) {
  Item item;
  std::string p = Header("\0REQ"s, 77, 5) + "abc";
  DecodeResult r = Decode(p, Limits{}, &item);
  EXPECT_EQ(r.status, Status::kNeedMore);
  EXPECT_EQ(r.need, kHeaderSize + 5);
}

TEST(Decoder, SkipsPacketWithTooFewArguments) {
  // SUBMIT_JOB needs two NUL separators; this body has one.
  std::string p = Header("\0REQ"s, 7, 6) + "fn\0uni"s;
  Item item;
  DecodeResult r = Decode(p, Limits{}, &item);
  EXPECT_EQ(r.status, Status::kSkip);
  EXPECT_EQ(r.error, DecodeError::kTooFewArguments);
  EXPECT_EQ(r.consumed, p.size());
  EXPECT_EQ(r.type, 7u);
}

TEST(Decoder, ArgumentsAreNeverSearchedPastTheDeclaredSize) {
  // A REDUCE packet with 3 of its 4 NULs, followed by a packet full of NULs: the next packet
  // must not be swallowed (gearmand desynchronises here).
  std::string bad = Header("\0REQ"s, 37, 8) + "f\0u\0r\0ag"s;
  Sample next = SamplePacket(7);
  StreamDecoder d;
  d.Feed(bad + next.bytes);
  Item item;
  DecodeResult r = d.Next(&item);
  EXPECT_EQ(r.status, Status::kSkip);
  EXPECT_EQ(r.error, DecodeError::kTooFewArguments);
  EXPECT_EQ(r.consumed, bad.size());
  r = d.Next(&item);
  ASSERT_EQ(r.status, Status::kItem);
  EXPECT_EQ(Own(item), next.expected);
}

TEST(Decoder, StreamContinuesAfterSkippedPackets) {
  std::string unknown = Header("\0REQ"s, 50, 3) + "\0\0\0"s;
  Sample echo = SamplePacket(16);
  StreamDecoder d;
  d.Feed(unknown + echo.bytes + "status\n");
  Item item;
  EXPECT_EQ(d.Next(&item).status, Status::kSkip);
  ASSERT_EQ(d.Next(&item).status, Status::kItem);
  EXPECT_EQ(Own(item), echo.expected);
  ASSERT_EQ(d.Next(&item).status, Status::kItem);
  EXPECT_EQ(item.text, "status");
  EXPECT_EQ(d.Next(&item).status, Status::kNeedMore);
}

TEST(Decoder, LastArgumentOfNonDataCommandRunsToEndWithoutNul) {
  // CAN_DO_TIMEOUT: FUNC\0MS with the timeout running to the end of the packet.
  std::string p = Header("\0REQ"s, 23, 9) + "fn\0"s + "123456";
  Item item;
  ASSERT_EQ(Decode(p, Limits{}, &item).status, Status::kItem);
  ASSERT_EQ(item.frame.nparts, 2);
  EXPECT_EQ(item.frame.arg(0), "fn");
  EXPECT_EQ(item.frame.arg(1), "123456");
  EXPECT_EQ(item.frame.last(), "123456");
}

TEST(Decoder, ExtraNulsStayInTheLastPart) {
  std::string p = Header("\0REQ"s, 1, 5) + "a\0b\0c"s;
  Item item;
  ASSERT_EQ(Decode(p, Limits{}, &item).status, Status::kItem);
  ASSERT_EQ(item.frame.nparts, 1);
  EXPECT_EQ(item.frame.arg(0), "a\0b\0c"s);
}

TEST(Decoder, EmptyBodyGivesOneEmptyPartForOneArgumentCommands) {
  std::string p = Header("\0REQ"s, 1, 0);
  Item item;
  ASSERT_EQ(Decode(p, Limits{}, &item).status, Status::kItem);
  EXPECT_EQ(item.frame.nparts, 1);
  EXPECT_EQ(item.frame.arg(0), "");
}

TEST(Decoder, FrameArgOutOfRangeIsEmpty) {
  Item item;
  ASSERT_EQ(Decode(Header("\0REQ"s, 9, 0), Limits{}, &item).status, Status::kItem);
  EXPECT_EQ(item.frame.nparts, 0);
  EXPECT_EQ(item.frame.arg(0), "");
  EXPECT_EQ(item.frame.last(), "");
}

TEST(Decoder, EmptyInputNeedsMore) {
  Item item;
  DecodeResult r = Decode("", Limits{}, &item);
  EXPECT_EQ(r.status, Status::kNeedMore);
  EXPECT_EQ(r.consumed, 0u);
}

TEST(SplitBody, SplitsByTheCommandTable) {
  Frame f;
  const std::string body = "f\0u\0m\0h\0d\0mo\0w\0data\0x"s;
  ASSERT_TRUE(SplitBody(body, Info(Command::kSubmitJobSched), &f));
  ASSERT_EQ(f.nparts, 8);
  EXPECT_EQ(f.arg(2), "m");
  EXPECT_EQ(f.arg(6), "w");
  EXPECT_EQ(f.last(), "data\0x"s);
  const std::string short_body = "f\0u"s;
  EXPECT_FALSE(SplitBody(short_body, Info(Command::kSubmitJob), &f));
  EXPECT_TRUE(SplitBody("", Info(Command::kGrabJob), &f));
  EXPECT_EQ(f.nparts, 0);
}

TEST(Decoder, ErrorNamesAreDistinct) {
  std::vector<std::string_view> names;
  for (DecodeError e :
       {DecodeError::kNone, DecodeError::kBadMagic, DecodeError::kTooLarge,
        DecodeError::kLineTooLong, DecodeError::kUnknownCommand, DecodeError::kTooFewArguments}) {
    for (auto n : names)
      EXPECT_NE(n, ErrorName(e));
    names.push_back(ErrorName(e));
  }
}

// ---------------------------------------------------------------------------------------------
// Encoder

TEST(Encoder, MatchesTheCanonicalExampleOfTheProtocolDocument) {
  EXPECT_EQ(Request(Command::kCanDo, {"reverse"}), "\0REQ\0\0\0\x01\0\0\0\x07reverse"s);
  EXPECT_EQ(Request(Command::kSubmitJob, {"reverse", "", "test"}),
            "\0REQ\0\0\0\x07\0\0\0\x0dreverse\0\0test"s);
  EXPECT_EQ(Response(Command::kJobCreated, {"H:lap:1"}), "\0RES\0\0\0\x08\0\0\0\x07H:lap:1"s);
  EXPECT_EQ(Response(Command::kNoop), "\0RES\0\0\0\x06\0\0\0\0"s);
}

TEST(Encoder, EncodedSizeCountsHeaderPartsAndSeparators) {
  EXPECT_EQ(EncodedSize({}), 12u);
  EXPECT_EQ(EncodedSize({""}), 12u);
  EXPECT_EQ(EncodedSize({"abc"}), 15u);
  EXPECT_EQ(EncodedSize({"abc", ""}), 16u);
  EXPECT_EQ(EncodedSize({"a", "b", "c"}), 17u);
  EXPECT_EQ(EncodedSize({"", "", ""}), 14u);
}

TEST(Encoder, AppendPacketToByteQueueMatchesEncodePacket) {
  ByteQueue q;
  AppendPacket(q, Magic::kResponse, Command::kWorkComplete, {"H:x:1", "res\0ult"s});
  AppendPacket(q, Magic::kResponse, Command::kNoop, {});
  EXPECT_EQ(q.ToString(),
            Response(Command::kWorkComplete, {"H:x:1", "res\0ult"s}) + Response(Command::kNoop));
  EXPECT_EQ(q.size(), EncodedSize({"H:x:1", "res\0ult"s}) + kHeaderSize);
}

TEST(Encoder, AppendPacketToStringKeepsWhatWasThere) {
  std::string s = "prefix";
  AppendPacket(s, Magic::kRequest, Command::kEchoReq, {"e\0cho"s});
  EXPECT_EQ(s, "prefix" + Request(Command::kEchoReq, {"e\0cho"s}));
}

TEST(Encoder, RoundTripsThroughTheDecoder) {
  std::string big(100000, '\0');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>(i * 7);
  std::string p = Response(Command::kJobAssignAll, {"H:x:9", "fn", "", "red", big});
  EXPECT_EQ(p.size(), EncodedSize({"H:x:9", "fn", "", "red", big}));
  Item item;
  DecodeResult r = Decode(p, Limits{}, &item);
  ASSERT_EQ(r.status, Status::kItem);
  EXPECT_EQ(item.frame.magic, Magic::kResponse);
  EXPECT_EQ(item.frame.command, Command::kJobAssignAll);
  ASSERT_EQ(item.frame.nparts, 5);
  EXPECT_EQ(item.frame.arg(0), "H:x:9");
  EXPECT_EQ(item.frame.arg(1), "fn");
  EXPECT_EQ(item.frame.arg(2), "");
  EXPECT_EQ(item.frame.arg(3), "red");
  EXPECT_EQ(item.frame.last(), big);
}

}  // namespace
}  // namespace gearbox::protocol
