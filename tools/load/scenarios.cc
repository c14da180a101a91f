#include "scenarios.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>

#include "engine.h"
#include "net.h"
#include "roles.h"

namespace gearbox::load {
namespace {

using protocol::Command;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string Thousands(uint64_t v) {
  return fmt::format("{}", v);
}

// What one phase did, copied out of its Phase once its loops have stopped.
struct PhaseStats {
  bool ok = false;
  double seconds = 0;
  uint64_t submitted = 0, created = 0, assigned = 0, completed = 0, delivered = 0;
  uint64_t no_jobs = 0, noops = 0, pre_sleeps = 0, echoes = 0;
  uint64_t paced_submits = 0, submits_to_sleeping = 0;  // --gap-us: see Phase
  std::vector<double> tenth_rates;  // progress per second within each tenth of the target
  double server_cpu_s = -1;         // CPU the server used during the phase (-1: unknown)
  double tool_cpu_s = 0;            // CPU this tool used during the phase
  double rate(uint64_t n) const { return seconds > 0 ? static_cast<double>(n) / seconds : 0; }
  double server_us_per(uint64_t n) const {
    return server_cpu_s >= 0 && n > 0 ? server_cpu_s * 1e6 / static_cast<double>(n) : -1;
  }
  double tool_us_per(uint64_t n) const {
    return n > 0 ? tool_cpu_s * 1e6 / static_cast<double>(n) : -1;
  }
};

class Runner {
 public:
  Runner(const Options& o, Report* r) : o_(o), r_(r) {}

  bool Init() {
    auto ep = Resolve(o_.host, o_.port);
    if (!ep.ok()) {
      r_->errors.push_back(ep.status().message());
      return false;
    }
    ep_ = ep.value();
    r_->server = ep_.text;
    w_.function = o_.function.empty() ? fmt::format("gearbox-load.{}", ::getpid()) : o_.function;
    w_.payload.assign(o_.payload, 'x');
    w_.result.assign(o_.result, 'r');
    w_.unique = o_.unique;
    w_.gap_ns = static_cast<int64_t>(o_.gap_us) * 1000;
    if (!ChooseEngine()) return false;
    // The server's pid, when it runs here: its CPU time per phase is a figure that survives a
    // busy machine far better than wall-clock rates.
    if (o_.server_pid > 0) {
      server_pid_ = o_.server_pid;
    } else if (IsLoopback(ep_)) {
      if (auto p = ServerPid(ep_); p.ok() && ProcessCpuNs(p.value()).ok()) server_pid_ = p.value();
    }
    if (o_.priority == "high") {
      w_.submit_bg = Command::kSubmitJobHighBg;
      w_.submit_fg = Command::kSubmitJobHigh;
    } else if (o_.priority == "low") {
      w_.submit_bg = Command::kSubmitJobLowBg;
      w_.submit_fg = Command::kSubmitJobLow;
    }
    return true;
  }

  // --io-engine: io_uring when asked for or (auto) when this kernel allows it, else epoll.
  bool ChooseEngine() {
    if (o_.io_engine == "epoll") {
      engine_ = IoEngine::kEpoll;
    } else {
      std::string why;
      if (Loop::Create(IoEngine::kUring, &why) != nullptr) {
        engine_ = IoEngine::kUring;
      } else if (o_.io_engine == "io_uring") {
        r_->errors.push_back("--io-engine io_uring: not usable here: " + why);
        return false;
      } else {
        engine_ = IoEngine::kEpoll;
        r_->notes.push_back("io_uring is not usable here (" + why + "); used epoll");
      }
    }
    r_->io_engine = EngineName(engine_);
    return true;
  }

  const Endpoint& endpoint() const { return ep_; }
  int server_pid() const { return server_pid_; }
  const Workload& workload() const { return w_; }

  // Opens n connections; records an error and returns an empty vector on failure.
  std::vector<int> Connect(size_t n) {
    auto fds = ConnectMany(ep_, n, o_.connect_parallel, std::chrono::seconds(60));
    if (!fds.ok()) {
      r_->errors.push_back(fds.status().message());
      return {};
    }
    return std::move(fds).value();
  }

