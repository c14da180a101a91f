// The seed's Hello World, worker side: registers "reverse" and answers each job with its
// payload reversed. Usage: reverse_worker [servers]   (default: $GEARMAN_SERVERS or localhost)
// Stops cleanly on SIGINT/SIGTERM.
#include <csignal>
#include <iostream>
#include <string>

#include "gearbox/gearbox.h"

namespace {
gearbox::Worker* g_worker = nullptr;
void OnSignal(int) {
  if (g_worker != nullptr) g_worker->Stop();  // async-signal-safe
}
}  // namespace

int main(int argc, char** argv) {
  auto worker = gearbox::Worker::Create({.servers = argc > 1 ? argv[1] : ""});
  if (!worker) {
    std::cerr << "reverse_worker: " << worker.error().message() << "\n";
    return 1;
  }
  auto reg = worker->Register("reverse", [](gearbox::Job& job) {
    return std::string(job.payload().rbegin(), job.payload().rend());
  });
  if (!reg) {
    std::cerr << "reverse_worker: " << reg.error().message() << "\n";
    return 1;
  }
  g_worker = &*worker;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto run = worker->Run();
  if (!run) {
    std::cerr << "reverse_worker: " << run.error().message() << "\n";
    return 1;
  }
  return 0;
}
