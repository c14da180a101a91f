#include "server/options.h"

#include <sys/utsname.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace gearbox::server {

std::vector<std::string> TokenizeConfig(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

namespace {

void Build(CLI::App& app, ServerOptions& o, std::string& verbose, int& vcount,
           std::string& max_packet) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeFirst);
  app.set_help_flag("-h,--help", "Print this help menu.");
  app.get_formatter()->column_width(36);

  auto* g = "General options";
  app.add_option("-b,--backlog", o.backlog, "Number of backlog connections for listen.")
      ->capture_default_str()
      ->group(g);
  app.add_flag("-d,--daemon", o.daemon, "Daemon, detach and run in the background.")->group(g);
  app.add_flag("--exceptions", o.exceptions, "Enable protocol exceptions by default.")->group(g);
  app.add_option("-f,--file-descriptors", o.file_descriptors,
                 "Number of file descriptors to allow for the process. Default is the hard "
                 "limit for the user.")
      ->group(g);
  app.add_option("-j,--job-retries", o.job_retries,
                 "Number of attempts to run a job before the server removes it: -1 means no "
                 "limit, 0 means no retries.")
      ->capture_default_str()
      ->check(CLI::Range(-1, 65535))
      ->group(g);
  app.add_option("--job-handle-prefix", o.job_handle_prefix,
                 "Prefix used to generate a job handle string (default \"H:<host_name>\").")
      ->group(g);
  app.add_option("--hashtable-buckets", o.hashtable_buckets,
                 "Accepted for compatibility; the job tables grow and shrink by themselves.")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group(g);
  app.add_flag("--keepalive", o.keepalive, "Enable keepalive on sockets.")->group(g);
  app.add_option("--keepalive-idle", o.keepalive_idle, "TCP_KEEPIDLE for sockets (-1: OS default).")
      ->capture_default_str()
      ->group(g);
  app.add_option("--keepalive-interval", o.keepalive_interval,
                 "TCP_KEEPINTVL for sockets (-1: OS default).")
      ->capture_default_str()
      ->group(g);
  app.add_option("--keepalive-count", o.keepalive_count,
                 "TCP_KEEPCNT for sockets (-1: OS default).")
      ->capture_default_str()
      ->group(g);
  app.add_option("-l,--log-file", o.log_file,
                 "Log file to write errors and information to; 'stderr' or 'none' also work.")
      ->capture_default_str()
      ->group(g);
  app.add_option("-L,--listen", o.listen,
                 "Address the server should listen on (repeatable). "
                 "Default is every address.")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->group(g);
  app.add_option("-P,--pid-file", o.pid_file, "File to write process ID out to.")->group(g);
  app.add_option("-r,--protocol", o.protocols, "Load protocol module.")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->group(g);
  app.add_flag("-R,--round-robin", o.round_robin,
               "Accepted for compatibility: work is always assigned round-robin across a "
               "worker's functions.")
      ->group(g);
  app.add_option("-q,--queue-type", o.queue_type, "Persistent queue type to use.")
      ->capture_default_str()
      ->group(g);
  app.add_option("--config-file", o.config_file, "Configuration file (also '@name').")
      ->capture_default_str()
      ->group(g);
  app.add_flag("--syslog", o.syslog, "Use syslog.")->group(g);
  app.add_flag("--coredump", o.coredump, "Create a core dump for uncaught signals.")->group(g);
  app.add_option("-t,--threads", o.threads,
                 "Number of I/O threads; 0 guesses (one event loop on 4 CPUs or fewer).")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024))
      ->group(g);
  app.add_flag("--threads-exact", o.threads_exact,
               "Run exactly -t I/O threads even when the machine has fewer CPUs than threads "
               "(by default at most CPUs-1 I/O threads plus the core thread are used, and one "
               "event loop when that leaves fewer than two).")
      ->group(g);
  app.add_option("-u,--user", o.user, "Switch to given user after startup.")->group(g);
  app.add_option("--verbose", verbose,
                 "Set verbose level (FATAL, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFO, DEBUG).")
      ->default_str("ERROR")
      ->group(g);
  app.add_flag("-v", vcount, "Raise the verbose level by one step (repeatable: -vvvv is DEBUG).")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->group(g);
  app.add_flag("-V,--version", o.show_version, "Display the version of gearmand and exit.")
      ->group(g);
  app.add_option("-w,--worker-wakeup", o.worker_wakeup,
                 "Number of workers to wake up for each job received (0: all).")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 30))
      ->group(g);
  app.add_flag("--check-args", o.check_args, "Check the command line and exit.")->group(g);

  auto* gear = "Gear";
  app.add_option("-p,--port", o.port, "Port the server should listen on.")
      ->capture_default_str()
      ->group(gear);
  app.add_option("--max-packet-size", max_packet,
                 "Largest packet accepted, in bytes (K, M and G suffixes work).")
      ->default_str("256M")
      ->group(gear);
  app.add_option("--io-engine", o.io_engine,
                 "Connection I/O: io_uring (batched system calls), epoll, or auto (io_uring "
                 "when the kernel allows it).")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "io_uring", "epoll"}))
      ->group(gear);
  app.add_flag("--ssl", o.ssl, "Enable ssl connections.")->group(gear);
  app.add_option("--ssl-ca-file", o.ssl_ca_file, "CA file.")->group(gear);
  app.add_option("--ssl-certificate", o.ssl_certificate, "SSL certificate.")->group(gear);
  app.add_option("--ssl-key", o.ssl_key, "SSL key for certificate.")->group(gear);

  app.add_option("--http-port", o.http_port, "Port to listen on.")
      ->capture_default_str()
      ->group("HTTP");

  auto* q = "Queue modules";
  app.add_option("--libsqlite3-db", o.libsqlite3_db, "Database file to use.")->group(q);
  app.add_option("--libsqlite3-table", o.libsqlite3_table, "Table to use.")
      ->capture_default_str()
      ->group(q);
  app.add_flag("--store-queue-on-shutdown", o.store_queue_on_shutdown, "Store queue on shutdown.")
      ->group(q);
  app.add_option("--libpq-conninfo", o.libpq_conninfo, "PostgreSQL connection information string.")
      ->group(q);
  app.add_option("--libpq-table", o.libpq_table, "Table to use.")->capture_default_str()->group(q);
  app.add_option("--mysql-host", o.mysql_host, "MySQL host.")->capture_default_str()->group(q);
  app.add_option("--mysql-port", o.mysql_port, "MySQL port.")->capture_default_str()->group(q);
  app.add_option("--mysql-user", o.mysql_user, "MySQL user.")->group(q);
  app.add_option("--mysql-password", o.mysql_password, "MySQL password.")->group(q);
  app.add_option("--mysql-db", o.mysql_db, "MySQL database.")->group(q);
  app.add_option("--mysql-table", o.mysql_table, "MySQL table.")->capture_default_str()->group(q);
  app.add_option("--libmemcached-servers", o.libmemcached_servers,
                 "List of Memcached servers to use.")
      ->group(q);
  app.add_option("--libmemcached-prefix", o.libmemcached_prefix, "Prefix to use in memcached keys")
      ->capture_default_str()
      ->group(q);
  app.add_option("--redis-server", o.redis_server, "Redis server")->group(q);
  app.add_option("--redis-port", o.redis_port, "Redis server port/service")->group(q);
  app.add_option("--redis-password", o.redis_password, "Redis server password/service")->group(q);
  app.add_option("--redis-prefix", o.redis_prefix, "Redis key prefix")
      ->capture_default_str()
      ->group(q);
  app.add_option("--libtokyocabinet-file", o.libtokyocabinet_file, "File name of the database.")
      ->group(q);
  app.add_option("--libtokyocabinet-optimize", o.libtokyocabinet_optimize,
                 "Optimize database on open.")
      ->group(q);
  app.add_option("--libdrizzle-host", o.libdrizzle_host, "Host of server.")->group(q);
  app.add_option("--libdrizzle-port", o.libdrizzle_port, "Port of server.")->group(q);
  app.add_option("--libdrizzle-uds", o.libdrizzle_uds, "Unix domain socket for server.")->group(q);
  app.add_option("--libdrizzle-user", o.libdrizzle_user, "User name for authentication.")->group(q);
  app.add_option("--libdrizzle-password", o.libdrizzle_password, "Password for authentication.")
      ->group(q);
  app.add_option("--libdrizzle-db", o.libdrizzle_db, "Database to use.")->group(q);
  app.add_option("--libdrizzle-table", o.libdrizzle_table, "Table to use.")->group(q);
  app.add_flag("--libdrizzle-mysql", o.libdrizzle_mysql, "Use MySQL protocol.")->group(q);
}