  // One loop per --threads; records an error and returns an empty vector on failure.
  std::vector<std::unique_ptr<Loop>> MakeLoops() {
    std::vector<std::unique_ptr<Loop>> loops;
    for (uint32_t i = 0; i < std::max<uint32_t>(o_.threads, 1); ++i) {
      std::string why;
      // Loop 0 runs on this thread (RunPhase), and so do settling and teardown of every loop;
      // the others also run on their own threads.
      auto loop = Loop::Create(engine_, &why, /*one_thread=*/i == 0);
      if (!loop) {
        r_->errors.push_back(fmt::format("cannot create a {} loop: {}", EngineName(engine_), why));
        return {};
      }
      loops.push_back(std::move(loop));
    }
    return loops;
  }

  static uint64_t Share(uint64_t total, uint64_t parts, uint64_t i) {
    return total / parts + (i < total % parts ? 1 : 0);
  }

  // Opens `count` connections and gives each to a loop, round robin, as the Conn that
  // make(fd, i) returns; runs the phase and settles it. Nothing, with the error recorded, when
  // a loop or a connection could not be made.
  template <typename Make>
  std::optional<PhaseStats> RunRoles(Phase& ph, size_t count, Make make) {
    auto loops = MakeLoops();
    if (loops.empty()) return std::nullopt;
    auto fds = Connect(count);
    if (fds.empty()) return std::nullopt;
    for (uint32_t i = 0; i < fds.size(); ++i) {
      loops[i % loops.size()]->Add(make(fds[i], i));
    }
    return RunAndSettle(ph, loops);
  }

  // Fills the queue with n background jobs from `clients` connections.
  PhaseStats Fill(uint64_t n, const std::string& name) {
    Phase ph(name, n);
    auto run = RunRoles(ph, o_.clients, [&](int fd, uint32_t i) {
      return std::make_unique<BgSubmitter>(fd, &ph, &w_, Share(n, o_.clients, i), o_.window, i);
    });
    if (!run) return {};
    PhaseStats st = *run;
    Expect(st.submitted == n && st.created == n,
           fmt::format("{}: submitted {} and created {}, expected {}", name, st.submitted,
                       st.created, n));
    return st;
  }

  // Drains n queued jobs with `workers` connections. With `partial`, more jobs are queued than
  // n: the grabs still outstanding when the n-th job completes (at most grab_window per worker;
  // no worker grabs again once the phase is done) take up to workers x grab_window more, which
  // are completed too.
  PhaseStats Drain(uint64_t n, const std::string& name, bool partial = false) {
    Phase ph(name, n);
    auto run = RunRoles(ph, o_.workers, [&](int fd, uint32_t) {
      return std::make_unique<Worker>(fd, &ph, &w_, o_.grab_window, /*counts_progress=*/true);
    });
    if (!run) return {};
    PhaseStats st = *run;
    uint64_t most = partial ? n + uint64_t{o_.workers} * o_.grab_window : n;
    Expect(
        st.assigned >= n && st.assigned <= most && st.completed == st.assigned,
        fmt::format("{}: assigned {} and completed {}, expected {}", name, st.assigned,
                    st.completed, partial ? fmt::format("{} to {}", n, most) : std::to_string(n)));
    return st;
  }

  // n echoes from `clients` connections, `window` ECHO_REQs in flight on each.
  PhaseStats Echo(uint64_t n, const std::string& name) {
    Phase ph(name, n);
    auto run = RunRoles(ph, o_.clients, [&](int fd, uint32_t i) {
      return std::make_unique<Echoer>(fd, &ph, &w_, Share(n, o_.clients, i), o_.window);
    });
    if (!run) return {};
    PhaseStats st = *run;
    if (st.ok) {
      Expect(st.echoes == n,
             fmt::format("{}: {} echoes came back, expected {}", name, st.echoes, n));
    }
    return st;
  }

