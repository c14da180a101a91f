// gearman: the command-line client and worker, with libgearman's flags (getopt string
// "bc:f:h:HILnNp:Pst:u:vwi:dS") and output, on the gearbox library. Unlike libgearman's tool it
// exits non-zero when a job or a connection fails. Single-threaded main; the worker's handler
// runs one job at a time on the library's handler thread. See docs/tools.md.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "gearbox/gearbox.h"

namespace {

struct Args {
  bool background = false;
  uint64_t count = 0;
  bool daemon = false;
  std::vector<std::string> functions;
  std::string host;
  int port = 0;
  std::string pid_file;
  gearbox::Priority priority = gearbox::Priority::kNormal;
  bool per_line = false;
  bool strip_newline = false;
  bool prefix = false;
  bool suppress_input = false;
  int timeout = -1;
  std::optional<std::string> unique;
  bool worker = false;
  bool usage = false;
  bool verbose = false;
  bool ssl = false;
  bool is_error = false;
  std::string arg_error;
  std::vector<std::string> rest;  // data (client) or command (worker)
};

Args Parse(int argc, char** argv) {
  Args a;
  opterr = 0;
  int c;
  while ((c = getopt(argc, argv, "bc:f:h:HILnNp:Pst:u:vwi:dS")) != -1) {
    switch (c) {
      case 'b':
        a.background = true;
        break;
      case 'c':
        a.count = static_cast<uint64_t>(std::max(0, std::atoi(optarg)));
        break;
      case 'd':
        a.daemon = true;
        break;
      case 'f':
        a.functions.emplace_back(optarg);
        break;
      case 'h':
        a.host = optarg;
        break;
      case 'i':
        a.pid_file = optarg;
        break;
      case 'I':
        a.priority = gearbox::Priority::kHigh;
        break;
      case 'L':
        a.priority = gearbox::Priority::kLow;
        break;
      case 'n':
        a.per_line = true;
        break;
      case 'N':
        a.per_line = true;
        a.strip_newline = true;
        break;
      case 'p':
        a.port = std::atoi(optarg);
        break;
      case 'P':
        a.prefix = true;
        break;
      case 's':
        a.suppress_input = true;
        break;
      case 't':
        a.timeout = std::atoi(optarg);
        break;
      case 'u':
        a.unique = optarg;
        break;
      case 'w':
        a.worker = true;
        break;
      case 'H':
        a.usage = true;
        break;
      case 'v':
        a.verbose = true;
        break;
      case 'S':
        a.ssl = true;
        break;
      default:
        a.is_error = true;
        a.arg_error = std::string("-") + static_cast<char>(optopt ? optopt : c);
        break;
    }
  }
  for (int i = optind; i < argc; ++i)
    a.rest.emplace_back(argv[i]);
  if (a.functions.empty()) {
    a.is_error = true;
    a.arg_error = "No Functions were provided";
  }
  return a;
}

void Usage(const Args& a, const char* name, FILE* out) {
  auto tf = [](bool b) { return b ? "true" : "false"; };
  if (!a.arg_error.empty())
    std::fprintf(out, "\n%s\tError in usage(%s).\n\n", name, a.arg_error.c_str());
  std::fprintf(out, "Client mode: %s [options] [<data>]\n", name);
  std::fprintf(out, "Worker mode: %s -w [options] [<command> [<args> ...]]\n", name);
  std::fprintf(out, "\nCommon options to both client and worker modes.\n");
  std::fprintf(out, "\t-f <function> - Function name to use for jobs (can give many)\n");
  std::fprintf(out, "\t-h <host>     - Job server host\n");
  std::fprintf(out, "\t-H            - Print this help menu\n");
  std::fprintf(out, "\t-v            - Print diagnostic information to stdout(%s)\n",
               tf(a.verbose));
  std::fprintf(out, "\t-p <port>     - Job server port\n");
  std::fprintf(out, "\t-t <timeout>  - Timeout in milliseconds\n");
  std::fprintf(out, "\t-i <pidfile>  - Create a pidfile for the process\n");
  std::fprintf(out,
               "\t-S            - Enable SSL connections (not supported: exits with an error)\n");
  std::fprintf(out, "\nClient options:\n");
  std::fprintf(out, "\t-b            - Run jobs in the background(%s)\n", tf(a.background));
  std::fprintf(out, "\t-I            - Run jobs as high priority\n");
  std::fprintf(out, "\t-L            - Run jobs as low priority\n");
  std::fprintf(out, "\t-n            - Run one job per line(%s)\n", tf(a.per_line));
  std::fprintf(out, "\t-N            - Same as -n, but strip off the newline(%s)\n",
               tf(a.strip_newline));
  std::fprintf(out, "\t-P            - Prefix all output lines with functions names\n");
  std::fprintf(out, "\t-s            - Send job without reading from standard input\n");
  std::fprintf(out, "\t-u <unique>   - Unique key to use for job\n");
  std::fprintf(out, "\nWorker options:\n");
  std::fprintf(out, "\t-c <count>    - Number of jobs for worker to run before exiting\n");
  std::fprintf(out, "\t-n            - Send data packet for each line(%s)\n", tf(a.per_line));
  std::fprintf(out, "\t-N            - Same as -n, but strip off the newline(%s)\n",
               tf(a.strip_newline));
  std::fprintf(out, "\t-w            - Run in worker mode(%s)\n", tf(a.worker));
}

// The server list: GEARMAN_SERVER if set (libgearman's tool reads that variable), else -h/-p.
std::string Servers(const Args& a) {
  if (const char* env = std::getenv("GEARMAN_SERVER"); env != nullptr) return env;
  std::string host = a.host.empty() ? "localhost" : a.host;
  int port = a.port > 0 ? a.port : gearbox::kDefaultPort;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

void Write(FILE* f, std::string_view prefix, std::string_view data) {
  if (!prefix.empty()) {
    std::fwrite(prefix.data(), 1, prefix.size(), f);
    std::fwrite(": ", 1, 2, f);
  }
  std::fwrite(data.data(), 1, data.size(), f);
  std::fflush(f);
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  return out;
}

// ---- Client mode -----------------------------------------------------------------------------

int RunClient(const Args& a) {
  gearbox::ClientOptions opts;
  opts.servers = Servers(a);
  if (a.timeout >= 0) {
    opts.timeout = std::chrono::milliseconds(a.timeout);
    if (a.timeout > 0 && a.timeout < 5000)
      opts.connect_timeout = std::chrono::milliseconds(a.timeout);
  }
  auto client = gearbox::Client::Create(opts);
  if (!client) {
    std::fprintf(stderr, "gearman: %s\n", client.error().message().c_str());
    return EXIT_FAILURE;
  }
  bool failed = false;
  bool fatal = false;  // a run did not finish: its tasks are still pending, stop here
  auto run = [&](const std::string& workload) {
    if (fatal) return;
    for (const auto& fn : a.functions) {
      std::string prefix = a.prefix ? fn : "";
      gearbox::TaskSpec spec;
      spec.function = fn;
      spec.payload = workload;
      if (a.unique) spec.unique = *a.unique;
      spec.priority = a.priority;
      spec.background = a.background;
      auto& h = spec.handlers;
      h.on_created = [&a](const gearbox::Task& t) {
        if (a.verbose) {
          std::fprintf(stdout, "Task created: %s\n", t.handle().c_str());
          std::fflush(stdout);
        }
      };
      h.on_data = [prefix](const gearbox::Task&, std::string_view d) { Write(stdout, prefix, d); };
      h.on_complete = [prefix](const gearbox::Task&, std::string_view d) {
        Write(stdout, prefix, d);
      };
      h.on_warning = [prefix](const gearbox::Task&, std::string_view d) {
        Write(stderr, prefix, d);
      };
      h.on_status = [prefix](const gearbox::Task&, uint32_t num, uint32_t den) {
        if (!prefix.empty()) std::fprintf(stdout, "%s: ", prefix.c_str());
        std::fprintf(stdout, "%u%% Complete\n",
                     den == 0 ? 0u : static_cast<unsigned>(uint64_t{num} * 100 / den));
        std::fflush(stdout);
      };
      h.on_exception = [prefix, &failed](const gearbox::Task&, std::string_view d) {
        Write(stderr, prefix, d);
        if (!d.empty() && d.back() != '\n') std::fputc('\n', stderr);
        Write(stderr, prefix, "Job failed\n");
        failed = true;
      };
      h.on_fail = [prefix, &failed](const gearbox::Task&, const gearbox::Error& e) {
        if (e.code() == gearbox::Errc::kJobFailed) {
          Write(stderr, prefix, "Job failed\n");
        } else {
          std::fprintf(stderr, "gearman: %s\n", e.message().c_str());
        }
        failed = true;
      };
      auto t = client->AddTask(std::move(spec));
      if (!t) {
        std::fprintf(stderr, "gearman: %s\n", t.error().message().c_str());
        failed = true;
      }
    }
    auto r = client->RunTasks();
    if (!r) {
      std::fprintf(stderr, "gearman: %s\n", r.error().message().c_str());
      failed = true;
      fatal = true;
    }
  };
  if (!a.rest.empty()) {
    for (const auto& data : a.rest)
      run(data);
  } else if (a.suppress_input) {
    run("");
  } else if (a.per_line) {
    std::string line;
    int ch;
    bool any = false;
    while ((ch = std::fgetc(stdin)) != EOF) {
      line.push_back(static_cast<char>(ch));
      any = true;
      if (ch == '\n') {
        if (a.strip_newline) line.pop_back();
        run(line);
        line.clear();
        any = false;
      }
    }
    if (any) run(line);
  } else {
    run(ReadAll(STDIN_FILENO));
  }
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

// ---- Worker mode -----------------------------------------------------------------------------

std::atomic<gearbox::Worker*> g_worker{nullptr};

void OnSignal(int) {
  if (auto* w = g_worker.load()) w->Stop();
}

// Runs the command with `input` on its stdin; its stdout is handed to on_output as it arrives
// (whole lines when per_line). Returns the exit status (wait status), or -1 if it could not run.
int RunCommand(const std::vector<std::string>& cmd, const std::string& input, bool per_line,
               const std::function<void(std::string_view)>& on_output) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return -1;
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return -1;
  }
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (const auto& s : cmd)
      argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "gearman: cannot run '%s': %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  // Feed stdin and drain stdout together so neither side can block the other.
  size_t written = 0;
  int wfd = in[1];
  if (input.empty()) {
    ::close(wfd);
    wfd = -1;
  } else {
    ::fcntl(wfd, F_SETFL, O_NONBLOCK);
  }
  std::string pending;
  char buf[65536];
  bool open = true;
  while (open) {
    pollfd fds[2] = {{out[0], POLLIN, 0}, {wfd, POLLOUT, 0}};
    int n = ::poll(fds, wfd >= 0 ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (wfd >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(wfd, input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        ::close(wfd);
        wfd = -1;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(out[0], buf, sizeof(buf));
      if (r > 0) {
        pending.append(buf, static_cast<size_t>(r));
        if (per_line) {
          size_t nl;
          while ((nl = pending.find('\n')) != std::string::npos) {
            on_output(std::string_view(pending).substr(0, nl + 1));
            pending.erase(0, nl + 1);
          }
        }
      } else if (r == 0 || errno != EINTR) {
        open = false;
      }
    }
  }
  if (wfd >= 0) ::close(wfd);
  ::close(out[0]);
  if (!pending.empty()) on_output(pending);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

int RunWorker(const Args& a) {
  gearbox::WorkerOptions opts;
  opts.servers = Servers(a);
  opts.max_jobs = a.count;
  if (a.timeout > 0) {
    opts.idle_timeout = std::chrono::milliseconds(a.timeout);
    if (a.timeout < 5000) opts.connect_timeout = std::chrono::milliseconds(a.timeout);
  }
  if (a.verbose) {
    opts.log = [](std::string_view m) {
      std::fprintf(stderr, "gearman: %.*s\n", static_cast<int>(m.size()), m.data());
    };
  }
  auto worker = gearbox::Worker::Create(opts);
  if (!worker) {
    std::fprintf(stderr, "gearman: %s\n", worker.error().message().c_str());
    return EXIT_FAILURE;
  }
  std::atomic<bool> job_failed{false};
  for (const auto& fn : a.functions) {
    auto r = worker->Register(fn, [&a, &job_failed](gearbox::Job& job) -> gearbox::WorkResult {
      if (a.rest.empty()) {
        Write(stdout, "", job.payload());
        return gearbox::WorkResult::Complete();
      }
      std::string result;
      int status = RunCommand(a.rest, job.payload(), a.per_line, [&](std::string_view chunk) {
        if (a.per_line) {
          if (a.strip_newline && !chunk.empty() && chunk.back() == '\n') chunk.remove_suffix(1);
          job.SendData(chunk);
        } else {
          result.append(chunk);
        }
      });
      if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (!result.empty()) job.SendData(result);
        job_failed = true;
        return gearbox::WorkResult::Fail();
      }
      return result;
    });
    if (!r) {
      std::fprintf(stderr, "gearman: %s\n", r.error().message().c_str());
      return EXIT_FAILURE;
    }
  }
  if (auto c = worker->Connect(); !c) {
    std::fprintf(stderr, "gearman: %s\n", c.error().message().c_str());
    return EXIT_FAILURE;
  }
  g_worker = &*worker;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto r = worker->Run();
  g_worker = nullptr;
  if (!r) {
    std::fprintf(stderr, "gearman: %s\n", r.error().message().c_str());
    return EXIT_FAILURE;
  }
  return job_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = Parse(argc, argv);
  if (args.usage) {
    Usage(args, argv[0], stdout);
    return EXIT_SUCCESS;
  }
  if (args.is_error) {
    Usage(args, argv[0], stderr);
    return EXIT_FAILURE;
  }
  if (args.ssl) {
    std::fprintf(stderr, "gearman: SSL (-S) is not supported by this build\n");
    return EXIT_FAILURE;
  }
  std::signal(SIGPIPE, SIG_IGN);
  if (args.daemon) {
    pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("fork");
      return EXIT_FAILURE;
    }
    if (pid > 0) return EXIT_SUCCESS;
    if (::setsid() == -1) {
      std::perror("setsid");
      return EXIT_FAILURE;
    }
    int fd = ::open("/dev/null", O_RDWR);
    if (fd >= 0) {
      ::dup2(fd, STDIN_FILENO);
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      if (fd > STDERR_FILENO) ::close(fd);
    }
  }
  if (!args.pid_file.empty()) {
    std::ofstream pf(args.pid_file, std::ios::trunc);
    if (!pf) {
      std::fprintf(stderr, "gearman: cannot create pid file %s: %s\n", args.pid_file.c_str(),
                   std::strerror(errno));
      return EXIT_FAILURE;
    }
    pf << ::getpid() << "\n";
  }
  int rc = args.worker ? RunWorker(args) : RunClient(args);
  if (!args.pid_file.empty()) ::unlink(args.pid_file.c_str());
  return rc;
}
