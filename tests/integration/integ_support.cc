#include "integ_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace gearbox::testing::integ {

using Clock = std::chrono::steady_clock;

std::string H(uint64_t n) {
  return std::string(kPrefix) + ":" + std::to_string(n);
}

void PrintTo(const Shape& shape, std::ostream* os) {
  if (shape.impl == Impl::kReference) {
    *os << "gearmand 1.1.20";
  } else if (shape.threads > 0) {
    *os << "ours -t " << shape.threads;
  } else {
    *os << "ours";
  }
}

std::vector<Shape> AllShapes() {
  return {{Impl::kOurs, 1}, {Impl::kOurs, 4}, {Impl::kReference, 0}};
}
std::vector<Shape> OurShapes() {
  return {{Impl::kOurs, 1}, {Impl::kOurs, 4}};
}

std::string ShapeName(const ::testing::TestParamInfo<Shape>& info) {
  if (info.param.impl == Impl::kReference) return "Gearmand1_1_20";
  return "Ours_T" + std::to_string(info.param.threads);
}

std::string Escape(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '\0') {
      out += "\\0";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string Describe(std::string_view bytes) {
  std::string out;
  protocol::Limits limits;
  limits.max_packet = 0xFFFFFFFFu;
  limits.max_line = 1u << 30;
  while (!bytes.empty()) {
    if (!out.empty()) out += " ; ";
    protocol::Item item;
    auto r = protocol::Decode(bytes, limits, &item);
    using S = protocol::DecodeResult::Status;
    if (r.status == S::kItem && item.kind == protocol::Item::Kind::kPacket) {
      out += item.frame.magic == protocol::Magic::kRequest ? "REQ " : "RES ";
      out += std::string(protocol::Name(item.frame.command));
      out += " [";
      for (size_t i = 0; i < item.frame.nparts; ++i) {
        if (i) out += "|";
        std::string_view part = item.frame.parts[i];
        if (part.size() > 200) {
          out += Escape(part.substr(0, 200)) + "...(" + std::to_string(part.size()) + " bytes)";
        } else {
          out += Escape(part);
        }
      }
      out += "]";
      bytes.remove_prefix(r.consumed);
    } else if (r.status == S::kItem) {
      out += "TEXT \"" + Escape(bytes.substr(0, r.consumed)) + "\"";
      bytes.remove_prefix(r.consumed);
    } else {
      std::string_view rest = bytes.substr(0, 300);
      out += "RAW \"" + Escape(rest) + "\"" +
             (bytes.size() > 300 ? "...(" + std::to_string(bytes.size()) + " bytes)" : "");
      break;
    }
  }
  return out.empty() ? "(nothing)" : out;
}

::testing::AssertionResult NextPacketIs(RawClient& c, std::string_view expected,
                                        std::chrono::milliseconds timeout) {
  auto got = c.ReadPacket(timeout);
  if (!got) {
    std::string rest = c.ReadAll(10ms);
    return ::testing::AssertionFailure()
           << "expected " << Describe(expected) << "\n  but no complete packet arrived"
           << (rest.empty() ? "" : "; got: " + Describe(rest));
  }
  if (*got != expected) {
    return ::testing::AssertionFailure()
           << "expected " << Describe(expected) << "\n       got " << Describe(*got);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Silent(RawClient& c, std::chrono::milliseconds quiet) {
  std::string got = c.ReadAll(quiet);
  if (!got.empty()) {
    return ::testing::AssertionFailure() << "expected nothing, got " << Describe(got);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ClosedAfter(RawClient& c, std::string_view expected_before,
                                       std::chrono::milliseconds timeout) {
  std::string got;
  if (!expected_before.empty()) got = c.ReadExactly(expected_before.size(), timeout);
  bool closed = c.WaitClosed(timeout);
  std::string extra = c.ReadAll(1ms);
  if (got != expected_before || !extra.empty()) {
    return ::testing::AssertionFailure()
           << "expected " << Describe(expected_before) << " then close\n       got "
           << Describe(got + extra) << (closed ? " then close" : " (still open)");
  }
  if (!closed) {
    return ::testing::AssertionFailure()
           << "got " << Describe(got) << " but the connection stayed open";
  }
  return ::testing::AssertionSuccess();
}

std::string ReadList(RawClient& c, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string acc;
  while (Clock::now() < deadline) {
    if (acc == ".\n" || (acc.size() >= 3 && acc.compare(acc.size() - 3, 3, "\n.\n") == 0)) {
      return acc;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    std::string b = c.ReadExactly(1, std::max(left, std::chrono::milliseconds(1)));
    if (b.empty()) break;
    acc += b;
  }
  return acc + "<timeout or EOF>";
}

void Sync(RawClient& c) {
  static int counter = 0;
  std::string token = "sync-" + std::to_string(++counter);
  ASSERT_TRUE(c.Send(Q(Command::kEchoReq, {token})));
  ASSERT_PACKET(&c, R(Command::kEchoRes, {token}));
}

std::optional<Decoded> ReadDecoded(RawClient& c, std::chrono::milliseconds timeout) {
  auto p = c.ReadPacket(timeout);
  if (!p) return std::nullopt;
  return DecodeResponse(*p);
}

std::optional<Decoded> Grab(RawClient& w, Command grab) {
  if (!w.Send(Q(grab))) return std::nullopt;
  return ReadDecoded(w);
}

std::string SortLines(std::string_view list) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < list.size()) {
    size_t nl = list.find('\n', pos);
    if (nl == std::string_view::npos) nl = list.size() - 1;
    lines.emplace_back(list.substr(pos, nl + 1 - pos));
    pos = nl + 1;
  }
  bool dot = !lines.empty() && lines.back() == ".\n";
  if (dot) lines.pop_back();
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines)
    out += l;
  if (dot) out += ".\n";
  return out;
}

std::string Eventually(const std::function<std::string()>& probe, std::string_view expected,
                       std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string last = probe();
  while (last != expected && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    last = probe();
  }
  return last;
}

long ProcStatusKb(pid_t pid, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() &&
        line[field.size()] == ':') {
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

bool RaiseNoFile(rlim_t n) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return false;
  if (rl.rlim_cur >= n) return true;
  if (rl.rlim_max < n) return false;
  rl.rlim_cur = n;
  return ::setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

// ---------------------------------------------------------------------------------------------

void ServerTest::SetUp() {
  if (reference() && ReferenceGearmand().empty()) {
    GTEST_SKIP() << "Debian's gearmand (/usr/sbin/gearmand) is not installed";
  }
  StartServer(DefaultExtraArgs());
}

void ServerTest::TearDown() {
  server_.reset();
}

std::vector<std::string> ServerTest::ShapeArgs() const {
  std::vector<std::string> a = {"--job-handle-prefix", std::string(kPrefix)};
  if (ours()) {
    a.push_back("-t");
    a.push_back(std::to_string(GetParam().threads));
    a.push_back("--threads-exact");  // the threaded shape even on machines with few CPUs
  }
  return a;
}

void ServerTest::StartServer(const std::vector<std::string>& extra) {
  server_.reset();
  auto args = ShapeArgs();
  args.insert(args.end(), extra.begin(), extra.end());
  std::string err;
  server_ = ServerProcess::Start(BinaryFor(GetParam().impl), args, &err);
  ASSERT_NE(server_, nullptr) << "could not start " << ImplName(GetParam().impl) << ": " << err;
}

std::unique_ptr<RawClient> ServerTest::Connect() {
  std::string err;
  auto c = RawClient::Connect(server_->port(), &err);
  EXPECT_NE(c, nullptr) << "connect: " << err;
  return c;
}

std::string ServerTest::AdminList(std::string_view line) {
  auto c = Connect();
  if (!c) return "<no connection>";
  c->Send(std::string(line) + "\n");
  return ReadList(*c);
}

std::string ServerTest::AdminLine(std::string_view line) {
  auto c = Connect();
  if (!c) return "<no connection>";
  c->Send(std::string(line) + "\n");
  return c->ReadUntil("\n", 10s);
}

::testing::AssertionResult ServerTest::ServerAnswers() {
  if (!server_->Running()) return ::testing::AssertionFailure() << "the server process exited";
  auto c = RawClient::Connect(server_->port());
  if (!c) return ::testing::AssertionFailure() << "a fresh connection was refused";
  c->Send("version\n");
  std::string line = c->ReadUntil("\n", 10s);
  if (line.rfind("OK ", 0) != 0) {
    return ::testing::AssertionFailure()
           << "`version` on a fresh connection got \"" << Escape(line) << "\"";
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------
// Processes

namespace {

std::string MakeTemp(std::string_view suffix) {
  std::string tmpl = "/tmp/gearbox-integ-XXXXXX" + std::string(suffix);
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkstemps(buf.data(), static_cast<int>(suffix.size()));
  if (fd >= 0) ::close(fd);
  return std::string(buf.data());
}

std::vector<std::string> BuildEnv(const ProcessSpec& spec) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    std::string name = kv.substr(0, kv.find('='));
    bool drop = false;
    for (const auto& u : spec.unset_env)
      drop = drop || u == name;
    for (const auto& s : spec.env)
      drop = drop || s.substr(0, s.find('=')) == name;
    if (!drop) env.push_back(kv);
  }
  for (const auto& s : spec.env)
    env.push_back(s);
  return env;
}

pid_t Spawn(const ProcessSpec& spec, const std::string& in_path, const std::string& out_path,
            const std::string& err_path) {
  auto env = BuildEnv(spec);
  std::vector<std::string> argv = spec.argv;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    int in = ::open(in_path.c_str(), O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_TRUNC);
    int err = ::open(err_path.c_str(), O_WRONLY | O_TRUNC);
    if (in < 0 || out < 0 || err < 0) std::_Exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    // Close everything else the test process holds (servers' sockets, etc.).
    for (int fd = 3; fd < 4096; ++fd)
      ::close(fd);
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) std::_Exit(126);
    std::vector<char*> av;
    for (auto& a : argv)
      av.push_back(a.data());
    av.push_back(nullptr);
    std::vector<char*> ev;
    for (auto& e : env)
      ev.push_back(e.data());
    ev.push_back(nullptr);
    ::execvpe(av[0], av.data(), ev.data());
    std::_Exit(127);
  }
  if (pid > 0) ::setpgid(pid, pid);
  return pid;
}

}  // namespace

RunResult RunProcess(const ProcessSpec& spec, std::chrono::milliseconds timeout) {
  auto child = Child::Start(spec);
  RunResult r;
  if (!child) return r;
  r.started = true;
  auto st = child->Wait(timeout);
  if (!st) {
    r.timed_out = true;
    child->Kill(SIGKILL);
    child->Wait(5s);
  } else {
    r.status = *st;
  }
  r.out = child->Out();
  r.err = child->Err();
  return r;
}

std::unique_ptr<Child> Child::Start(const ProcessSpec& spec) {
  std::unique_ptr<Child> c(new Child());
  c->in_path_ = MakeTemp(".in");
  c->out_path_ = MakeTemp(".out");
  c->err_path_ = MakeTemp(".err");
  {
    std::ofstream in(c->in_path_, std::ios::binary | std::ios::trunc);
    in << spec.stdin_data;
  }
  c->pid_ = Spawn(spec, c->in_path_, c->out_path_, c->err_path_);
  if (c->pid_ <= 0) return nullptr;
  return c;
}

Child::~Child() {
  if (pid_ > 0 && !exited_) {
    ::kill(-pid_, SIGKILL);
    Wait(5s);
  }
  for (auto* p : {&in_path_, &out_path_, &err_path_}) {
    if (!p->empty()) ::unlink(p->c_str());
  }
}

bool Child::Running() {
  if (exited_) return false;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) == pid_) {
    exited_ = true;
    status_ = st;
    return false;
  }
  return true;
}