  // n foreground jobs from `clients` x `window`, executed by `workers`.
  PhaseStats Roundtrip(uint64_t n, uint64_t warmup, LatencyHistogram* latency) {
    Phase ph("roundtrip", n);
    ph.workers = o_.workers;
    auto loops = MakeLoops();
    if (loops.empty()) return {};
    auto worker_fds = Connect(o_.workers);
    if (worker_fds.empty()) return {};
    auto client_fds = Connect(o_.clients);
    if (client_fds.empty()) {
      for (int fd : worker_fds)
        ::close(fd);
      return {};
    }
    std::vector<std::unique_ptr<LatencyHistogram>> hists;
    for (size_t i = 0; i < loops.size(); ++i)
      hists.push_back(std::make_unique<LatencyHistogram>());
    size_t k = 0;
    for (int fd : worker_fds) {
      loops[k++ % loops.size()]->Add(
          std::make_unique<Worker>(fd, &ph, &w_, o_.grab_window, /*counts_progress=*/false));
    }
    for (uint32_t i = 0; i < client_fds.size(); ++i) {
      size_t l = k++ % loops.size();
      loops[l]->Add(std::make_unique<FgClient>(client_fds[i], &ph, &w_,
                                               Share(n, client_fds.size(), i), o_.window, i, warmup,
                                               hists[l].get()));
    }
    PhaseStats st = RunAndSettle(ph, loops);
    for (auto& h : hists)
      latency->Merge(*h);
    Expect(st.submitted == n && st.created == n && st.delivered == n,
           fmt::format("roundtrip: submitted {}, created {}, results received {}, expected {}",
                       st.submitted, st.created, st.delivered, n));
    Expect(st.assigned == n && st.completed == n,
           fmt::format("roundtrip: workers were assigned {} and completed {}, expected {}",
                       st.assigned, st.completed, n));
    st.paced_submits = ph.paced_submits.load();
    st.submits_to_sleeping = ph.submits_to_sleeping.load();
    return st;
  }

  // Checks the server's `status` count for our function.
  void ExpectQueued(uint64_t expected, const std::string& when) {
    // A server may answer `status` before it has applied results it already received (gearmand
    // -t 4 hands them to its processing thread): read it again for up to 2 s until it matches.
    int64_t deadline = NowNs() + 2'000'000'000;
    auto q = QueuedJobs(ep_, w_.function);
    while (q.ok() && q.value() != expected && NowNs() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      q = QueuedJobs(ep_, w_.function);
    }
    if (!q.ok()) {
      r_->errors.push_back("status admin command " + when + ": " + q.status().message());
      return;
    }
    Expect(q.value() == expected,
           fmt::format("server `status` shows {} jobs for {} {}, expected {}", q.value(),
                       w_.function, when, expected));
  }

  void Expect(bool ok, const std::string& message) {
    if (!ok) r_->errors.push_back(message);
  }

  // Runs a phase over loops with the progress line and stall check, without settling.
  void RunWithTicker(Phase& ph, std::vector<std::unique_ptr<Loop>>& loops) {
    uint64_t last = 0;
    int64_t last_change = NowNs();
    uint64_t last_tick_progress = 0;
    int64_t last_tick = NowNs();
    auto tick = [&] {
      int64_t now = NowNs();
      uint64_t p = ph.progress.load(std::memory_order_relaxed);
      if (p != last) {
        last = p;
        last_change = now;
      } else if (static_cast<double>(now - last_change) / 1e9 > o_.timeout_s) {
        ph.Fail(fmt::format("{}: stalled, no progress for {:.0f} s at {} of {}", ph.name,
                            o_.timeout_s, p, ph.target));
      }
      if (o_.progress) {
        double dt = static_cast<double>(now - last_tick) / 1e9;
        double rate = dt > 0 ? static_cast<double>(p - last_tick_progress) / dt : 0;
        std::fprintf(
            stderr, "\r[%s] %llu/%llu (%.0f%%) %.0f/s\033[K", ph.name.c_str(),
            static_cast<unsigned long long>(p), static_cast<unsigned long long>(ph.target),
            ph.target ? 100.0 * static_cast<double>(p) / static_cast<double>(ph.target) : 0.0,
            rate);
        std::fflush(stderr);
      }
      last_tick_progress = p;
      last_tick = now;
    };
    RunPhase(&ph, loops, tick);
    if (o_.progress) {
      std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
    }
  }

  PhaseStats RunAndSettle(Phase& ph, std::vector<std::unique_ptr<Loop>>& loops) {
    uint64_t tool0 = SelfCpuNs();
    auto server0 =
        server_pid_ > 0 ? ProcessCpuNs(server_pid_) : Result<uint64_t>(Status::NotFound(""));
    RunWithTicker(ph, loops);
    auto server1 =
        server_pid_ > 0 ? ProcessCpuNs(server_pid_) : Result<uint64_t>(Status::NotFound(""));
    uint64_t tool1 = SelfCpuNs();
    if (!ph.failed.load()) {
      auto settle =
          std::chrono::milliseconds(static_cast<int64_t>(std::max(10.0, o_.timeout_s) * 1000));
      for (auto& l : loops) {
        if (!l->Settle(&ph, settle)) break;
      }
    }
    PhaseStats st = Collect(ph);
    if (server0.ok() && server1.ok()) {
      st.server_cpu_s = static_cast<double>(server1.value() - server0.value()) / 1e9;
    }
    st.tool_cpu_s = static_cast<double>(tool1 - tool0) / 1e9;
    return st;
  }

