#pragma once
// Shared by the model tests: a trained model, exported and loaded back as the artifact services
// use, recommends exactly what the model itself ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "aisle/data/user_index.hpp"
#include "aisle/serve/artifact.hpp"
#include "aisle/train/export.hpp"
#include "aisle/train/model.hpp"
#include "support/temp_dir.hpp"

namespace aisle::testing {

// Exports `m` (trained on `seen`, dense ids) and loads the artifact: its top 10 for each of
// `users` are the model's scores of that user's unseen items, best first (ties by item id), and
// the manifest names `type`.
inline void expect_artifact_recommends_like_the_model(const train::Model& m, const data::UserItemIndex& seen,
                                                      const std::string& type, const std::vector<int64_t>& users) {
  const int64_t num_users = m.dimensions().at("users"), num_items = m.dimensions().at("items");
  TempDir tmp;
  train::export_artifact({.model = &m, .user_ids = data::IdMap::dense(num_users),
                          .item_ids = data::IdMap::dense(num_items), .seen = &seen, .metrics = {},
                          .dir = tmp.path() / "artifact"});
  const Artifact artifact = Artifact::load(tmp.path() / "artifact");
  EXPECT_EQ(artifact.manifest().model_type, type);
  for (const int64_t user : users) {
    const auto scores = m.score_users(Tensor::from_vector<int64_t>({user})).to_vector<float>();
    std::vector<int64_t> expected;
    for (int64_t i = 0; i < num_items; ++i)
      if (!seen.contains(user, i)) expected.push_back(i);
    std::stable_sort(expected.begin(), expected.end(), [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
    expected.resize(std::min<size_t>(expected.size(), 10));
    std::vector<int64_t> got;
    for (const Recommendation& r : artifact.recommend(user, 10)) got.push_back(r.item_index);
    EXPECT_EQ(got, expected) << "user " << user;
  }
}

}  // namespace aisle::testing
