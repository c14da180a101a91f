// Background-job example, worker side: "count" counts to the number in the payload, one step
// every 50 ms, reporting progress with WORK_STATUS. Usage: progress_worker [servers]
#include <csignal>
#include <iostream>
#include <string>
#include <thread>

#include "gearbox/gearbox.h"

namespace {
gearbox::Worker* g_worker = nullptr;
void OnSignal(int) {
  if (g_worker != nullptr) g_worker->Stop();
}
}  // namespace

int main(int argc, char** argv) {
  auto worker = gearbox::Worker::Create({.servers = argc > 1 ? argv[1] : ""});
  if (!worker) {
    std::cerr << "progress_worker: " << worker.error().message() << "\n";
    return 1;
  }
  auto reg = worker->Register("count", [](gearbox::Job& job) -> gearbox::WorkResult {
    uint32_t steps = 0;
    try {
      steps = static_cast<uint32_t>(std::stoul(job.payload()));
    } catch (const std::exception&) {
      return gearbox::WorkResult::Exception("payload is not a number: " + job.payload());
    }
    for (uint32_t i = 1; i <= steps; ++i) {
      if (job.stop_requested()) return gearbox::WorkResult::Retry();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      job.SendStatus(i, steps);
    }
    return "counted to " + std::to_string(steps);
  });
  if (!reg) {
    std::cerr << "progress_worker: " << reg.error().message() << "\n";
    return 1;
  }
  g_worker = &*worker;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto run = worker->Run();
  if (!run) {
    std::cerr << "progress_worker: " << run.error().message() << "\n";
    return 1;
  }
  return 0;
}