  PhaseStats Collect(Phase& ph) {
    PhaseStats st;
    st.seconds = ph.Seconds();
    st.submitted = ph.submitted.load();
    st.created = ph.created.load();
    st.assigned = ph.assigned.load();
    st.completed = ph.completed.load();
    st.delivered = ph.delivered.load();
    st.no_jobs = ph.no_jobs.load();
    st.noops = ph.noops.load();
    st.pre_sleeps = ph.pre_sleeps.load();
    st.echoes = ph.echoes.load();
    if (ph.target >= 10) {
      int64_t prev = ph.start_ns;
      for (size_t i = 0; i < ph.tenth_ns.size(); ++i) {
        int64_t t = ph.tenth_ns[i].load();
        if (t <= prev) break;
        st.tenth_rates.push_back(static_cast<double>(ph.target) / 10.0 /
                                 (static_cast<double>(t - prev) / 1e9));
        prev = t;
      }
    }
    for (auto& e : ph.Errors())
      r_->errors.push_back(e);
    st.ok = !ph.failed.load() && ph.done.load();
    totals_.submitted += st.submitted;
    totals_.created += st.created;
    totals_.assigned += st.assigned;
    totals_.completed += st.completed;
    totals_.delivered += st.delivered;
    totals_.no_jobs += st.no_jobs;
    totals_.noops += st.noops;
    totals_.pre_sleeps += st.pre_sleeps;
    return st;
  }

  // The correctness counters summed over every phase of the run (none for connect-only runs).
  void AddCounts() {
    if (totals_.submitted + totals_.assigned == 0) return;
    r_->Count("submitted", totals_.submitted);
    r_->Count("created", totals_.created);
    r_->Count("assigned", totals_.assigned);
    r_->Count("completed", totals_.completed);
    r_->Count("results_received", totals_.delivered);
    r_->Count("no_job", totals_.no_jobs);
    r_->Count("noop", totals_.noops);
    r_->Count("pre_sleep", totals_.pre_sleeps);
  }

  // CPU per job of the server (when it runs here) and of this tool, for one phase.
  void AddCpu(const PhaseStats& st, uint64_t n, const std::string& prefix,
              const std::string& label) {
    if (st.server_cpu_s >= 0) {
      r_->Add(prefix + "server_cpu_us_per_job", label + "server CPU per job", st.server_us_per(n),
              "us");
    }
    r_->Add(prefix + "tool_cpu_us_per_job", label + "load-tool CPU per job", st.tool_us_per(n),
            "us");
  }

  void CommonParams(uint64_t jobs) {
    r_->IntParam("jobs", static_cast<int64_t>(jobs));
    r_->IntParam("payload_bytes", static_cast<int64_t>(o_.payload));
    r_->IntParam("threads", o_.threads);
    r_->Param("jobs", Thousands(jobs));
    r_->Param("payload", HumanBytes(static_cast<double>(o_.payload)));
    r_->Param("function", w_.function);
  }

