// How BPR-MF's tables are spread over the ranks: the embedding plan read from dist.*, the rows a
// rank keeps of each initial table, and whole tables gathered back for weights().
#include <utility>
#include <vector>

#include "aisle/ops/scatter.hpp"
#include "src/dist/sparse_rows_exchange.hpp"
#include "src/models/bpr_mf/model.hpp"

namespace aisle::models::bpr {

void BprMf::plan_tables(const train::ModelContext& ctx) {
  comm_ = ctx.comm;
  world_ = comm_->world_size();
  rank_ = comm_->rank();
  // Optimizer state: tables of the row's width (adam 2, adagrad 1), or one value per row.
  const int64_t moments = config_.optimizer == "adam" ? 2 : config_.optimizer == "adagrad" ? 1 : 0;
  const int64_t per_row_state = config_.optimizer == "rowwise_adagrad" ? 1 : 0;
  const int64_t f32 = sizeof(float), stored = static_cast<int64_t>(dtype_size(config_.table_storage()));
  const int64_t row_bytes = config_.factors * (stored + f32 * moments) + f32 * per_row_state;
  const int64_t bias_bytes = config_.item_bias ? f32 * (1 + moments + per_row_state) : 0;
  const std::string state = config_.optimizer == "sgd" ? "" : " + " + config_.optimizer;
  const std::string row = std::to_string(config_.factors) + " " + config_.table_dtype;
  // item_bias is indexed like item_factors, so it is placed with it.
  const std::vector<dist::TableSpec> specs{
      {"user_factors", num_users_, row_bytes, row + state},
      {"item_factors", num_items_, row_bytes + bias_bytes, row + (config_.item_bias ? " + bias" : "") + state}};
  const dist::EmbeddingMode mode = dist::parse_embedding_mode(config_.embeddings);
  const int64_t budget = config_.memory_per_rank_gib > 0
                             ? static_cast<int64_t>(config_.memory_per_rank_gib * 1024.0 * 1024.0 * 1024.0)
                             : dist::default_memory_per_rank(ctx.device);
  const dist::EmbeddingPlan plan = dist::plan_embeddings(specs, world_, budget, mode);
  shard_users_ = plan.sharded("user_factors");
  shard_items_ = plan.sharded("item_factors");
  user_sharding_ = dist::RowSharding{num_users_, world_, rank_};
  item_sharding_ = dist::RowSharding{num_items_, world_, rank_};
  notes_.clear();
  if (world_ > 1 || shard_users_ || shard_items_) notes_ = plan.lines;
}

Tensor BprMf::initial_table(Tensor whole, bool sharded, const dist::RowSharding& sharding) const {
  if (!sharded) return whole;
  std::vector<int64_t> mine(static_cast<size_t>(sharding.local_rows()));
  for (size_t l = 0; l < mine.size(); ++l) mine[l] = sharding.global_row(static_cast<int64_t>(l), sharding.rank);
  return ops::gather_rows(whole, Tensor::from_vector(mine));
}

Tensor BprMf::whole_table(const Var& local, bool sharded, const dist::RowSharding& sharding) const {
  if (!sharded || sharding.world == 1) return local.value();
  return dist::gather_table(*comm_, local.value(), sharding);
}

}  // namespace aisle::models::bpr
