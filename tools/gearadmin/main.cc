// gearadmin: sends text admin commands and prints the replies exactly as Debian's gearadmin
// 1.1.20 does (raw lists; "OK " stripped from single-line answers; "Error: x" for ERR), plus
// --shutdown. Exits non-zero on an ERR reply or a connection failure. Single-threaded.
// See docs/tools.md.
#include <getopt.h>
#include <netdb.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gearbox/admin.h"

namespace {

constexpr const char* kOptionsHelp =
    "Options:\n"
    "  --help                         Options related to the program.\n"
    "  -h [ --host ] arg (=localhost) Connect to the host\n"
    "  -p [ --port ] arg (=4730)      Port number or service to use for connection\n"
    "  --server-version               Fetch the version number for the server.\n"
    "  --server-verbose               Fetch the verbose setting for the server.\n"
    "  --create-function arg          Create the function from the server.\n"
    "  --cancel-job arg               Remove a given job from the server's queue\n"
    "  --drop-function arg            Drop the function from the server.\n"
    "  --show-unique-jobs             Show unique IDs of jobs on the server.\n"
    "  --show-jobs                    Show all jobs on the server.\n"
    "  --getpid                       Get Process ID for the server.\n"
    "  --status                       Status for the server.\n"
    "  --priority-status              Queued jobs status by priority.\n"
    "  --workers                      Workers for the server.\n"
    "  --shutdown                     Shut the server down (gearbox's gearmand, from "
    "loopback).\n"
    "  -S [ --ssl ]                   Enable SSL connections (not supported).\n";

enum Opt {
  kHelp = 1000,
  kServerVersion,
  kServerVerbose,
  kCreateFunction,
  kCancelJob,
  kDropFunction,
  kShowUniqueJobs,
  kShowJobs,
  kGetPid,
  kStatus,
  kPriorityStatus,
  kWorkers,
  kShutdown,
};

struct Args {
  std::string host = "localhost";
  std::string port = "4730";
  bool ssl = false;
  bool help = false;
  bool version = false, verbose = false, show_unique = false, show_jobs = false, getpid = false,
       status = false, priority_status = false, workers = false, shutdown = false;
  std::optional<std::string> create_function, cancel_job, drop_function;
};

void PrintOptions(FILE* f) {
  std::fprintf(f, "%s\n", kOptionsHelp);
}

int BadUsage(const char* argv0, const std::string& why) {
  std::printf("%s : %s\n\n", argv0, why.c_str());
  PrintOptions(stdout);
  return EXIT_FAILURE;
}

}  // namespace