 private:
  const Options& o_;
  Report* r_;
  Endpoint ep_;
  Workload w_;
  IoEngine engine_ = IoEngine::kEpoll;
  PhaseStats totals_;
  int server_pid_ = 0;  // 0: not on this host, or unknown
};

uint64_t Jobs(const Options& o, uint64_t fallback) {
  return o.jobs > 0 ? o.jobs : fallback;
}

// ---------------------------------------------------------------------------------------------

void SubmitBg(const Options& o, Runner& run, Report* r) {
  uint64_t n = Jobs(o, 100'000);
  run.CommonParams(n);
  r->Param("clients", fmt::format("{} x window {}", o.clients, o.window));
  r->IntParam("clients", o.clients);
  r->IntParam("window", o.window);
  PhaseStats st = run.Fill(n, "submit-bg");
  r->Add("submit_jobs_per_s", "submit rate", st.rate(n), "jobs/s");
  r->Add("submit_seconds", "submit time", st.seconds, "s");
  run.AddCpu(st, n, "submit_", "submit: ");
  if (st.ok) run.ExpectQueued(n, "after the submits");
  if (o.cleanup && st.ok && r->ok()) {
    r->Param("cleanup", fmt::format("drained afterwards by {} workers (not timed)", o.workers));
    PhaseStats d = run.Drain(n, "cleanup-drain");
    if (d.ok) run.ExpectQueued(0, "after the cleanup drain");
  }
}

void Drain(const Options& o, Runner& run, Report* r) {
  uint64_t n = Jobs(o, 100'000);
  run.CommonParams(n);
  r->Param("fill", fmt::format("{} clients x window {}", o.clients, o.window));
  r->Param("drain", fmt::format("{} workers x {} grabs outstanding", o.workers, o.grab_window));
  r->IntParam("clients", o.clients);
  r->IntParam("window", o.window);
  r->IntParam("workers", o.workers);
  r->IntParam("grab_window", o.grab_window);
  r->IntParam("repeat", o.repeat);
  std::vector<double> fill_rates, drain_rates, drain_secs, tenths, drain_cpu, drain_tool_cpu;
  for (uint32_t rep = 0; rep < std::max<uint32_t>(o.repeat, 1) && r->ok(); ++rep) {
    PhaseStats f = run.Fill(n, "fill");
    if (!f.ok || !r->ok()) break;
    run.ExpectQueued(n, "after the fill");
    if (!r->ok()) break;
    PhaseStats d = run.Drain(n, "drain");
    if (!d.ok) break;
    fill_rates.push_back(f.rate(n));
    drain_rates.push_back(d.rate(n));
    drain_secs.push_back(d.seconds);
    drain_cpu.push_back(d.server_us_per(n));
    drain_tool_cpu.push_back(d.tool_us_per(n));
    tenths.insert(tenths.end(), d.tenth_rates.begin(), d.tenth_rates.end());
  }
  r->Add("drain_jobs_per_s", "drain rate", Median(drain_rates), "jobs/s");
  r->Add("drain_seconds", "drain time", Median(drain_secs), "s");
  r->Add("fill_jobs_per_s", "fill (submit) rate", Median(fill_rates), "jobs/s");
  if (!drain_cpu.empty() && drain_cpu.front() >= 0) {
    r->Add("drain_server_cpu_us_per_job", "drain: server CPU per job", Median(drain_cpu), "us");
  }
  if (!drain_tool_cpu.empty()) {
    r->Add("drain_tool_cpu_us_per_job", "drain: load-tool CPU per job", Median(drain_tool_cpu),
           "us");
  }
  if (!tenths.empty() && n >= 1000) {
    r->Add("drain_min_tenth_jobs_per_s", "drain rate, slowest tenth",
           *std::min_element(tenths.begin(), tenths.end()), "jobs/s");
    r->Add("drain_max_tenth_jobs_per_s", "drain rate, fastest tenth",
           *std::max_element(tenths.begin(), tenths.end()), "jobs/s");
  }
  if (o.repeat > 1) r->notes.push_back(fmt::format("median of {} fill+drain cycles", o.repeat));
  if (r->ok()) run.ExpectQueued(0, "after the drain");
}

// The request/reply floor: ECHO_REQ -> ECHO_RES with the same connections and windows as a
// drain's workers, through the same server and the same tool, with no job state at all.
void Echo(const Options& o, Runner& run, Report* r) {
  uint64_t n = Jobs(o, 100'000);
  r->IntParam("jobs", static_cast<int64_t>(n));
  r->IntParam("payload_bytes", static_cast<int64_t>(o.payload));
  r->IntParam("threads", o.threads);
  r->IntParam("clients", o.clients);
  r->IntParam("window", o.window);
  r->Param("echoes", Thousands(n));
  r->Param("payload", HumanBytes(static_cast<double>(o.payload)));
  r->Param("connections", fmt::format("{} x {} ECHO_REQ in flight", o.clients, o.window));
  std::vector<double> rates, cpu, tool_cpu;
  uint64_t echoes = 0;
  for (uint32_t rep = 0; rep < std::max<uint32_t>(o.repeat, 1) && r->ok(); ++rep) {
    PhaseStats st = run.Echo(n, "echo");
    if (!st.ok) break;
    echoes += n;
    rates.push_back(st.rate(n));
    cpu.push_back(st.server_us_per(n));
    tool_cpu.push_back(st.tool_us_per(n));
  }
  r->Count("echoes", echoes);
  if (rates.empty()) return;
  r->Add("echo_per_s", "echo rate", Median(rates), "echoes/s");
  if (cpu.front() >= 0) r->Add("echo_server_cpu_us", "server CPU per echo", Median(cpu), "us");
  r->Add("echo_tool_cpu_us", "load-tool CPU per echo", Median(tool_cpu), "us");
  if (o.repeat > 1) r->notes.push_back(fmt::format("median of {} runs", o.repeat));
}

void Roundtrip(const Options& o, Runner& run, Report* r) {
  uint64_t n = Jobs(o, 100'000);
  uint64_t warmup =
      o.warmup >= 0 ? static_cast<uint64_t>(o.warmup) : std::min<uint64_t>(n / 10, 10'000);
  run.CommonParams(n);
  r->Param("clients", fmt::format("{} x window {}", o.clients, o.window));
  r->Param("workers", fmt::format("{} x {} grabs outstanding", o.workers, o.grab_window));
  r->Param("warmup", fmt::format("{} jobs left out of the latency figures", warmup));
  r->IntParam("clients", o.clients);
  r->IntParam("window", o.window);
  r->IntParam("workers", o.workers);
  r->IntParam("grab_window", o.grab_window);
  r->IntParam("gap_us", static_cast<int64_t>(o.gap_us));
  if (o.gap_us > 0) {
    r->Param("gap", fmt::format("{} us pause after each result before the next submit", o.gap_us));
  }
  LatencyHistogram h;
  PhaseStats st = run.Roundtrip(n, warmup, &h);
  r->Add("roundtrip_jobs_per_s", "throughput", st.rate(n), "jobs/s");
  r->Add("roundtrip_seconds", "time", st.seconds, "s");
  run.AddCpu(st, n, "", "");
  r->AddLatency("latency", "latency", h);
  if (o.gap_us > 0) {
    r->Count("paced_submits", st.paced_submits);
    r->Count("paced_submits_workers_asleep", st.submits_to_sleeping);
    r->notes.push_back("paced: throughput and CPU per job include the pauses");
    if (st.submits_to_sleeping < st.paced_submits) {
      r->notes.push_back(
          fmt::format("{} of {} paced submits found a worker not yet back asleep (raise --gap-us)",
                      st.paced_submits - st.submits_to_sleeping, st.paced_submits));
    }
  }
  if (st.ok && r->ok()) run.ExpectQueued(0, "after the run");
}

void Memory(const Options& o, Runner& run, Report* r) {
  uint64_t n = Jobs(o, 100'000);
  run.CommonParams(n);
  int pid = o.server_pid > 0 ? o.server_pid : run.server_pid();
  if (pid <= 0) {
    auto p = ServerPid(run.endpoint());
    if (!p.ok()) {
      r->errors.push_back("cannot find the server pid (give --server-pid): " +
                          p.status().message());
      return;
    }
    pid = p.value();
  }
  r->IntParam("server_pid", pid);
  r->Param("server pid", std::to_string(pid));
  auto rss = [&](const char* when) -> double {
    std::this_thread::sleep_for(std::chrono::milliseconds(o.settle_ms));
    auto b = ResidentBytes(pid);
    if (!b.ok()) {
      r->errors.push_back(std::string("RSS ") + when + ": " + b.status().message() +
                          " (memory needs the server on this host)");
      return 0;
    }
    return static_cast<double>(b.value());
  };
  double before = rss("before");
  if (!r->ok()) return;
  PhaseStats f = run.Fill(n, "fill");
  if (!f.ok) return;
  double full = rss("with the queue full");
  double per_job = (full - before) / static_cast<double>(n);
  r->Add("rss_before_bytes", "server RSS before", before, "bytes");
  r->Add("rss_full_bytes", "server RSS, queue full", full, "bytes");
  r->Add("bytes_per_queued_job", "RSS per queued job", per_job, "B/job");
  r->Add("fill_jobs_per_s", "fill (submit) rate", f.rate(n), "jobs/s");
  run.AddCpu(f, n, "fill_", "fill: ");
  // --drain-jobs D < n: drain only D jobs (the rate with the queue about n deep) and leave the
  // rest queued; the after-drain figures then do not apply.
  uint64_t to_drain = o.drain_jobs > 0 && o.drain_jobs < n ? o.drain_jobs : n;
  bool partial = to_drain < n;
  PhaseStats d = run.Drain(to_drain, "drain", partial);
  r->Add("drain_jobs_per_s", partial ? "drain rate (deep queue)" : "drain rate", d.rate(to_drain),
         "jobs/s");
  run.AddCpu(d, to_drain, "drain_", "drain: ");
  if (!d.tenth_rates.empty()) {
    r->Add("drain_first_tenth_jobs_per_s", "drain rate, first tenth", d.tenth_rates.front(),
           "jobs/s");
    r->Add("drain_last_tenth_jobs_per_s", "drain rate, last tenth", d.tenth_rates.back(), "jobs/s");
  }
  if (partial) {
    r->IntParam("drain_jobs", static_cast<int64_t>(to_drain));
    r->Param("drained", fmt::format("{} of the {} jobs (the rest stay queued)", to_drain, n));
    if (d.ok && r->ok()) run.ExpectQueued(n - d.completed, "after the partial drain");
    return;
  }
  double drained = rss("after the drain");
  r->Add("rss_drained_bytes", "server RSS after the drain", drained, "bytes");
  r->Add("retained_after_drain_bytes", "RSS kept after the drain", drained - before, "bytes");
  r->Add("returned_fraction", "share of the growth returned",
         full > before ? (full - drained) / (full - before) : 0, "");
  if (d.ok && r->ok()) run.ExpectQueued(0, "after the drain");
}

void Connections(const Options& o, Runner& run, Report* r) {
  uint64_t c = o.connections;
  uint64_t need = c + o.clients + o.workers + 64;
  uint64_t limit = RaiseFdLimit(need);
  r->IntParam("connections", static_cast<int64_t>(c));
  r->IntParam("threads", o.threads);
  r->Param("idle connections", Thousands(c));
  if (limit < need) {
    r->errors.push_back(fmt::format("RLIMIT_NOFILE is {} and cannot be raised to {}", limit, need));
    return;
  }
  int pid = o.server_pid;
  if (pid <= 0) {
    auto p = ServerPid(run.endpoint());
    if (p.ok()) pid = p.value();
  }
  double rss0 = 0;
  if (pid > 0) {
    if (auto b = ResidentBytes(pid); b.ok()) rss0 = static_cast<double>(b.value());
  }
  int64_t t0 = NowNs();
  auto fds = run.Connect(c);
  if (fds.empty()) return;
  double connect_s = static_cast<double>(NowNs() - t0) / 1e9;
  r->Add("connect_per_s", "connects", static_cast<double>(c) / connect_s, "conn/s");

  // Every held connection must answer an ECHO_REQ.
  auto held = run.MakeLoops();
  if (held.empty()) {
    for (int fd : fds)
      ::close(fd);
    return;
  }
  Phase probe("idle-echo", c);
  for (size_t i = 0; i < fds.size(); ++i) {
    held[i % held.size()]->Add(
        std::make_unique<Echoer>(fds[i], &probe, &run.workload(), /*quota=*/1, /*window=*/1));
  }
  run.RunWithTicker(probe, held);
  for (auto& e : probe.Errors())
    r->errors.push_back(e);
  run.Expect(probe.echoes.load() == c,
             fmt::format("{} of {} idle connections answered ECHO_REQ", probe.echoes.load(), c));
  r->Add("echo_all_seconds", "ECHO on every connection", probe.Seconds(), "s");
  if (pid > 0 && rss0 > 0) {
    if (auto b = ResidentBytes(pid); b.ok()) {
      double per = (static_cast<double>(b.value()) - rss0) / static_cast<double>(c);
      r->Add("server_bytes_per_connection", "server RSS per connection", per, "B/conn");
    }
  }
  if (!r->ok()) return;

  if (o.with_roundtrip) {
    uint64_t n = Jobs(o, 20'000);
    uint64_t warmup =
        o.warmup >= 0 ? static_cast<uint64_t>(o.warmup) : std::min<uint64_t>(n / 10, 10'000);
    r->IntParam("jobs", static_cast<int64_t>(n));
    r->IntParam("clients", o.clients);
    r->IntParam("window", o.window);
    r->IntParam("workers", o.workers);
    r->Param("roundtrip",
             fmt::format("{} jobs, {} clients x window {}, {} workers, payload {}", n, o.clients,
                         o.window, o.workers, HumanBytes(static_cast<double>(o.payload))));
    LatencyHistogram h;
    PhaseStats st = run.Roundtrip(n, warmup, &h);
    r->Add("roundtrip_jobs_per_s", "throughput (held)", st.rate(n), "jobs/s");
    run.AddCpu(st, n, "", "");
    r->AddLatency("latency", "latency (held)", h);
    if (!r->ok()) return;
    // The idle connections must still be there.
    Phase again("idle-echo-after", c);
    run.RunWithTicker(again, held);
    for (auto& e : again.Errors())
      r->errors.push_back(e);
    run.Expect(again.echoes.load() == c,
               fmt::format("after the round trips {} of {} idle connections answered ECHO_REQ",
                           again.echoes.load(), c));
  }
}

// A forked echo process on loopback TCP; one small message in flight at a time.
void Pingpong(const Options& o, Report* r) {
  uint64_t n = Jobs(o, 20'000);
  uint64_t size = std::max<uint64_t>(o.message_size, 1);
  uint64_t warmup =
      o.warmup >= 0 ? static_cast<uint64_t>(o.warmup) : std::min<uint64_t>(n / 10, 1000);
  r->server = "127.0.0.1 (forked echo process)";
  r->IntParam("messages", static_cast<int64_t>(n));
  r->IntParam("message_bytes", static_cast<int64_t>(size));
  r->Param("messages", Thousands(n));
  r->Param("message size", HumanBytes(static_cast<double>(size)));
  r->IntParam("gap_us", static_cast<int64_t>(o.gap_us));
  if (o.gap_us > 0) r->Param("gap", fmt::format("{} us pause after each echo", o.gap_us));

  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::listen(lfd, 1) != 0 || ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    r->errors.push_back(std::string("echo listener: ") + std::strerror(errno));
    if (lfd >= 0) ::close(lfd);
    return;
  }
  pid_t child = ::fork();
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::accept(lfd, nullptr, nullptr);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char buf[65536];
    while (true) {
      ssize_t got = ::recv(fd, buf, sizeof(buf), 0);
      if (got <= 0) break;
      for (ssize_t off = 0; off < got;) {
        ssize_t w = ::send(fd, buf + off, static_cast<size_t>(got - off), MSG_NOSIGNAL);
        if (w <= 0) ::_exit(1);
        off += w;
      }
    }
    ::_exit(0);
  }
  ::close(lfd);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  LatencyHistogram h;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    r->errors.push_back(std::string("connect to the echo process: ") + std::strerror(errno));
  } else {
    std::string msg(size, 'p');
    std::string back(size, '\0');
    for (uint64_t i = 0; i < n + warmup; ++i) {
      if (o.gap_us > 0 && i > 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(o.gap_us));
      }
      int64_t t = NowNs();
      if (::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(msg.size())) {
        r->errors.push_back(std::string("send: ") + std::strerror(errno));
        break;
      }
      size_t got = 0;
      while (got < size) {
        ssize_t k = ::recv(fd, back.data() + got, size - got, 0);
        if (k <= 0) break;
        got += static_cast<size_t>(k);
      }
      if (got < size) {
        r->errors.push_back("the echo process closed the connection");
        break;
      }
      if (i >= warmup) h.Record(static_cast<uint64_t>(NowNs() - t));
    }
  }
  ::close(fd);
  ::kill(child, SIGTERM);
  ::waitpid(child, nullptr, 0);
  r->AddLatency("rtt", "RTT", h);
  r->Add("three_rtt_p50_us", "3 x RTT p50", 3.0 * static_cast<double>(h.Quantile(0.5)) / 1000.0,
         "us");
}

}  // namespace

Report RunScenario(const Options& options) {
  Report r;
  r.scenario = options.scenario;
  r.label = options.label;
  if (options.scenario == "pingpong") {
    r.io_engine = "blocking";  // one blocking send and recv per message, as a baseline should
    Pingpong(options, &r);
    return r;
  }
  Options o = options;
  bool foreground = o.scenario == "roundtrip" || o.scenario == "connections";
  if (o.window == 0) o.window = o.scenario == "echo" ? 1 : foreground ? 16 : 64;
  Runner run(o, &r);
  if (!run.Init()) return r;
  if (o.scenario == "submit-bg") {
    SubmitBg(o, run, &r);
  } else if (o.scenario == "drain") {
    Drain(o, run, &r);
  } else if (o.scenario == "echo") {
    Echo(o, run, &r);
  } else if (o.scenario == "roundtrip") {
    Roundtrip(o, run, &r);
  } else if (o.scenario == "memory") {
    Memory(o, run, &r);
  } else if (o.scenario == "connections") {
    Connections(o, run, &r);
  } else {
    r.errors.push_back("unknown scenario " + o.scenario);
  }
  run.AddCounts();
  return r;
}

}  // namespace gearbox::load