Result<uint32_t> ParseSize(const std::string& s) {
  if (s.empty()) return Status::InvalidArgument("--max-packet-size is empty");
  uint64_t mult = 1;
  std::string digits = s;
  char last = static_cast<char>(std::toupper(static_cast<unsigned char>(s.back())));
  if (last == 'K' || last == 'M' || last == 'G') {
    mult = last == 'K' ? 1024 : last == 'M' ? 1024 * 1024 : 1024ull * 1024 * 1024;
    digits.pop_back();
  }
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9' || v > (1ull << 40)) {
      return Status::InvalidArgument("--max-packet-size needs a number of bytes: " + s);
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  v *= mult;
  if (v < 1024 || v > 0xFFFFFFFFull) {
    return Status::InvalidArgument("--max-packet-size must be between 1K and 4G-1: " + s);
  }
  return static_cast<uint32_t>(v);
}

}  // namespace

Result<ServerOptions> ParseOptions(int argc, const char* const* argv) {
  std::vector<std::string> args;
  std::string config_path;
  bool config_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 1 && a[0] == '@') {
      config_path = a.substr(1);
      config_given = true;
      continue;
    }
    if (a == "--config-file" && i + 1 < argc) {
      config_path = argv[i + 1];
      config_given = true;
    } else if (a.rfind("--config-file=", 0) == 0) {
      config_path = a.substr(14);
      config_given = true;
    }
    args.push_back(std::move(a));
  }
  ServerOptions o;
  if (!config_given) config_path = o.config_file;
  // The file's options come after the command line's, so the command line wins (TakeFirst).
  std::ifstream in(config_path);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    for (auto& t : TokenizeConfig(ss.str()))
      args.push_back(std::move(t));
  } else if (config_given) {
    return Status::InvalidArgument("Could not open configuration file: " + config_path);
  }

  CLI::App app{"gearmand: a Gearman job server (Gearbox)", "gearmand"};
  std::string verbose;
  int vcount = 0;
  std::string max_packet = "256M";
  Build(app, o, verbose, vcount, max_packet);
  o.help_text = app.help();
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    o.show_help = true;
    return o;
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(e.what());
  }
  o.config_file = config_path;
  o.config_file_given = config_given;
  if (!verbose.empty()) {
    auto level = log::ParseLevel(verbose);
    if (!level) return Status::InvalidArgument("Invalid value for --verbose: " + verbose);
    o.verbose = *level;
  }
  if (vcount > 0) {
    int l = static_cast<int>(o.verbose) + vcount;
    o.verbose = static_cast<log::Level>(std::min(l, static_cast<int>(log::Level::kDebug)));
  }
  auto mp = ParseSize(max_packet);
  if (!mp.ok()) return mp.status();
  o.max_packet_size = *mp;
  if (o.job_handle_prefix.empty()) {
    utsname u{};
    ::uname(&u);
    o.job_handle_prefix = std::string("H:") + u.nodename;
  }
  // "<prefix>:<20 digits>" must fit gearmand's 64-byte handle buffer (with its NUL).
  if (o.job_handle_prefix.size() + 1 + 20 > 63) {
    return Status::InvalidArgument("--job-handle-prefix is too long (at most 42 bytes): " +
                                   o.job_handle_prefix);
  }
  if (const char* env = std::getenv("GEARMAND_PORT");
      env != nullptr && *env != '\0' && app.count("--port") == 0) {
    o.port = env;
  }
  return o;
}

