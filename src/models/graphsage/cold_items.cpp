#include "src/models/graphsage/cold_items.hpp"

#include <algorithm>

#include "aisle/core/error.hpp"
#include "src/data/counter_rng.hpp"

namespace aisle::models::graphsage {

std::vector<int64_t> items_made_cold(const std::vector<int64_t>& seeds, int64_t num_users, int64_t num_items,
                                     double rate, uint64_t seed, uint64_t stream) {
  AISLE_CHECK(rate >= 0 && rate <= 1, "graphsage: cold_item_rate must be in [0, 1], got ", rate);
  std::vector<int64_t> cold;
  if (rate == 0) return cold;
  for (const int64_t v : seeds) {
    if (v < num_users || v >= num_users + num_items) continue;
    detail::CounterRng rng(seed, stream, static_cast<uint64_t>(v));
    if (rng.unit() < rate) cold.push_back(v);
  }
  std::sort(cold.begin(), cold.end());
  return cold;
}

void hide_user_neighbours(data::NeighborSample& sample, const std::vector<int64_t>& cold, int64_t num_users) {
  if (cold.empty()) return;
  for (data::SampledBlock& block : sample.blocks) {
    const Device device = block.adjacency.row_ptr.device();
    const std::vector<int64_t> src = block.src_nodes.to(Device::cpu()).to_vector<int64_t>();
    const std::vector<int64_t> row_ptr = block.adjacency.row_ptr.to(Device::cpu()).to(DType::i64).to_vector<int64_t>();
    const std::vector<int64_t> col = block.adjacency.col_idx.to(Device::cpu()).to(DType::i64).to_vector<int64_t>();
    const std::vector<float> values = block.adjacency.values.to(Device::cpu()).to(DType::f32).to_vector<float>();
    std::vector<int64_t> new_ptr{0}, new_col;
    std::vector<float> new_values;
    bool changed = false;
    for (int64_t d = 0; d < block.num_dst; ++d) {
      const auto b = static_cast<size_t>(row_ptr[static_cast<size_t>(d)]);
      const auto e = static_cast<size_t>(row_ptr[static_cast<size_t>(d) + 1]);
      if (!std::binary_search(cold.begin(), cold.end(), src[static_cast<size_t>(d)])) {
        new_col.insert(new_col.end(), col.begin() + static_cast<std::ptrdiff_t>(b), col.begin() + static_cast<std::ptrdiff_t>(e));
        new_values.insert(new_values.end(), values.begin() + static_cast<std::ptrdiff_t>(b),
                          values.begin() + static_cast<std::ptrdiff_t>(e));
      } else {
        const size_t first = new_col.size();
        for (size_t k = b; k < e; ++k)
          if (src[static_cast<size_t>(col[k])] >= num_users) new_col.push_back(col[k]);
        const size_t kept = new_col.size() - first;
        new_values.resize(new_col.size(), 1.0f / static_cast<float>(std::max<size_t>(kept, 1)));
        changed = changed || kept != e - b;
      }
      new_ptr.push_back(static_cast<int64_t>(new_col.size()));
    }
    if (!changed) continue;
    ops::Csr a = ops::make_csr(Tensor::from_vector(new_ptr).to(block.adjacency.row_ptr.dtype()),
                               Tensor::from_vector(new_col).to(block.adjacency.col_idx.dtype()),
                               Tensor::from_vector(new_values).to(block.adjacency.values.dtype()), block.num_dst,
                               block.adjacency.cols);
    block.adjacency = ops::Csr{a.row_ptr.to(device), a.col_idx.to(device), a.values.to(device), a.rows, a.cols};
  }
}

}  // namespace aisle::models::graphsage
