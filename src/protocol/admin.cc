#include "protocol/admin.h"

#include <strings.h>

#include <charconv>
#include <vector>

namespace gearbox::protocol {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Splits on spaces; runs of spaces collapse, but a leading space yields an empty first token
// (so " status" is an unknown, empty command, as in gearmand).
std::vector<std::string_view> Tokenize(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  if (!line.empty() && line[0] == ' ') out.emplace_back();
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i >= line.size()) break;
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// atoi-like: leading digits with an optional sign; anything else counts as 0.
int64_t AtoI(std::string_view s) {
  int64_t v = 0;
  const char* b = s.data();
  if (!s.empty() && s[0] == '+') ++b;
  std::from_chars(b, s.data() + s.size(), v);
  return v;
}

AdminCommand Reply(std::string r) {
  AdminCommand c;
  c.verb = AdminVerb::kReply;
  c.reply = std::move(r);
  return c;
}

AdminCommand Verb(AdminVerb v) {
  AdminCommand c;
  c.verb = v;
  return c;
}

}  // namespace

std::string UnknownCommandReply(std::string_view name) {
  std::string r = "ERR UNKNOWN_COMMAND Unknown+server+command";
  r.append(name);
  r.append("\r\n");
  return r;
}

std::string InvalidArgumentsReply(std::string_view name) {
  std::string r = "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+";
  r.append(name);
  r.append("\r\n");
  return r;
}

AdminCommand ParseAdmin(std::string_view line) {
  std::vector<std::string_view> t = Tokenize(line);
  if (t.empty()) return Reply(UnknownCommandReply(""));
  std::string_view cmd = t[0];
  size_t argc = t.size();

  if (IEquals(cmd, "workers")) return Verb(AdminVerb::kWorkers);
  if (IEquals(cmd, "prioritystatus")) return Verb(AdminVerb::kPriorityStatus);
  if (IEquals(cmd, "status")) return Verb(AdminVerb::kStatus);
  if (IEquals(cmd, "cancel")) {
    if (argc == 3 && IEquals(t[1], "job")) {
      AdminCommand c = Verb(AdminVerb::kCancelJob);
      c.name = t[2];
      return c;
    }
    return Reply(InvalidArgumentsReply(cmd));
  }
  if (IEquals(cmd, "show") && argc >= 2) {
    if (argc == 3 && IEquals(t[1], "unique") && IEquals(t[2], "jobs")) {
      return Verb(AdminVerb::kShowUniqueJobs);
    }
    if (argc == 2 && IEquals(t[1], "jobs")) return Verb(AdminVerb::kShowJobs);
    return Reply("ERR UNKNOWN_SHOW_ARGUMENTS\r\n");
  }
  if (IEquals(cmd, "create")) {
    if (argc == 3 && IEquals(t[1], "function")) {
      AdminCommand c = Verb(AdminVerb::kCreateFunction);
      c.name = t[2];
      return c;
    }
    return Reply(InvalidArgumentsReply(cmd));
  }
  if (IEquals(cmd, "drop")) {
    if (argc == 3 && IEquals(t[1], "function")) {
      AdminCommand c = Verb(AdminVerb::kDropFunction);
      c.name = t[2];
      return c;
    }
    return Reply(InvalidArgumentsReply(cmd));
  }
  if (IEquals(cmd, "maxqueue")) {
    if (argc == 1) return Reply(InvalidArgumentsReply(cmd));
    AdminCommand c = Verb(AdminVerb::kMaxQueue);
    c.name = t[1];
    c.nsizes = static_cast<int>(argc - 2 > 3 ? 3 : argc - 2);
    for (int i = 0; i < c.nsizes; ++i) {
      int64_t v = AtoI(t[2 + static_cast<size_t>(i)]);
      c.sizes[static_cast<size_t>(i)] = v < 0 ? 0 : v;
    }
    return c;
  }
  if (IEquals(cmd, "getpid")) return Verb(AdminVerb::kGetPid);
  if (IEquals(cmd, "verbose")) return Verb(AdminVerb::kVerbose);
  if (IEquals(cmd, "version")) return Verb(AdminVerb::kVersion);
  if (IEquals(cmd, "shutdown")) {
    if (argc == 1) return Verb(AdminVerb::kShutdown);
    if (argc == 2 && IEquals(t[1], "graceful")) {
      AdminCommand c = Verb(AdminVerb::kShutdown);
      c.graceful = true;
      return c;
    }
    return Reply(InvalidArgumentsReply(cmd));
  }
  return Reply(UnknownCommandReply(cmd));
}

}  // namespace gearbox::protocol
