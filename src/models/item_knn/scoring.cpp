#include "src/models/item_knn/scoring.hpp"

#include <vector>

#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/index.hpp"
#include "aisle/ops/scatter.hpp"
#include "src/core/parallel.hpp"

namespace aisle::models::knn {

DeviceNeighbors device_neighbors(const ScoringTables& t, Device device) {
  std::vector<double> targets(static_cast<size_t>(t.neighbor_items.numel()));
  const int64_t* items = t.neighbor_items.data<int64_t>();
  for (size_t k = 0; k < targets.size(); ++k) targets[k] = items[k] < 0 ? 0.0 : static_cast<double>(items[k]);
  return {Tensor::from_vector(targets, t.neighbor_items.shape(), device), t.neighbor_weights.to(device)};
}

void check_users(const char* op, const int64_t* users, int64_t count, int64_t num_users) {
  for (int64_t b = 0; b < count; ++b)
    AISLE_CHECK(users[b] >= 0 && users[b] < num_users, op, ": user ", users[b], " (position ", b,
                ") is outside [0, ", num_users, ")");
}

Tensor score_cpu(const ScoringTables& t, const Tensor& users) {
  const int64_t items = t.neighbor_items.size(0), width = t.neighbor_items.size(1);
  const int64_t batch = users.numel();
  const int64_t* user = users.data<int64_t>();
  check_users("item_knn score_users", user, batch, t.history_offsets.numel() - 1);
  Tensor out = Tensor::zeros({batch, items}, DType::f32);
  const int64_t* offsets = t.history_offsets.data<int64_t>();
  const int64_t* history = t.history_items.data<int64_t>();
  const int64_t* neighbor = t.neighbor_items.data<int64_t>();
  const float* weight = t.neighbor_weights.data<float>();
  float* scores = out.data<float>();
  cpu::parallel_for(batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* row = scores + b * items;
      for (int64_t e = offsets[user[b]]; e < offsets[user[b] + 1]; ++e) {
        const int64_t h = history[e];
        for (int64_t k = 0; k < width; ++k) {
          const int64_t j = neighbor[h * width + k];
          if (j < 0) break;  // padding only follows the real neighbours
          row[j] += weight[h * width + k];
        }
      }
    }
  });
  return out;
}

namespace {

// Scores of users[begin, end) (host ids) into a fresh [end - begin, I] tensor on the device.
Tensor score_group(const ScoringTables& t, const DeviceNeighbors& d, const std::vector<int64_t>& user,
                   size_t begin, size_t end) {
  const int64_t items = d.targets.size(0), width = d.targets.size(1);
  const int64_t rows = static_cast<int64_t>(end - begin);
  const Device device = d.targets.device();
  const int64_t* offsets = t.history_offsets.data<int64_t>();
  const int64_t* history = t.history_items.data<int64_t>();
  std::vector<int64_t> pair_item;
  std::vector<double> pair_base;  // b * I: the flat offset of the pair's score row
  for (size_t b = begin; b < end; ++b)
    for (int64_t e = offsets[user[b]]; e < offsets[user[b] + 1]; ++e) {
      pair_item.push_back(history[e]);
      pair_base.push_back(static_cast<double>(static_cast<int64_t>(b - begin) * items));
    }
  const int64_t pairs = static_cast<int64_t>(pair_item.size());
  if (pairs == 0 || width == 0) return Tensor::zeros({rows, items}, DType::f32, device);
  const Tensor h = Tensor::from_vector(pair_item, device);
  const Tensor base = Tensor::from_vector(pair_base, {pairs, 1}, device);
  const Tensor target = ops::add(ops::gather_rows(d.targets, h), base).to(DType::i64).reshape({pairs * width});
  const Tensor weight = ops::gather_rows(d.weights, h).reshape({pairs * width});
  return ops::scatter_add(weight, target, rows * items).reshape({rows, items});
}

}  // namespace

Tensor score_with_ops(const ScoringTables& t, const DeviceNeighbors& d, const Tensor& users, int64_t max_entries) {
  const int64_t items = d.targets.size(0), width = d.targets.size(1);
  const std::vector<int64_t> user = users.to_vector<int64_t>();
  const int64_t batch = static_cast<int64_t>(user.size());
  check_users("item_knn score_users", user.data(), batch, t.history_offsets.numel() - 1);
  const int64_t* offsets = t.history_offsets.data<int64_t>();
  std::vector<Tensor> groups;
  size_t begin = 0;
  int64_t entries = 0;
  for (size_t b = 0; b < user.size(); ++b) {
    const int64_t mine = (offsets[user[b] + 1] - offsets[user[b]]) * width;
    if (b > begin && entries + mine > max_entries) {
      groups.push_back(score_group(t, d, user, begin, b));
      begin = b;
      entries = 0;
    }
    entries += mine;
  }
  if (user.empty()) return Tensor::zeros({0, items}, DType::f32, d.targets.device());
  groups.push_back(score_group(t, d, user, begin, user.size()));
  return groups.size() == 1 ? groups[0] : ops::concat(groups, 0);
}

}  // namespace aisle::models::knn