Status ValidateModules(const ServerOptions& o) {
  std::string q = o.queue_type;
  std::transform(q.begin(), q.end(), q.begin(), [](unsigned char c) { return std::tolower(c); });
  if (q != "builtin") {
    static const char* kKnown[] = {"libsqlite3", "postgres",        "mysql",     "libmemcached",
                                   "redis",      "libtokyocabinet", "libdrizzle"};
    bool known = std::find(std::begin(kKnown), std::end(kKnown), q) != std::end(kKnown);
    if (known) {
      return Status::InvalidArgument("Queue type '" + o.queue_type +
                                     "' is not built into this server yet; the only queue "
                                     "available is 'builtin' (in memory)");
    }
    return Status::InvalidArgument("Unknown queue type '" + o.queue_type +
                                   "' (known: builtin, libsqlite3, postgres, mysql, "
                                   "libmemcached, redis, libtokyocabinet, libdrizzle)");
  }
  for (const auto& p : o.protocols) {
    std::string lp = p;
    std::transform(lp.begin(), lp.end(), lp.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lp == "http") {
      return Status::InvalidArgument(
          "Protocol module 'http' is not built into this server yet; only the Gear protocol "
          "is available");
    }
    return Status::InvalidArgument("Unknown protocol module '" + p + "' (known: http)");
  }
  if (o.ssl) {
    return Status::InvalidArgument(
        "--ssl: TLS is not built into this server yet; refusing to serve plaintext instead");
  }
  return Status::Ok();
}

}  // namespace gearbox::server
