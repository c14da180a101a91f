// Pure codec for the Gearman wire: packets framed by their declared size, and text admin lines.
// No I/O and no allocation on the decode path; decoded items are views into the caller's bytes.
// Stateless functions are safe from any thread; StreamDecoder is owned by one connection.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "base/byte_queue.h"
#include "protocol/command.h"

namespace gearbox::protocol {

struct Limits {
  // Largest packet body (the header's size field) accepted; checked at the header.
  uint32_t max_packet = 256u * 1024 * 1024;
  // Longest admin text line, terminator included (gearmand's receive buffer is 8 KiB too).
  size_t max_line = 8 * 1024;
};

// A decoded binary packet. parts[0..nparts) are the NUL-separated arguments, the data blob last.
struct Frame {
  Magic magic = Magic::kRequest;
  Command command = Command::kText;
  uint8_t nparts = 0;
  std::array<std::string_view, kMaxParts> parts{};

  std::string_view arg(size_t i) const { return i < nparts ? parts[i] : std::string_view(); }
  // The final part: the data blob for data commands, the trailing argument otherwise.
  std::string_view last() const { return nparts ? parts[nparts - 1] : std::string_view(); }
};

struct Item {
  enum class Kind : uint8_t { kPacket, kText };
  Kind kind = Kind::kPacket;
  Frame frame;
  std::string_view text;  // for kText: the line without "\n" / "\r\n"
};

enum class DecodeError : uint8_t {
  kNone,
  kBadMagic,         // fatal: the stream cannot be framed
  kTooLarge,         // fatal: the header claims more than Limits::max_packet
  kLineTooLong,      // fatal: no newline within Limits::max_line
  kUnknownCommand,   // framed: the whole packet is skipped
  kTooFewArguments,  // framed: fewer NUL separators than the command needs
};

struct DecodeResult {
  enum class Status : uint8_t {
    kItem,      // *out holds an item of `consumed` bytes
    kNeedMore,  // not enough bytes; `need` is the total needed when known (else 0)
    kSkip,      // a framed but unusable packet of `consumed` bytes; see `error`
    kFatal,     // the stream is broken; see `error`
  };
  Status status = Status::kNeedMore;
  DecodeError error = DecodeError::kNone;
  size_t consumed = 0;
  size_t need = 0;
  uint32_t type = 0;  // the header's type field, when a header was read
};

// Decodes the item at the start of `in` (a binary packet if the first byte is NUL, else a line).
DecodeResult Decode(std::string_view in, const Limits& limits, Item* out);

// Splits a packet body into parts according to the command table. Returns false if the body
// has fewer NUL separators than the command needs.
bool SplitBody(std::string_view body, const CommandInfo& info, Frame* frame);

std::string_view ErrorName(DecodeError e);

// Encoding: the parts are joined by NUL; the header's size is computed.
size_t EncodedSize(std::initializer_list<std::string_view> parts);
void AppendPacket(ByteQueue& out, Magic magic, Command command,
                  std::initializer_list<std::string_view> parts);
void AppendPacket(std::string& out, Magic magic, Command command,
                  std::initializer_list<std::string_view> parts);
std::string EncodePacket(Magic magic, Command command,
                         std::initializer_list<std::string_view> parts);
inline std::string Request(Command c, std::initializer_list<std::string_view> parts = {}) {
  return EncodePacket(Magic::kRequest, c, parts);
}
inline std::string Response(Command c, std::initializer_list<std::string_view> parts = {}) {
  return EncodePacket(Magic::kResponse, c, parts);
}

// An incremental decoder that owns its buffer: Feed() bytes, then call Next() until kNeedMore.
// Views in returned items stay valid until the next Feed().
class StreamDecoder {
 public:
  explicit StreamDecoder(Limits limits = {}) : limits_(limits) {}
  void Feed(std::string_view bytes);
  DecodeResult Next(Item* out);
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  Limits limits_;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace gearbox::protocol
