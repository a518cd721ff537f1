#include "src/dist/watchdog.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace aisle::dist::detail {

Watchdog::Watchdog(double seconds, std::function<void()> on_expiry) {
  const auto limit = std::chrono::duration<double>(seconds);
  watcher_ = std::thread([this, limit, on_expiry = std::move(on_expiry)] {
    std::unique_lock lock(mutex_);
    if (!disarm_.wait_for(lock, limit, [this] { return disarmed_; })) on_expiry();
  });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    disarmed_ = true;
  }
  disarm_.notify_one();
  watcher_.join();
}

void end_job(const std::string& message) {
  std::fprintf(stderr, "aisle: error: %s\n", message.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

}  // namespace aisle::dist::detail
