#include "protocol/codec.h"

#include <cstring>

namespace gearbox::protocol {
namespace {

uint32_t ReadBe32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

void WriteBe32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

constexpr char kReqMagic[4] = {'\0', 'R', 'E', 'Q'};
constexpr char kResMagic[4] = {'\0', 'R', 'E', 'S'};

DecodeResult DecodeText(std::string_view in, const Limits& limits, Item* out) {
  DecodeResult r;
  size_t scan = in.size() < limits.max_line ? in.size() : limits.max_line;
  const void* nl = std::memchr(in.data(), '\n', scan);
  if (nl == nullptr) {
    if (in.size() >= limits.max_line) {
      r.status = DecodeResult::Status::kFatal;
      r.error = DecodeError::kLineTooLong;
    }
    return r;
  }
  size_t len = static_cast<const char*>(nl) - in.data();
  std::string_view line = in.substr(0, len);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  out->kind = Item::Kind::kText;
  out->text = line;
  r.status = DecodeResult::Status::kItem;
  r.consumed = len + 1;
  return r;
}

}  // namespace

bool SplitBody(std::string_view body, const CommandInfo& info, Frame* frame) {
  size_t parts = info.parts();
  frame->nparts = static_cast<uint8_t>(parts);
  if (parts == 0) return true;
  size_t pos = 0;
  for (size_t i = 0; i + 1 < parts; ++i) {
    const void* nul = std::memchr(body.data() + pos, '\0', body.size() - pos);
    if (nul == nullptr) return false;
    size_t end = static_cast<const char*>(nul) - body.data();
    frame->parts[i] = body.substr(pos, end - pos);
    pos = end + 1;
  }
  frame->parts[parts - 1] = body.substr(pos);
  return true;
}

DecodeResult Decode(std::string_view in, const Limits& limits, Item* out) {
  DecodeResult r;
  if (in.empty()) return r;
  if (in[0] != '\0') return DecodeText(in, limits, out);

  // Check the magic as soon as its bytes are here, so garbage fails fast.
  size_t have = in.size() < 4 ? in.size() : 4;
  bool req = std::memcmp(in.data(), kReqMagic, have) == 0;
  bool res = std::memcmp(in.data(), kResMagic, have) == 0;
  if (!req && !res) {
    r.status = DecodeResult::Status::kFatal;
    r.error = DecodeError::kBadMagic;
    return r;
  }
  if (in.size() < kHeaderSize) {
    r.need = kHeaderSize;
    return r;
  }
  uint32_t type = ReadBe32(in.data() + 4);
  uint32_t size = ReadBe32(in.data() + 8);
  r.type = type;
  if (size > limits.max_packet) {
    r.status = DecodeResult::Status::kFatal;
    r.error = DecodeError::kTooLarge;
    return r;
  }
  size_t total = kHeaderSize + size_t{size};
  if (in.size() < total) {
    r.need = total;
    return r;
  }
  r.consumed = total;
  const CommandInfo* info = Lookup(type);
  if (info == nullptr) {
    r.status = DecodeResult::Status::kSkip;
    r.error = DecodeError::kUnknownCommand;
    return r;
  }
  out->kind = Item::Kind::kPacket;
  out->frame.magic = req ? Magic::kRequest : Magic::kResponse;
  out->frame.command = static_cast<Command>(type);
  if (!SplitBody(in.substr(kHeaderSize, size), *info, &out->frame)) {
    r.status = DecodeResult::Status::kSkip;
    r.error = DecodeError::kTooFewArguments;
    return r;
  }
  r.status = DecodeResult::Status::kItem;
  return r;
}

std::string_view ErrorName(DecodeError e) {
  switch (e) {
    case DecodeError::kNone:
      return "none";
    case DecodeError::kBadMagic:
      return "bad magic";
    case DecodeError::kTooLarge:
      return "packet larger than the maximum packet size";
    case DecodeError::kLineTooLong:
      return "text line too long";
    case DecodeError::kUnknownCommand:
      return "unknown command";
    case DecodeError::kTooFewArguments:
      return "too few arguments";
  }
  return "?";
}

size_t EncodedSize(std::initializer_list<std::string_view> parts) {
  size_t n = kHeaderSize;
  for (auto p : parts) n += p.size();
  if (parts.size() > 1) n += parts.size() - 1;
  return n;
}

namespace {
void EncodeInto(char* p, Magic magic, Command command, size_t total,
                std::initializer_list<std::string_view> parts) {
  std::memcpy(p, magic == Magic::kRequest ? kReqMagic : kResMagic, 4);
  WriteBe32(p + 4, static_cast<uint32_t>(command));
  WriteBe32(p + 8, static_cast<uint32_t>(total - kHeaderSize));
  p += kHeaderSize;
  bool first = true;
  for (auto part : parts) {
    if (!first) *p++ = '\0';
    first = false;
    if (!part.empty()) std::memcpy(p, part.data(), part.size());
    p += part.size();
  }
}
}  // namespace

void AppendPacket(ByteQueue& out, Magic magic, Command command,
                  std::initializer_list<std::string_view> parts) {
  size_t total = EncodedSize(parts);
  EncodeInto(out.Append(total), magic, command, total, parts);
}

void AppendPacket(std::string& out, Magic magic, Command command,
                  std::initializer_list<std::string_view> parts) {
  size_t total = EncodedSize(parts);
  size_t at = out.size();
  out.resize(at + total);
  EncodeInto(out.data() + at, magic, command, total, parts);
}

std::string EncodePacket(Magic magic, Command command,
                         std::initializer_list<std::string_view> parts) {
  size_t total = EncodedSize(parts);
  std::string s(total, '\0');
  EncodeInto(s.data(), magic, command, total, parts);
  return s;
}

void StreamDecoder::Feed(std::string_view bytes) {
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

DecodeResult StreamDecoder::Next(Item* out) {
  DecodeResult r = Decode(std::string_view(buf_).substr(pos_), limits_, out);
  if (r.status == DecodeResult::Status::kItem || r.status == DecodeResult::Status::kSkip) {
    pos_ += r.consumed;
  }
  return r;
}

}  // namespace gearbox::protocol
