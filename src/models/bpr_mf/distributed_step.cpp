// One BPR-MF step on several ranks. Each rank computes the gradient of its share of the global
// batch with the same backward as one process, scaled so that the shares add up to the
// one-process gradient (mean over the GLOBAL batch), then:
//   replicated tables: rows are summed over ranks (rank order) and every rank applies the same
//     update, so the replicas stay identical;
//   sharded tables: the rows the share needs are fetched from their owners into a compact table,
//     the backward runs on it, and the gradient rows go back to their owners, which update their
//     local rows.
// A rank with no real rows (a short last batch) still joins every collective.
#include <algorithm>
#include <vector>

#include "aisle/ops/elementwise.hpp"
#include "src/dist/sparse_rows_exchange.hpp"
#include "src/models/bpr_mf/model.hpp"

namespace aisle::models::bpr {
namespace {

std::vector<int64_t> sorted_unique(std::vector<int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// Positions of `ids` (a CPU i64 tensor of any shape) in `unique`, which holds every one of them.
Tensor compact(const Tensor& ids, const std::vector<int64_t>& unique) {
  std::vector<int64_t> at = ids.to_vector<int64_t>();
  for (int64_t& id : at) id = std::lower_bound(unique.begin(), unique.end(), id) - unique.begin();
  return Tensor::from_vector(at, ids.shape());
}

Var table_parameter(Tensor value, const char* name) {
  Var v = Var::parameter(std::move(value), name);
  v.set_sparse(true);
  return v;
}

ops::SparseRows no_rows(const Shape& row_shape, Device device) {
  Shape shape{0};
  shape.insert(shape.end(), row_shape.begin(), row_shape.end());
  return {Tensor::zeros({0}, DType::i64, device), Tensor::zeros(shape, DType::f32, device)};
}

}  // namespace

Gradients BprMf::distributed_gradients(const BatchIds& ids, int64_t global_size) const {
  dist::Communicator& comm = *comm_;
  const int64_t valid = ids.users.numel();
  const bool has_bias = params_.item_bias.defined();

  // Sharded tables: this share's rows, fetched by every rank even when it needs none.
  Params params = params_;
  BatchIds local = ids;
  std::vector<int64_t> users, items;
  if (shard_users_) {
    users = sorted_unique(ids.users.to_vector<int64_t>());
    const Tensor wanted = Tensor::from_vector(users);
    params.user_factors =
        table_parameter(dist::fetch_rows(comm, params_.user_factors.value(), user_sharding_, wanted), "user_factors");
    local.users = compact(ids.users, users);
  }
  if (shard_items_) {
    items = ids.items.to_vector<int64_t>();
    const std::vector<int64_t> negatives = ids.negatives.to_vector<int64_t>();
    items.insert(items.end(), negatives.begin(), negatives.end());
    items = sorted_unique(std::move(items));
    const Tensor wanted = Tensor::from_vector(items);
    params.item_factors =
        table_parameter(dist::fetch_rows(comm, params_.item_factors.value(), item_sharding_, wanted), "item_factors");
    if (has_bias)
      params.item_bias =
          table_parameter(dist::fetch_rows(comm, params_.item_bias.value(), item_sharding_, wanted), "item_bias");
    local.items = compact(ids.items, items);
    local.negatives = compact(ids.negatives, items);
  }

  const std::vector<Shape> row_shapes{{config_.factors}, {config_.factors}, {}};
  const size_t tables = has_bias ? 3 : 2;
  Gradients g;
  if (valid > 0) {
    g = backward(params, {local.users.to(device_), local.items.to(device_), local.negatives.to(device_)});
    if (valid != global_size) {
      // The backward averages over this share; the step averages over the global batch.
      const double share = static_cast<double>(valid) / static_cast<double>(global_size);
      g.loss *= share;
      for (ops::SparseRows& rows : g.rows) rows.rows = ops::affine(rows.rows, share);
    }
  } else {
    for (size_t t = 0; t < tables; ++t) g.rows.push_back(no_rows(row_shapes[t], device_));
  }
  AISLE_CHECK(g.rows.size() == tables, "bpr: the backward returned ", g.rows.size(), " tables, expected ", tables);

  // Compact row ids back to global ones: `users`/`items` are ascending, so the rows stay coalesced.
  auto to_global = [&](ops::SparseRows& rows, const std::vector<int64_t>& unique) {
    std::vector<int64_t> at = rows.indices.to(Device::cpu()).to_vector<int64_t>();
    for (int64_t& id : at) id = unique[static_cast<size_t>(id)];
    rows.indices = Tensor::from_vector(at).to(device_);
  };
  for (size_t t = 0; t < tables; ++t) {
    const bool sharded = t == 0 ? shard_users_ : shard_items_;
    const dist::RowSharding& sharding = t == 0 ? user_sharding_ : item_sharding_;
    if (sharded) {
      to_global(g.rows[t], t == 0 ? users : items);
      g.rows[t] = dist::reduce_rows_to_owners(comm, g.rows[t], sharding, row_shapes[t]);
    } else {
      g.rows[t] = dist::all_reduce_rows(comm, g.rows[t], row_shapes[t]);
    }
  }
  g.loss = comm.all_reduce_scalar(g.loss);
  return g;
}

}  // namespace aisle::models::bpr
