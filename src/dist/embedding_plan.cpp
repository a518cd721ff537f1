#include "aisle/dist/embedding_plan.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "aisle/config.hpp"
#include "aisle/core/error.hpp"

#if AISLE_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace aisle::dist {
namespace {

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

int64_t shard_rows(int64_t rows, int world) { return (rows + world - 1) / world; }

}  // namespace

EmbeddingMode parse_embedding_mode(const std::string& text) {
  if (text == "auto") return EmbeddingMode::automatic;
  if (text == "replicated") return EmbeddingMode::replicated;
  if (text == "sharded") return EmbeddingMode::sharded;
  AISLE_FAIL("dist.embeddings: '", text, "' is not one of auto, replicated, sharded");
}

const char* embedding_mode_name(EmbeddingMode mode) {
  switch (mode) {
    case EmbeddingMode::automatic: return "auto";
    case EmbeddingMode::replicated: return "replicated";
    case EmbeddingMode::sharded: return "sharded";
  }
  return "?";
}

std::string format_bytes(int64_t bytes) {
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes) / 1024.0;
  int unit = 0;
  while (v >= 1024.0 && unit < 3) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[unit]);
  return buf;
}

bool EmbeddingPlan::sharded(const std::string& table) const {
  for (const TablePlacement& t : tables)
    if (t.name == table) return t.sharded;
  AISLE_FAIL("embedding plan: no table named '", table, "'");
}

EmbeddingPlan plan_embeddings(const std::vector<TableSpec>& specs, int world, int64_t memory_per_rank,
                              EmbeddingMode mode) {
  AISLE_CHECK(world >= 1, "embedding plan: world size ", world, " must be at least 1");
  AISLE_CHECK(memory_per_rank > 0, "embedding plan: the memory per rank must be positive, got ", memory_per_rank);
  for (const TableSpec& s : specs)
    AISLE_CHECK(s.rows >= 0 && s.bytes_per_row > 0, "embedding plan: table '", s.name, "' has ", s.rows, " rows of ",
                s.bytes_per_row, " bytes");
  const size_t n = specs.size();
  auto whole = [&](size_t t) { return specs[t].rows * specs[t].bytes_per_row; };
  auto shard = [&](size_t t) { return shard_rows(specs[t].rows, world) * specs[t].bytes_per_row; };
  std::vector<bool> sharded(n, mode == EmbeddingMode::sharded);
  auto total = [&] {
    int64_t sum = 0;
    for (size_t t = 0; t < n; ++t) sum += sharded[t] ? shard(t) : whole(t);
    return sum;
  };
  if (mode == EmbeddingMode::automatic && world > 1 && total() > memory_per_rank) {
    // Largest first (ties by position): each table sharded saves the most memory of those left.
    std::vector<size_t> by_size(n);
    std::iota(by_size.begin(), by_size.end(), size_t{0});
    std::stable_sort(by_size.begin(), by_size.end(), [&](size_t a, size_t b) { return whole(a) > whole(b); });
    for (size_t t : by_size) {
      if (total() <= memory_per_rank) break;
      sharded[t] = true;
    }
    AISLE_CHECK(total() <= memory_per_rank, "embedding plan: the tables need ", format_bytes(total()),
                " per rank even sharded over ", world, " ranks, but only ", format_bytes(memory_per_rank),
                " per rank is available (dist.memory_per_rank_gib); use more ranks or smaller tables");
  }

  EmbeddingPlan plan;
  plan.world = world;
  plan.budget_per_rank = memory_per_rank;
  plan.bytes_per_rank = total();
  std::string header = "embeddings (" + std::string(embedding_mode_name(mode)) + ") over " + std::to_string(world) +
                       (world == 1 ? " rank: " : " ranks: ") + format_bytes(plan.bytes_per_rank) + " per rank of " +
                       format_bytes(memory_per_rank);
  if (world > 1 && plan.bytes_per_rank > memory_per_rank) header += " (OVER the budget)";
  plan.lines.push_back(header);
  size_t name_width = 0;
  for (const TableSpec& s : specs) name_width = std::max(name_width, s.name.size());
  for (size_t t = 0; t < n; ++t) {
    const TableSpec& s = specs[t];
    plan.tables.push_back({s.name, static_cast<bool>(sharded[t]), sharded[t] ? shard(t) : whole(t)});
    std::string line = s.name + std::string(name_width + 2 - s.name.size(), ' ') + with_commas(s.rows) + " x " +
                       s.row + ": ";
    line += sharded[t] ? "sharded over " + std::to_string(world) + " ranks (id % " + std::to_string(world) + ")"
                       : std::string("replicated");
    line += ", " + format_bytes(plan.tables.back().bytes_per_rank) + " per rank";
    plan.lines.push_back(line);
  }
  return plan;
}

int64_t default_memory_per_rank(Device device) {
#if AISLE_WITH_CUDA
  if (device.is_cuda()) {
    cudaDeviceProp prop{};
    const cudaError_t status = cudaGetDeviceProperties(&prop, device.index);
    AISLE_CHECK(status == cudaSuccess, "embedding plan: cannot read the memory of ", device.str(), ": ",
                cudaGetErrorString(status));
    return static_cast<int64_t>(prop.totalGlobalMem / 2);
  }
#else
  AISLE_CHECK(!device.is_cuda(), "embedding plan: ", device.str(), " needs the CUDA backend (this build has none)");
#endif
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  AISLE_CHECK(pages > 0 && page > 0, "embedding plan: cannot read the host's memory size");
  return static_cast<int64_t>(pages) * page / 2;
}

}  // namespace aisle::dist
