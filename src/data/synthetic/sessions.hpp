#pragma once
// Internal: turns one user's tastes and row budget into sessions of views, carts and purchases.
#include <cstdint>
#include <vector>

#include "src/data/synthetic/calendar.hpp"
#include "src/data/synthetic/catalogue.hpp"
#include "src/data/synthetic/users.hpp"

namespace aisle::data::synth {

// Where a user's rows go: column pointers into a block buffer, `budget` rows from each.
struct RowSpan {
  int32_t* item;
  int64_t* timestamp;  // seconds since the Unix epoch
  float* value;        // quantity for purchases, 1 otherwise
  uint8_t* event;      // data::Event
  uint8_t* first;      // 1 on the first row of each session
};

// Per-thread working memory, reused across users (no allocation per row).
struct SessionScratch {
  std::vector<int32_t> lengths;
  std::vector<int64_t> starts;
  std::vector<int32_t> pending;  // carted products the user will buy at checkout
};

// Writes exactly `budget` rows for the user. Rows come session by session, sessions in order of
// start; inside a session timestamps strictly increase, and every purchase follows a cart of the
// same product, which follows a view of it. Returns the number of sessions.
int64_t generate_user(const Catalogue& catalogue, const Calendar& calendar, const UserModel& user, Stream& rng,
                      int64_t budget, const RowSpan& out, SessionScratch& scratch);

}  // namespace aisle::data::synth
