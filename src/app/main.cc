// gearmand: the job server's entry point. Flags, daemonizing, pid file, user switch and crash
// handlers live here; everything else is in the libraries the tests link.
#include <execinfo.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "base/log.h"
#include "gearbox_version.h"
#include "server/options.h"
#include "server/server.h"

namespace {

void CrashHandler(int sig) {
  const char msg[] = "gearmand: fatal signal, backtrace follows\n";
  ssize_t n = ::write(STDERR_FILENO, msg, sizeof(msg) - 1);
  (void)n;
  void* frames[64];
  int count = ::backtrace(frames, 64);
  ::backtrace_symbols_fd(frames, count, STDERR_FILENO);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

bool RaiseFdLimit(int64_t wanted) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return false;
  rlim_t target = wanted > 0 ? static_cast<rlim_t>(wanted) : rl.rlim_max;
  if (target > rl.rlim_max && ::geteuid() == 0) rl.rlim_max = target;
  rl.rlim_cur = std::min(target, rl.rlim_max);
  return ::setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "gearmand: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using gearbox::server::ServerOptions;
  ::signal(SIGPIPE, SIG_IGN);

  auto parsed = gearbox::server::ParseOptions(argc, argv);
  if (!parsed.ok()) {
    return Fail(parsed.status().message() + "\nTry 'gearmand --help' for the options.");
  }
  ServerOptions& o = parsed.value();
  if (o.show_help) {
    std::fputs(o.help_text.c_str(), stdout);
    return 0;
  }
  if (o.show_version) {
    std::printf("gearmand %s (Gearbox) - https://gearman.org/\n", GEARBOX_VERSION);
    return 0;
  }
  if (auto st = gearbox::server::ValidateModules(o); !st.ok()) return Fail(st.message());
  if (!o.user.empty() && ::geteuid() != 0) {
    return Fail("--user " + o.user + ": only root can switch users");
  }
  if (o.check_args) return 0;

  if (o.coredump) {
    rlimit rl{RLIM_INFINITY, RLIM_INFINITY};
    ::setrlimit(RLIMIT_CORE, &rl);
  } else {
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, CrashHandler);
  }
  if (!RaiseFdLimit(o.file_descriptors) && o.file_descriptors > 0) {
    std::fprintf(stderr, "gearmand: could not set the file descriptor limit to %lld\n",
                 static_cast<long long>(o.file_descriptors));
  }

  gearbox::server::InitLogging(o);
  GB_LOG(kNotice, "Starting up gearmand {} (Gearbox)", GEARBOX_VERSION);

  gearbox::server::Server server(o);
  if (auto st = server.Bind(); !st.ok()) {
    GB_LOG(kFatal, "{}", st.message());
    return Fail(st.message());
  }
  if (o.daemon && ::daemon(0, 0) != 0) return Fail(std::string("daemon: ") + std::strerror(errno));
  if (!o.pid_file.empty()) {
    std::ofstream pf(o.pid_file, std::ios::trunc);
    if (!pf) {
      GB_LOG(kFatal, "Could not write pid file {}", o.pid_file);
      return Fail("could not write pid file " + o.pid_file);
    }
    pf << ::getpid() << "\n";
  }
  if (!o.user.empty()) {
    passwd* pw = ::getpwnam(o.user.c_str());
    if (pw == nullptr) return Fail("unknown user " + o.user);
    if (::setgid(pw->pw_gid) != 0 || ::initgroups(pw->pw_name, pw->pw_gid) != 0 ||
        ::setuid(pw->pw_uid) != 0) {
      return Fail("could not switch to user " + o.user + ": " + std::strerror(errno));
    }
  }
  if (auto st = server.Start(); !st.ok()) {
    GB_LOG(kFatal, "{}", st.message());
    return Fail(st.message());
  }
  int rc = server.Run();
  GB_LOG(kNotice, "Shutdown complete");
  if (!o.pid_file.empty()) ::unlink(o.pid_file.c_str());
  return rc;
}
