// The deadline that guards NCCL's communicator setup (src/dist/watchdog): it fires when the guarded
// scope overstays, never once the scope has left, and its expiry ends the process with a message.
#include "src/dist/watchdog.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace aisle::dist::detail {
namespace {

using namespace std::chrono_literals;

TEST(Watchdog, FiresWhenTheGuardedScopeOverstays) {
  std::promise<void> fired;
  std::future<void> fired_future = fired.get_future();
  {
    const Watchdog deadline(0.05, [&] { fired.set_value(); });
    // The scope stays until the expiry arrives (bounded, so a watchdog that never fires fails).
    EXPECT_EQ(fired_future.wait_for(30s), std::future_status::ready);
  }
}

TEST(Watchdog, NeverFiresAfterTheScopeLeftAndDoesNotWaitForTheDeadline) {
  std::atomic<int> calls{0};
  const auto start = std::chrono::steady_clock::now();
  { const Watchdog deadline(600.0, [&] { ++calls; }); }
  // The destructor joined the watcher, so a late call is impossible from here on; and it did not
  // sit out the 600 s.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 60s);
  EXPECT_EQ(calls.load(), 0);
}

TEST(Watchdog, EndJobExitsWithStatusOneAndTheMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        const Watchdog deadline(0.05, [] { end_job("rank 1 of 2: ncclCommInitRank did not complete"); });
        std::this_thread::sleep_for(30s);  // a call stuck (if the watchdog fails, the scope ends and so does the test)
      },
      ::testing::ExitedWithCode(1), "aisle: error: rank 1 of 2: ncclCommInitRank did not complete");
}

}  // namespace
}  // namespace aisle::dist::detail
