#pragma once
#include <cstdint>

#include "aisle/data/interactions.hpp"

// Filters over interaction rows. They keep the id space (num_users, num_items) unchanged — ids
// that lose all their rows simply have none — so a filtered set still indexes the dataset's id
// maps and side features. To renumber to compact ranges afterwards, see data/compact.hpp.
// Kept rows stay in input order.
namespace aisle::data {

struct KCoreResult {
  Interactions kept;
  int64_t iterations = 0;     // passes that removed rows (0 if the input already was a core)
  int64_t rows_removed = 0;
  int64_t users_removed = 0;  // users that had rows and have none left
  int64_t items_removed = 0;
};

// The (k_user, k_item)-core: the largest subset of rows in which every user present has at least
// k_user rows and every item present at least k_item rows. Rows are counted, not distinct items:
// deduplicate first for "distinct interactions". Removing rows can push others below k, so it
// repeats until nothing changes; the result does not depend on the order of removal.
KCoreResult k_core(const Interactions& x, int64_t k_user, int64_t k_item);

// Explicit ratings to implicit feedback: keeps rows with value >= threshold (NaN values are
// dropped) and sets their value to 1, or leaves it with keep_values. Events are left as they are
// (a rating row stays Event::rating) so the kind of feedback stays visible.
Interactions threshold_implicit(const Interactions& x, float threshold, bool keep_values = false);

// What to do with repeated (user, item) pairs.
enum class DedupPolicy : uint8_t {
  keep_last,  // keep the latest row (largest timestamp; the later row in the input on a tie)
  sum,        // one row whose value is the sum of the pair's values (summed in time order, in
              // double); every other column comes from the latest row, so its timestamp is the
              // latest
};

// One row per (user, item) pair, at the position of the pair's latest row.
Interactions deduplicate(const Interactions& x, DedupPolicy policy);

}  // namespace aisle::data
