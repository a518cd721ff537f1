#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "aisle/core/device.hpp"

// Where a model's embedding tables live on several ranks: whole on every rank (replicated, data
// parallel: gradients are summed over ranks) or row-sharded (dist/sharding.hpp: each rank holds
// and updates rows id % world == rank and fetches the others per step). `dist.embeddings: auto`
// replicates while everything fits the per-rank budget and otherwise shards the largest tables
// first until the rest fits.
namespace aisle::dist {

enum class EmbeddingMode { automatic, replicated, sharded };
// "auto" | "replicated" | "sharded"; throws aisle::Error naming the value otherwise.
EmbeddingMode parse_embedding_mode(const std::string& text);
const char* embedding_mode_name(EmbeddingMode mode);

struct TableSpec {
  std::string name;           // "item_factors"
  int64_t rows = 0;
  int64_t bytes_per_row = 0;  // values and optimizer state together
  std::string row;            // what a row holds, for the plan's lines: "64 f32 + adam"
};

struct TablePlacement {
  std::string name;
  bool sharded = false;
  int64_t bytes_per_rank = 0;  // sharded: the largest shard (rank 0's)
};

struct EmbeddingPlan {
  int world = 1;
  std::vector<TablePlacement> tables;  // in the order of the specs
  int64_t bytes_per_rank = 0;          // all tables on the fullest rank
  int64_t budget_per_rank = 0;
  bool sharded(const std::string& table) const;  // throws for a table the plan does not know
  // A header and one line per table, e.g.
  //   "item_factors  40,981 x 64 f32 + adam: replicated, 31.5 MiB per rank"
  std::vector<std::string> lines;
};

// Throws aisle::Error when `mode` is automatic, world > 1 and the tables do not fit
// `memory_per_rank` bytes even when all are sharded (naming what is needed and what is allowed).
// Explicit modes are obeyed; a plan over the budget says so in its header line. On one rank
// sharding changes nothing, so auto replicates and the budget is not enforced.
EmbeddingPlan plan_embeddings(const std::vector<TableSpec>& tables, int world, int64_t memory_per_rank,
                              EmbeddingMode mode);

// dist.memory_per_rank_gib's default (0): half of the device's memory, or of the host's for the CPU.
int64_t default_memory_per_rank(Device device);

// "31.5 MiB", "812 B", "2.0 GiB".
std::string format_bytes(int64_t bytes);

}  // namespace aisle::dist