std::optional<int> Child::Wait(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!exited_) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      status_ = st;
      break;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
  return status_;
}

void Child::Kill(int sig) {
  if (!exited_) ::kill(-pid_, sig);
}

std::string Child::Out() const {
  return ReadFile(out_path_);
}
std::string Child::Err() const {
  return ReadFile(err_path_);
}

int ConnectTo(const std::string& host, int port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  if (host.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) != 1) return -1;
    len = sizeof(*a6);
    family = AF_INET6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) return -1;
    len = sizeof(*a4);
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string WaitForVersion(int port, std::chrono::milliseconds timeout, const std::string& host) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int fd = ConnectTo(host, port);
    if (fd >= 0) {
      std::string req = "version\n";
      (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
      std::string got;
      auto line_deadline = Clock::now() + 2s;
      while (got.find('\n') == std::string::npos && Clock::now() < line_deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buf[256];
        ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
      ::close(fd);
      if (got.rfind("OK ", 0) == 0) return got.substr(0, got.find('\n') + 1);
    }
    std::this_thread::sleep_for(20ms);
  }
  return "";
}

TempFile::TempFile(std::string_view contents, std::string_view suffix) {
  path_ = MakeTemp(suffix);
  std::ofstream out(path_, std::ios::binary | std::ios::trunc);
  out << contents;
}
TempFile::~TempFile() {
  ::unlink(path_.c_str());
}
std::string TempFile::Read() const {
  return ReadFile(path_);
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/gearbox-integ-dir-XXXXXX";
  char* d = ::mkdtemp(tmpl);
  path_ = d != nullptr ? d : "/tmp";
}
TempDir::~TempDir() {
  std::error_code ec;
  if (path_ != "/tmp") std::filesystem::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool FileExists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

}  // namespace gearbox::testing::integ
