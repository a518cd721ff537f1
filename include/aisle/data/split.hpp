#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aisle/data/interactions.hpp"
#include "aisle/tensor/random.hpp"

// Train / validation / test splits of interaction rows. Every input row lands in exactly one
// part, unchanged (all columns, parts included), and each part keeps the input's row order and
// id space (num_users, num_items), so models size their tables the same for every part.
namespace aisle::data {

struct Split {
  Interactions train, valid, test;  // valid has zero rows when the method makes none
  // Per-user methods: users with rows but too few to hold any out; all their rows are in train.
  int64_t users_only_in_train = 0;
  std::vector<std::string> notes;   // what was done, in words (counts, cut times), for logs
};

// Shares of rows; each in [0, 1] and the three sum to 1.
struct Ratios {
  double train = 0.8, valid = 0.0, test = 0.2;
};

// Seeded random split by ratio. Same seed -> same split, on any number of threads; the
// Generator version takes one stream from `gen` (so successive calls differ).
//  per_user (stratified): each user's rows are split on their own. A user of d rows holds out
//    round(d * valid) and round(d * test) rows, shrinking valid, then test, until at least one
//    row is left to train on: every user keeps training history, and users too small to hold
//    anything out (e.g. 1 row, or 2 rows at test 0.2) stay wholly in train, counted in
//    users_only_in_train.
//  global: all rows at once: round(n * test) test rows, round(n * valid) valid rows (one fewer
//    if rounding would overfill), the rest train.
Split random_split(const Interactions& x, const Ratios& ratios, bool per_user, Generator& gen);
Split random_split(const Interactions& x, const Ratios& ratios, bool per_user, uint64_t seed);

// Leave-last-one-out by time: each user's latest row -> test, and with `valid` the one before it
// -> valid. Timestamp ties go to the later row in the input (logs and sequences are written in
// time order, and rows with unknown time, all 0, fall back to that order). A user needs
// min_train + 1 (+ 1 with valid) rows to have anything held out; smaller users stay wholly in
// train and are counted in users_only_in_train.
Split leave_one_out_split(const Interactions& x, bool valid = false, int64_t min_train = 1);

// Global temporal cut by shares of the time-ordered rows: the earliest round(n * train) rows
// train, the next round(n * (train + valid)) - that validate, the rest test, so the latest train
// time <= the earliest valid time <= the earliest test time. Ties at a cut are ordered by row.
Split temporal_split(const Interactions& x, const Ratios& ratios);
// Global temporal cut at times: time < valid_from trains, valid_from <= time < test_from
// validates, time >= test_from tests. Without valid_from there is no valid part.
Split temporal_split_at(const Interactions& x, int64_t test_from, std::optional<int64_t> valid_from = {});

// The split the source files gave (the parts column: Part::train / valid / test). Throws
// aisle::DataError if any row has Part::none (the source had no split, or only partly).
Split given_split(const Interactions& x);

// A split named by a recipe: a method and its parameters, as a struct or a short string.
enum class SplitMethod : uint8_t { random, leave_one_out, temporal, given };

struct SplitSpec {
  SplitMethod method = SplitMethod::random;
  Ratios ratios;                  // random, temporal (unless test_from is set)
  bool per_user = true;           // random
  uint64_t seed = 0;              // random
  bool valid = false;             // leave_one_out: also hold out a validation row per user
  int64_t min_train = 1;          // leave_one_out
  std::optional<int64_t> test_from, valid_from;  // temporal at times instead of shares

  // "method" or "method:key=value,key=value". Methods and keys:
  //   random         train, valid, test (shares; an omitted test or train is the remainder),
  //                  per_user (true/false), seed
  //   leave_one_out  (alias loo) valid (true/false), min_train
  //   temporal       train, valid, test, or test_from, valid_from (times)
  //   given
  // Throws aisle::Error naming the spec and the bad method, parameter or value.
  static SplitSpec parse(std::string_view text);
  // The same from a method name and key/value pairs (a recipe's mapping).
  static SplitSpec from_params(std::string_view method,
                               const std::vector<std::pair<std::string, std::string>>& params);
  // Canonical text; parse(to_string()) gives the same spec.
  std::string to_string() const;
  // Throws aisle::Error naming the parameter if a value is out of range.
  void validate() const;
};

const char* split_method_name(SplitMethod m);
Split make_split(const Interactions& x, const SplitSpec& spec);

}  // namespace aisle::data
