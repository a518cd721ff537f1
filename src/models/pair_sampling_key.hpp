#pragma once
#include "aisle/recipe/schema.hpp"

namespace aisle::models {

// train.pair_sampling, shared by the pairwise (BPR-loss) models; semantics: data::PairSampling.
inline recipe::Key& pair_sampling_key(recipe::Key& key) {
  return key.with_default("rows").one_of({"rows", "users"})
      .help("how an epoch's |train| (user, positive) pairs are chosen: rows = every training row once, shuffled; "
            "users = a uniform user, then one of its items (LightGCN's and NGCF's reference code; every user trains "
            "equally often)");
}

}  // namespace aisle::models
