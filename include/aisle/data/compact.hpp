#pragma once
#include "aisle/data/id_map.hpp"
#include "aisle/data/interactions.hpp"
#include "aisle/data/side_features.hpp"

// Renumbering ids to compact ranges after filtering. Filters keep the id space (models size
// their tables by num_users / num_items, and an unused row costs little); when the gaps matter
// (k-core on a huge catalogue), compact once and carry the maps to the id maps and side features.
namespace aisle::data {

struct Compacted {
  // Same rows, users and items renumbered 0..n-1 in order of their old ids (so the order is
  // stable and deterministic); num_users / num_items are the counts of ids that have rows. The
  // other columns share storage with the input (they are not copied).
  Interactions interactions;
  Tensor user_old_to_new, item_old_to_new;  // i64 [old count]: new id, or -1 for an id with no rows
  Tensor user_new_to_old, item_new_to_old;  // i64 [new count]: old id
};

Compacted compact_ids(const Interactions& x);

// The id map / side features of the renumbered entities: entry k is the old entry new_to_old[k].
IdMap compact_id_map(const IdMap& ids, const Tensor& new_to_old);
SideFeatures compact_side_features(const SideFeatures& features, const Tensor& new_to_old);

}  // namespace aisle::data
