// Specification tests for the text admin parser (src/protocol/admin.h): one line in, one
// command out, with gearmand 1.1.20's exact error replies (docs/protocol.md §4, reference §2).
#include "protocol/admin.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace gearbox::protocol {
namespace {

const char* VerbName(AdminVerb v) {
  switch (v) {
    case AdminVerb::kStatus:
      return "status";
    case AdminVerb::kPriorityStatus:
      return "prioritystatus";
    case AdminVerb::kWorkers:
      return "workers";
    case AdminVerb::kShowJobs:
      return "show jobs";
    case AdminVerb::kShowUniqueJobs:
      return "show unique jobs";
    case AdminVerb::kCancelJob:
      return "cancel job";
    case AdminVerb::kCreateFunction:
      return "create function";
    case AdminVerb::kDropFunction:
      return "drop function";
    case AdminVerb::kMaxQueue:
      return "maxqueue";
    case AdminVerb::kGetPid:
      return "getpid";
    case AdminVerb::kVersion:
      return "version";
    case AdminVerb::kVerbose:
      return "verbose";
    case AdminVerb::kShutdown:
      return "shutdown";
    case AdminVerb::kReply:
      return "reply";
  }
  return "?";
}

struct Case {
  std::string line;
  AdminVerb verb;
  std::string name = {};
  std::string reply = {};
  int nsizes = 0;
  std::array<int64_t, 3> sizes = {0, 0, 0};
  bool graceful = false;
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << '"' << c.line << "\" -> " << VerbName(c.verb);
}

constexpr const char* kUnknown = "ERR UNKNOWN_COMMAND Unknown+server+command";
constexpr const char* kInvalid =
    "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+";

std::string Unknown(const std::string& name) {
  return kUnknown + name + "\r\n";
}
std::string Invalid(const std::string& name) {
  return kInvalid + name + "\r\n";
}

class ParseAdminTable : public ::testing::TestWithParam<Case> {};

TEST_P(ParseAdminTable, GivesVerbNameSizesAndReply) {
  const Case& c = GetParam();
  AdminCommand got = ParseAdmin(c.line);
  EXPECT_EQ(VerbName(got.verb), std::string(VerbName(c.verb)));
  EXPECT_EQ(got.name, c.name);
  EXPECT_EQ(got.reply, c.reply);
  EXPECT_EQ(got.nsizes, c.nsizes);
  for (int i = 0; i < c.nsizes; ++i) {
    EXPECT_EQ(got.sizes[static_cast<size_t>(i)], c.sizes[static_cast<size_t>(i)]) << "size " << i;
  }
  EXPECT_EQ(got.graceful, c.graceful);
}

using V = AdminVerb;

INSTANTIATE_TEST_SUITE_P(
    Admin, ParseAdminTable,
    ::testing::Values(
        // Listing commands, any case, extra arguments ignored as in gearmand.
        Case{"status", V::kStatus}, Case{"STATUS", V::kStatus}, Case{"Status", V::kStatus},
        Case{"status  ", V::kStatus}, Case{"status extra", V::kStatus},
        Case{"workers", V::kWorkers}, Case{"WoRkErS", V::kWorkers},
        Case{"prioritystatus", V::kPriorityStatus}, Case{"PRIORITYSTATUS", V::kPriorityStatus},
        Case{"getpid", V::kGetPid}, Case{"GETPID", V::kGetPid}, Case{"version", V::kVersion},
        Case{"VERSION", V::kVersion}, Case{"verbose", V::kVerbose}, Case{"Verbose", V::kVerbose},
        // show
        Case{"show jobs", V::kShowJobs}, Case{"SHOW JOBS", V::kShowJobs},
        Case{"show   jobs", V::kShowJobs}, Case{"show unique jobs", V::kShowUniqueJobs},
        Case{"Show Unique Jobs", V::kShowUniqueJobs}, Case{"show", V::kReply, "", Unknown("show")},
        Case{"show foo", V::kReply, "", "ERR UNKNOWN_SHOW_ARGUMENTS\r\n"},
        Case{"show jobs x", V::kReply, "", "ERR UNKNOWN_SHOW_ARGUMENTS\r\n"},
        Case{"show unique", V::kReply, "", "ERR UNKNOWN_SHOW_ARGUMENTS\r\n"},
        Case{"show unique foo", V::kReply, "", "ERR UNKNOWN_SHOW_ARGUMENTS\r\n"},
        // cancel
        Case{"cancel job H:vm:5", V::kCancelJob, "H:vm:5"},
        Case{"CANCEL JOB H:vm:5", V::kCancelJob, "H:vm:5"},
        Case{"cancel", V::kReply, "", Invalid("cancel")},
        Case{"cancel job", V::kReply, "", Invalid("cancel")},
        Case{"cancel foo H:vm:5", V::kReply, "", Invalid("cancel")},
        Case{"cancel job H:vm:5 extra", V::kReply, "", Invalid("cancel")},
        // create / drop
        Case{"create function foo", V::kCreateFunction, "foo"},
        Case{"CREATE FUNCTION Foo", V::kCreateFunction, "Foo"},
        Case{"create", V::kReply, "", Invalid("create")},
        Case{"Create", V::kReply, "", Invalid("Create")},
        Case{"create function", V::kReply, "", Invalid("create")},
        Case{"create foo bar", V::kReply, "", Invalid("create")},
        Case{"create function a b", V::kReply, "", Invalid("create")},
        Case{"drop function foo", V::kDropFunction, "foo"},
        Case{"DROP function foo", V::kDropFunction, "foo"},
        Case{"drop", V::kReply, "", Invalid("drop")},
        Case{"drop function", V::kReply, "", Invalid("drop")},
        Case{"drop fn foo", V::kReply, "", Invalid("drop")},
        // maxqueue: 0..3 sizes, a fourth ignored, negatives and garbage are 0 (atoi)
        Case{"maxqueue", V::kReply, "", Invalid("maxqueue")},
        Case{"MAXQUEUE", V::kReply, "", Invalid("MAXQUEUE")},
        Case{"maxqueue fn", V::kMaxQueue, "fn", "", 0},
        Case{"maxqueue fn 5", V::kMaxQueue, "fn", "", 1, {5, 0, 0}},
        Case{"maxqueue fn 1 2", V::kMaxQueue, "fn", "", 2, {1, 2, 0}},
        Case{"maxqueue fn 1 2 3", V::kMaxQueue, "fn", "", 3, {1, 2, 3}},
        Case{"maxqueue fn 1 2 3 4", V::kMaxQueue, "fn", "", 3, {1, 2, 3}},
        Case{"maxqueue fn -5", V::kMaxQueue, "fn", "", 1, {0, 0, 0}},
        Case{"maxqueue fn abc", V::kMaxQueue, "fn", "", 1, {0, 0, 0}},
        Case{"maxqueue fn 12abc", V::kMaxQueue, "fn", "", 1, {12, 0, 0}},
        Case{"maxqueue fn +7", V::kMaxQueue, "fn", "", 1, {7, 0, 0}},
        Case{"maxqueue fn 3 -1 x", V::kMaxQueue, "fn", "", 3, {3, 0, 0}},
        Case{"maxqueue Fn 10", V::kMaxQueue, "Fn", "", 1, {10, 0, 0}},
        // shutdown (gearmand before 2016; accepted only from loopback by the core)
        Case{"shutdown", V::kShutdown}, Case{"SHUTDOWN", V::kShutdown},
        Case{"shutdown graceful", V::kShutdown, "", "", 0, {0, 0, 0}, true},
        Case{"shutdown GRACEFUL", V::kShutdown, "", "", 0, {0, 0, 0}, true},
        Case{"shutdown now", V::kReply, "", Invalid("shutdown")},
        // unknown and empty commands: the name is glued on without a space
        Case{"", V::kReply, "", "ERR UNKNOWN_COMMAND Unknown+server+command\r\n"},
        Case{" status", V::kReply, "", Unknown("")}, Case{"   ", V::kReply, "", Unknown("")},
        Case{"foo", V::kReply, "", Unknown("foo")}, Case{"Foo bar", V::kReply, "", Unknown("Foo")},
        Case{"status\tx", V::kReply, "", Unknown("status\tx")},
        Case{"statuses", V::kReply, "", Unknown("statuses")},
        Case{"stat", V::kReply, "", Unknown("stat")}));

TEST(Admin, UnknownCommandReplyGluesTheNameOn) {
  EXPECT_EQ(UnknownCommandReply("frob"), "ERR UNKNOWN_COMMAND Unknown+server+commandfrob\r\n");
  EXPECT_EQ(UnknownCommandReply(""), "ERR UNKNOWN_COMMAND Unknown+server+command\r\n");
}

TEST(Admin, InvalidArgumentsReplyMatchesGearmand) {
  EXPECT_EQ(InvalidArgumentsReply("create"),
            "ERR INVALID_ARGUMENTS "
            "An+incomplete+set+of+arguments+was+sent+to+this+command+create\r\n");
}

TEST(Admin, NameViewsPointIntoTheLine) {
  std::string line = "cancel job H:x:42";
  AdminCommand c = ParseAdmin(line);
  ASSERT_EQ(c.verb, AdminVerb::kCancelJob);
  EXPECT_EQ(c.name.data(), line.data() + 11);
}

}  // namespace
}  // namespace gearbox::protocol
