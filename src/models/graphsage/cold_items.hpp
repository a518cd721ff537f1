#pragma once
#include <cstdint>
#include <vector>

#include "aisle/data/neighbor_sampler.hpp"

// Cold-start practice in training (model.cold_item_rate; DropoutNet's idea, on the graph): in each
// step some of the step's items are made to look new, their user neighbours hidden in every sampled
// block, so the layers learn to embed an item from its attribute nodes alone, which is all a
// product added after export (or launched after training) has. The other items and the users keep
// their sampled neighbourhoods; full-graph inference is unchanged.
namespace aisle::models::graphsage {

// The item nodes (ids in [num_users, num_users + num_items)) among `seeds` that step `stream`
// makes cold: each independently with probability `rate`, drawn from its own Philox block
// (seed, stream, node), so the choice depends on the node and the step only. Sorted.
std::vector<int64_t> items_made_cold(const std::vector<int64_t>& seeds, int64_t num_users, int64_t num_items,
                                     double rate, uint64_t seed, uint64_t stream);

// Removes, in every block, the user neighbours (global id < num_users) of each dst node listed in
// `cold` (sorted), and re-weights what remains of those rows 1/count, as the sampler weights a
// row; other rows keep their entries and values bit for bit. The blocks are rebuilt on the host and
// put back on their device.
void hide_user_neighbours(data::NeighborSample& sample, const std::vector<int64_t>& cold, int64_t num_users);

}  // namespace aisle::models::graphsage
