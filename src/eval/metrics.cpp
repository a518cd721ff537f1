// Per-user metric formulas; the definitions are documented in aisle/eval/metrics.hpp.
#include "aisle/eval/metrics.hpp"

#include <algorithm>
#include <cmath>

#include "aisle/core/error.hpp"

namespace aisle::eval {

namespace {

void check_ranking(const char* metric, std::span<const int64_t> positions, int64_t k) {
  AISLE_CHECK(!positions.empty(), metric, ": a user needs at least one relevant item (positions is empty)");
  AISLE_CHECK(k >= 1, metric, ": the cut-off K must be at least 1, got ", k);
  AISLE_CHECK(positions[0] >= 0, metric, ": positions must be non-negative, got ", positions[0]);
  for (size_t m = 1; m < positions.size(); ++m)
    AISLE_CHECK(positions[m - 1] < positions[m], metric, ": positions must be strictly ascending, but position ",
                m - 1, " is ", positions[m - 1], " and position ", m, " is ", positions[m]);
}

double discount(int64_t position) { return 1.0 / std::log2(static_cast<double>(position) + 2.0); }

// IDCG for n ideal hits. Tabulated, because evaluation asks for it once per user and cut-off.
double ideal_dcg(int64_t n) {
  static const std::vector<double> table = [] {
    std::vector<double> t(1025, 0.0);
    for (size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] + discount(static_cast<int64_t>(i) - 1);
    return t;
  }();
  if (n < static_cast<int64_t>(table.size())) return table[static_cast<size_t>(n)];
  double sum = table.back();
  for (int64_t i = static_cast<int64_t>(table.size()) - 1; i < n; ++i) sum += discount(i);
  return sum;
}

// Positions are ascending, so the hits are a prefix.
int64_t count_hits(std::span<const int64_t> positions, int64_t k) {
  return std::lower_bound(positions.begin(), positions.end(), k) - positions.begin();
}

}  // namespace

int64_t hits_at(std::span<const int64_t> positions, int64_t k) {
  check_ranking("hits_at", positions, k);
  return count_hits(positions, k);
}

double recall_at(std::span<const int64_t> positions, int64_t k) {
  check_ranking("Recall@K", positions, k);
  return static_cast<double>(count_hits(positions, k)) / static_cast<double>(positions.size());
}

double precision_at(std::span<const int64_t> positions, int64_t k) {
  check_ranking("Precision@K", positions, k);
  return static_cast<double>(count_hits(positions, k)) / static_cast<double>(k);
}

double hit_rate_at(std::span<const int64_t> positions, int64_t k) {
  check_ranking("HitRate@K", positions, k);
  return positions[0] < k ? 1.0 : 0.0;
}

double ndcg_at(std::span<const int64_t> positions, int64_t k) {
  check_ranking("NDCG@K", positions, k);
  const int64_t hits = count_hits(positions, k);
  double dcg = 0.0;
  for (int64_t m = 0; m < hits; ++m) dcg += discount(positions[static_cast<size_t>(m)]);
  return dcg / ideal_dcg(std::min<int64_t>(static_cast<int64_t>(positions.size()), k));
}

double mrr_at(std::span<const int64_t> positions, int64_t k) {
  check_ranking("MRR@K", positions, k);
  return positions[0] < k ? 1.0 / static_cast<double>(positions[0] + 1) : 0.0;
}

double mrr(std::span<const int64_t> positions) {
  check_ranking("MRR", positions, 1);
  return 1.0 / static_cast<double>(positions[0] + 1);
}

double average_precision_at(std::span<const int64_t> positions, int64_t k) {
  check_ranking("MAP@K", positions, k);
  const int64_t hits = count_hits(positions, k);
  double sum = 0.0;
  for (int64_t m = 0; m < hits; ++m)
    sum += static_cast<double>(m + 1) / static_cast<double>(positions[static_cast<size_t>(m)] + 1);
  return sum / static_cast<double>(std::min<int64_t>(static_cast<int64_t>(positions.size()), k));
}

double auc(std::span<const int64_t> positions, int64_t num_negatives) {
  check_ranking("AUC", positions, 1);
  AISLE_CHECK(num_negatives >= 1, "AUC: needs at least one negative item, got ", num_negatives);
  double misordered = 0.0;
  for (size_t m = 0; m < positions.size(); ++m)
    misordered += static_cast<double>(std::min(positions[m] - static_cast<int64_t>(m), num_negatives));
  return 1.0 - misordered / (static_cast<double>(positions.size()) * static_cast<double>(num_negatives));
}

std::vector<double> item_self_information(const data::UserItemIndex& train) {
  std::vector<int64_t> pop(static_cast<size_t>(train.num_items()), 0);
  for (int64_t u = 0; u < train.num_users(); ++u)
    for (const int64_t* it = train.begin(u); it != train.end(u); ++it) ++pop[static_cast<size_t>(*it)];
  const double users = static_cast<double>(std::max<int64_t>(train.num_users(), 1));
  std::vector<double> info(pop.size());
  for (size_t i = 0; i < pop.size(); ++i)
    info[i] = -std::log2(static_cast<double>(std::max<int64_t>(pop[i], 1)) / users);
  return info;
}

double novelty(std::span<const int64_t> list, std::span<const double> self_information) {
  if (list.empty()) return 0.0;
  double sum = 0.0;
  for (const int64_t item : list) {
    AISLE_CHECK(item >= 0 && item < static_cast<int64_t>(self_information.size()), "novelty: item ", item,
                " is outside [0, ", self_information.size(), ")");
    sum += self_information[static_cast<size_t>(item)];
  }
  return sum / static_cast<double>(list.size());
}

double item_coverage(const std::vector<std::vector<int64_t>>& lists, int64_t num_items) {
  AISLE_CHECK(num_items >= 1, "item_coverage: num_items must be at least 1, got ", num_items);
  std::vector<bool> seen(static_cast<size_t>(num_items), false);
  int64_t distinct = 0;
  for (const auto& list : lists)
    for (const int64_t item : list) {
      AISLE_CHECK(item >= 0 && item < num_items, "item_coverage: item ", item, " is outside [0, ", num_items, ")");
      if (!seen[static_cast<size_t>(item)]) {
        seen[static_cast<size_t>(item)] = true;
        ++distinct;
      }
    }
  return static_cast<double>(distinct) / static_cast<double>(num_items);
}

}  // namespace aisle::eval
