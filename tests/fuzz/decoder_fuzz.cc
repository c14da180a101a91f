// Fuzz target: the wire codec, the admin parser and cron field parsing.
//
// Input: [flags][limits: 3 bytes][split seed: 8 bytes][stream bytes...]
// The stream is decoded twice, once in one piece with Decode() and once through a
// StreamDecoder fed at random split points; both must give the same items, skips and fatal
// error. Every item must re-encode to the bytes it was decoded from, every text line must parse
// into a well-formed admin command, and (flag bit 1) the first line is used as a cron schedule
// whose next firing must really match it.
#include <strings.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "core/cron.h"
#include "fuzz_common.h"
#include "protocol/admin.h"
#include "protocol/codec.h"

namespace gearbox::fuzz {
namespace {

using protocol::DecodeError;
using protocol::DecodeResult;
using protocol::Item;

const bool kUtc = [] {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  return true;
}();

struct Event {
  DecodeResult::Status status;
  DecodeError error;
  size_t consumed;
  uint32_t type;
  Item::Kind kind;
  protocol::Magic magic;
  protocol::Command command;
  std::vector<std::string> parts;
  std::string text;
  bool operator==(const Event&) const = default;
};

Event Record(const DecodeResult& r, const Item& item) {
  Event e{r.status,
          r.error,
          r.consumed,
          r.type,
          Item::Kind::kPacket,
          protocol::Magic::kRequest,
          protocol::Command::kText,
          {},
          {}};
  if (r.status != DecodeResult::Status::kItem) return e;
  e.kind = item.kind;
  if (item.kind == Item::Kind::kText) {
    e.text = std::string(item.text);
  } else {
    e.magic = item.frame.magic;
    e.command = item.frame.command;
    for (size_t i = 0; i < item.frame.nparts; ++i)
      e.parts.emplace_back(item.frame.parts[i]);
  }
  return e;
}

bool Within(std::string_view inner, std::string_view outer) {
  return inner.empty() || (inner.data() >= outer.data() &&
                           inner.data() + inner.size() <= outer.data() + outer.size());
}

void CheckAdmin(std::string_view line) {
  protocol::AdminCommand c = protocol::ParseAdmin(line);
  FUZZ_CHECK(c.nsizes >= 0 && c.nsizes <= 3);
  for (int i = 0; i < c.nsizes; ++i)
    FUZZ_CHECK(c.sizes[static_cast<size_t>(i)] >= 0);
  FUZZ_CHECK(Within(c.name, line));
  if (c.verb == protocol::AdminVerb::kReply) {
    FUZZ_CHECK(c.reply.size() >= 6);
    FUZZ_CHECK(c.reply.compare(0, 4, "ERR ") == 0);
    FUZZ_CHECK(c.reply.compare(c.reply.size() - 2, 2, "\r\n") == 0);
  } else {
    FUZZ_CHECK(c.reply.empty());
    FUZZ_CHECK(c.name.find(' ') == std::string_view::npos);
  }
}

// Checks one item decoded from the front of `in` against the bytes it came from.
void CheckItem(std::string_view in, const DecodeResult& r, const Item& item,
               const protocol::Limits& lim) {
  using S = DecodeResult::Status;
  switch (r.status) {
    case S::kNeedMore:
      FUZZ_CHECK(r.consumed == 0);
      FUZZ_CHECK(r.need == 0 || r.need > in.size());
      return;
    case S::kFatal:
      FUZZ_CHECK(r.error == DecodeError::kBadMagic || r.error == DecodeError::kTooLarge ||
                 r.error == DecodeError::kLineTooLong);
      if (r.error == DecodeError::kLineTooLong) FUZZ_CHECK(in.size() >= lim.max_line);
      return;
    case S::kSkip: {
      FUZZ_CHECK(in.size() >= protocol::kHeaderSize);
      FUZZ_CHECK(r.consumed >= protocol::kHeaderSize && r.consumed <= in.size());
      FUZZ_CHECK(r.consumed - protocol::kHeaderSize <= lim.max_packet);
      const protocol::CommandInfo* info = protocol::Lookup(r.type);
      if (r.error == DecodeError::kUnknownCommand) {
        FUZZ_CHECK(info == nullptr);
      } else {
        FUZZ_CHECK(r.error == DecodeError::kTooFewArguments);
        FUZZ_CHECK(info != nullptr);
      }
      return;
    }
    case S::kItem:
      break;
  }
  FUZZ_CHECK(r.consumed >= 1 && r.consumed <= in.size());
  std::string_view bytes = in.substr(0, r.consumed);
  if (item.kind == Item::Kind::kText) {
    FUZZ_CHECK(in[0] != '\0');
    FUZZ_CHECK(item.text.find('\n') == std::string_view::npos);
    FUZZ_CHECK(Within(item.text, bytes));
    FUZZ_CHECK(bytes.back() == '\n');
    FUZZ_CHECK(r.consumed == item.text.size() + 1 || r.consumed == item.text.size() + 2);
    FUZZ_CHECK(r.consumed <= lim.max_line);
    CheckAdmin(item.text);
    return;
  }
  const protocol::CommandInfo* info = protocol::Lookup(static_cast<uint32_t>(item.frame.command));
  FUZZ_CHECK(info != nullptr);
  FUZZ_CHECK(static_cast<uint32_t>(item.frame.command) == r.type);
  FUZZ_CHECK(item.frame.nparts == info->parts());
  for (size_t i = 0; i < item.frame.nparts; ++i)
    FUZZ_CHECK(Within(item.frame.parts[i], bytes));
  // Parts are separated by single NULs, so joining them gives back the packet exactly; a
  // command without parts ignores any body it was sent with.
  if (item.frame.nparts > 0) {
    FUZZ_CHECK(EncodeFrame(item.frame) == bytes);
  } else {
    FUZZ_CHECK(EncodeFrame(item.frame) == std::string(bytes.substr(0, 8)) + std::string(4, '\0'));
  }
  FUZZ_CHECK(r.consumed - protocol::kHeaderSize <= lim.max_packet);
}

// Decodes all of `in` in one piece.
std::vector<Event> DecodeWhole(std::string_view in, const protocol::Limits& lim) {
  std::vector<Event> events;
  size_t pos = 0;
  for (;;) {
    Item item;
    DecodeResult r = protocol::Decode(in.substr(pos), lim, &item);
    CheckItem(in.substr(pos), r, item, lim);
    if (r.status == DecodeResult::Status::kNeedMore) break;
    events.push_back(Record(r, item));
    if (r.status == DecodeResult::Status::kFatal) break;
    pos += r.consumed;
  }
  return events;
}

// Decodes `in` through a StreamDecoder, fed at split points drawn from `rng`.
std::vector<Event> DecodeStreamed(std::string_view in, const protocol::Limits& lim, Rng& rng,
                                  size_t* left_buffered) {
  std::vector<Event> events;
  protocol::StreamDecoder d(lim);
  size_t pos = 0;
  size_t consumed = 0;
  bool fatal = false;
  while (pos < in.size() && !fatal) {
    size_t max_chunk = rng.Below(4) == 0 ? 4096 : 17;
    size_t n = 1 + rng.Below(max_chunk);
    if (n > in.size() - pos) n = in.size() - pos;
    d.Feed(in.substr(pos, n));
    pos += n;
    for (;;) {
      Item item;
      DecodeResult r = d.Next(&item);
      if (r.status == DecodeResult::Status::kNeedMore) break;
      events.push_back(Record(r, item));
      if (r.status == DecodeResult::Status::kFatal) {
        fatal = true;
        break;
      }
      consumed += r.consumed;
    }
    if (!fatal) FUZZ_CHECK(d.buffered() == pos - consumed);
  }
  *left_buffered = fatal ? 0 : d.buffered();
  return events;
}

void CheckCron(std::string_view line, uint32_t when_seed) {
  std::string_view f[5] = {"*", "*", "*", "*", "*"};
  size_t k = 0;
  while (k < 5 && !line.empty()) {
    size_t sp = line.find(' ');
    f[k++] = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  }
  std::string err;
  auto spec = core::CronSpec::Parse(f[0], f[1], f[2], f[3], f[4], &err);
  if (!spec) {
    FUZZ_CHECK(!err.empty());
    return;
  }
  int64_t after = 1'600'000'000 + static_cast<int64_t>(when_seed) * 7919;
  int64_t next = spec->NextAfter(after);
  if (next < 0) {
    FUZZ_CHECK(next == -1);
    return;
  }
  FUZZ_CHECK(next > after);
  FUZZ_CHECK(next % 60 == 0);
  FUZZ_CHECK(next - after <= int64_t{367} * 5 * 86400);
  time_t t = static_cast<time_t>(next);
  std::tm tm{};
  gmtime_r(&t, &tm);
  FUZZ_CHECK(spec->minutes.test(static_cast<size_t>(tm.tm_min)));
  FUZZ_CHECK(spec->hours.test(static_cast<size_t>(tm.tm_hour)));
  FUZZ_CHECK(spec->months.test(static_cast<size_t>(tm.tm_mon + 1)));
  bool md = spec->mdays.test(static_cast<size_t>(tm.tm_mday));
  bool wd = spec->wdays.test(static_cast<size_t>(tm.tm_wday));
  FUZZ_CHECK((spec->mday_star || spec->wday_star) ? (md && wd) : (md || wd));
  // Nothing matches in between: the minute before `next` (if after `after`) does not fire.
  if (next - 60 > after) FUZZ_CHECK(spec->NextAfter(next - 61) == next);
}

}  // namespace
}  // namespace gearbox::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gearbox::fuzz;
  (void)kUtc;
  Reader in(data, size);
  uint8_t flags = in.Byte();
  gearbox::protocol::Limits lim;
  uint32_t a = in.Byte();
  uint32_t b = in.U16();
  if (flags & 1) {
    lim.max_packet = b % 300;
    lim.max_line = 1 + a % 64;
  } else {
    lim.max_packet = 4096 + b;
  }
  uint64_t seed = 0;
  for (int i = 0; i < 8; ++i)
    seed = seed << 8 | in.Byte();
  std::string_view stream = in.Rest();

  std::vector<Event> whole = DecodeWhole(stream, lim);
  Rng rng(seed);
  size_t buffered = 0;
  std::vector<Event> streamed = DecodeStreamed(stream, lim, rng, &buffered);
  FUZZ_CHECK(whole == streamed);

  if (flags & 2) {
    for (const Event& e : whole) {
      if (e.status == DecodeResult::Status::kItem && e.kind == Item::Kind::kText) {
        CheckCron(e.text, static_cast<uint32_t>(seed));
        break;
      }
    }
  }
  return 0;
}
