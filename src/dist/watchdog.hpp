#pragma once
// Internal: a deadline for a blocking call that has no timeout of its own and cannot be cancelled
// from outside (NCCL's communicator setup waits for every peer forever: a rank that died after the
// unique id went out leaves the others in ncclCommInitRank, where there is no handle to abort
// yet). If the guarded scope is still running at the deadline, a watcher thread calls
// `on_expiry`, which must end the process: nothing else frees a thread stuck in such a call.
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace aisle::dist::detail {

class Watchdog {
 public:
  Watchdog(double seconds, std::function<void()> on_expiry);
  // Disarms and joins the watcher: once the guarded scope has left, on_expiry is never called.
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable disarm_;
  bool disarmed_ = false;
  std::thread watcher_;
};

// The expiry of a rank whose peers never arrived: writes `message` to stderr and exits with status
// 1 without unwinding (the stuck call still holds its locks), which makes mpirun, and srun with
// --kill-on-bad-exit, end the other ranks.
[[noreturn]] void end_job(const std::string& message);

}  // namespace aisle::dist::detail