int main(int argc, char** argv) {
  static const option kLong[] = {
      {"help", no_argument, nullptr, kHelp},
      {"host", required_argument, nullptr, 'h'},
      {"port", required_argument, nullptr, 'p'},
      {"server-version", no_argument, nullptr, kServerVersion},
      {"server-verbose", no_argument, nullptr, kServerVerbose},
      {"create-function", required_argument, nullptr, kCreateFunction},
      {"cancel-job", required_argument, nullptr, kCancelJob},
      {"drop-function", required_argument, nullptr, kDropFunction},
      {"show-unique-jobs", no_argument, nullptr, kShowUniqueJobs},
      {"show-jobs", no_argument, nullptr, kShowJobs},
      {"getpid", no_argument, nullptr, kGetPid},
      {"status", no_argument, nullptr, kStatus},
      {"priority-status", no_argument, nullptr, kPriorityStatus},
      {"workers", no_argument, nullptr, kWorkers},
      {"shutdown", no_argument, nullptr, kShutdown},
      {"ssl", no_argument, nullptr, 'S'},
      {nullptr, 0, nullptr, 0},
  };
  Args a;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":h:p:S", kLong, nullptr)) != -1) {
    switch (c) {
      case kHelp:
        a.help = true;
        break;
      case 'h':
        a.host = optarg;
        break;
      case 'p':
        a.port = optarg;
        break;
      case 'S':
        a.ssl = true;
        break;
      case kServerVersion:
        a.version = true;
        break;
      case kServerVerbose:
        a.verbose = true;
        break;
      case kCreateFunction:
        a.create_function = optarg;
        break;
      case kCancelJob:
        a.cancel_job = optarg;
        break;
      case kDropFunction:
        a.drop_function = optarg;
        break;
      case kShowUniqueJobs:
        a.show_unique = true;
        break;
      case kShowJobs:
        a.show_jobs = true;
        break;
      case kGetPid:
        a.getpid = true;
        break;
      case kStatus:
        a.status = true;
        break;
      case kPriorityStatus:
        a.priority_status = true;
        break;
      case kWorkers:
        a.workers = true;
        break;
      case kShutdown:
        a.shutdown = true;
        break;
      case ':':
        return BadUsage(argv[0], std::string("the required argument for option '") +
                                     argv[optind - 1] + "' is missing");
      default:
        return BadUsage(argv[0], std::string("unrecognised option '") + argv[optind - 1] + "'");
    }
  }
  if (optind < argc) {
    return BadUsage(argv[0], std::string("too many positional options have been specified on "
                                         "the command line"));
  }
  if (a.help) {
    PrintOptions(stdout);
    return EXIT_SUCCESS;
  }
  // Debian's tool runs its operations last-given-first; keep that order so output matches.
  // --shutdown (ours) runs after everything else.
  std::vector<std::string> commands;
  if (a.getpid) commands.push_back("getpid");
  if (a.create_function) commands.push_back("create function " + *a.create_function);
  if (a.drop_function) commands.push_back("drop function " + *a.drop_function);
  if (a.show_jobs) commands.push_back("show jobs");
  if (a.show_unique) commands.push_back("show unique jobs");
  if (a.cancel_job) commands.push_back("cancel job " + *a.cancel_job);
  if (a.verbose) commands.push_back("verbose");
  if (a.version) commands.push_back("version");
  if (a.workers) commands.push_back("workers");
  if (a.priority_status) commands.push_back("prioritystatus");
  if (a.status) commands.push_back("status");
  if (a.shutdown) commands.push_back("shutdown");
  if (commands.empty()) {
    std::printf("No option execution operation given.\n\n");
    PrintOptions(stdout);
    return EXIT_FAILURE;
  }
  if (a.ssl) {
    std::fprintf(stderr, "Error: SSL (-S) is not supported by this build\n");
    return EXIT_FAILURE;
  }

  gearbox::ServerAddress server;
  server.host = a.host;
  char* end = nullptr;
  long port = std::strtol(a.port.c_str(), &end, 10);
  if (!a.port.empty() && *end == '\0' && port >= 0 && port <= 65535) {
    server.port = static_cast<uint16_t>(port == 0 ? gearbox::kDefaultPort : port);
  } else if (servent* se = ::getservbyname(a.port.c_str(), "tcp"); se != nullptr) {
    server.port = ntohs(static_cast<uint16_t>(se->s_port));
  } else {
    std::fprintf(stderr, "Error: unknown port or service '%s'\n", a.port.c_str());
    return EXIT_FAILURE;
  }

  auto admin = gearbox::AdminClient::Connect(server);
  if (!admin) {
    std::fprintf(stderr, "Error: %s\n", admin.error().message().c_str());
    return EXIT_FAILURE;
  }
  int rc = EXIT_SUCCESS;
  for (const auto& cmd : commands) {
    auto reply = admin->Execute(cmd, gearbox::AdminClient::ReplyFor(cmd));
    if (!reply) {
      std::fprintf(stderr, "Error: %s\n", reply.error().message().c_str());
      return EXIT_FAILURE;
    }
    const std::string& r = *reply;
    if (r.compare(0, 3, "OK\r") == 0 || r == "OK\n") {
      std::fputs("OK\n", stdout);
    } else if (r.compare(0, 3, "OK ") == 0) {
      std::fwrite(r.data() + 3, 1, r.size() - 3, stdout);
    } else if (r.compare(0, 4, "ERR ") == 0) {
      std::fflush(stdout);
      std::fputs("Error: ", stderr);
      std::fwrite(r.data() + 4, 1, r.size() - 4, stderr);
      rc = EXIT_FAILURE;
    } else {
      std::fwrite(r.data(), 1, r.size(), stdout);
    }
    std::fflush(stdout);
  }
  return rc;
}
