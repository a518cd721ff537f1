// Full-ranking protocol (see aisle/eval/full_ranking.hpp): device work per batch; on the host,
// per-user metric values computed in parallel, then summed in user order.
#include "aisle/eval/full_ranking.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "aisle/eval/metrics.hpp"
#include "aisle/ops/mask_items.hpp"
#include "aisle/ops/sort.hpp"
#include "src/core/parallel.hpp"
#include "src/eval/metric_sums.hpp"
#include "src/eval/protocol_checks.hpp"
#include "src/eval/row_lists.hpp"

namespace aisle::eval {

namespace {

constexpr const char* kProtocol = "evaluate_full_ranking";
constexpr double kNotApplicable = std::numeric_limits<double>::quiet_NaN();

// Per K, in this order, then MRR and AUC: the layout of one user's row of values.
constexpr const char* kPerK[] = {"Recall", "Precision", "NDCG", "HitRate", "MRR", "MAP", "Novelty"};
constexpr size_t kPerKCount = std::size(kPerK);

std::vector<std::string> metric_names(const std::vector<int64_t>& ks) {
  std::vector<std::string> names;
  for (const int64_t k : ks)
    for (const char* m : kPerK) names.push_back(detail::at_k(m, k));
  names.push_back("MRR");
  names.push_back("AUC");
  return names;
}

// What the host needs of one batch, back from the device.
struct BatchOutputs {
  std::vector<int64_t> ranks;    // test items' positions, CSR by `offsets`
  std::vector<int64_t> offsets;  // [B + 1]
  std::vector<int64_t> top;      // [B, list_length] item ids, best first
  std::vector<double> top_values;
};

// The served entries of a top row: a masked training item (-inf) is not served. Only -inf entries
// need the membership test, and they are rare.
bool served(const data::UserItemIndex& train, int64_t user, int64_t item, double value) {
  return value != -std::numeric_limits<double>::infinity() || !train.contains(user, item);
}

class FullRanking {
 public:
  FullRanking(const data::UserItemIndex& train, const data::UserItemIndex& test, std::vector<int64_t> ks)
      : train_(train), test_(test), ks_(std::move(ks)), list_length_(std::min(ks_.back(), train.num_items())),
        self_information_(item_self_information(train)), sums_(metric_names(ks_)),
        covered_(ks_.size(), std::vector<bool>(static_cast<size_t>(train.num_items()), false)),
        covered_count_(ks_.size(), 0) {}

  int64_t list_length() const { return list_length_; }

  void add_batch(std::span<const int64_t> users, const BatchOutputs& out) {
    const int64_t rows = static_cast<int64_t>(users.size());
    const size_t width = sums_.size();
    for (int64_t b = 0; b < rows; ++b)  // NaN ranks above every number: it would lead its top row
      AISLE_CHECK(list_length_ == 0 || !std::isnan(out.top_values[static_cast<size_t>(b * list_length_)]), kProtocol,
                  ": the scorer returned NaN scores for user ", users[static_cast<size_t>(b)]);
    std::vector<double> values(static_cast<size_t>(rows) * width);
    // The metric functions cannot throw here: positions are distinct (rank_items orders each row
    // totally and test lists are distinct), non-empty, and every K is >= 1.
    cpu::parallel_for(rows, 64, [&](int64_t b0, int64_t b1) {
      std::vector<int64_t> positions, list;
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t j0 = out.offsets[static_cast<size_t>(b)], j1 = out.offsets[static_cast<size_t>(b) + 1];
        positions.assign(out.ranks.begin() + j0, out.ranks.begin() + j1);
        std::sort(positions.begin(), positions.end());
        user_values(users[static_cast<size_t>(b)], positions, b, out, list, values.data() + static_cast<size_t>(b) * width);
      }
    });
    for (int64_t b = 0; b < rows; ++b) {
      sums_.add(std::span<const double>(values.data() + static_cast<size_t>(b) * width, width));
      cover(users[static_cast<size_t>(b)], b, out);
    }
  }

  EvalResult result(int64_t users, int64_t cases) const {
    EvalResult r;
    r.metrics = sums_.means();
    for (size_t c = 0; c < ks_.size(); ++c)
      r.metrics[detail::at_k("Coverage", ks_[c])] =
          static_cast<double>(covered_count_[c]) / static_cast<double>(train_.num_items());
    r.users = users;
    r.cases = cases;
    return r;
  }

 private:
  // One user's row of values (layout: metric_names). `list` is scratch for the served list.
  void user_values(int64_t user, std::span<const int64_t> positions, int64_t b, const BatchOutputs& out,
                   std::vector<int64_t>& list, double* v) const {
    list.clear();
    int64_t scanned = 0;
    for (size_t c = 0; c < ks_.size(); ++c, v += kPerKCount) {
      const int64_t k = ks_[c];
      for (; scanned < std::min(k, list_length_); ++scanned) {
        const size_t e = static_cast<size_t>(b * list_length_ + scanned);
        if (served(train_, user, out.top[e], out.top_values[e])) list.push_back(out.top[e]);
      }
      v[0] = recall_at(positions, k);
      v[1] = precision_at(positions, k);
      v[2] = ndcg_at(positions, k);
      v[3] = hit_rate_at(positions, k);
      v[4] = mrr_at(positions, k);
      v[5] = average_precision_at(positions, k);
      v[6] = list.empty() ? kNotApplicable : novelty(list, self_information_);
    }
    v[0] = mrr(positions);
    const int64_t negatives = train_.num_items() - detail::union_size(train_, test_, user);
    v[1] = negatives >= 1 ? auc(positions, negatives) : kNotApplicable;
  }

  void cover(int64_t user, int64_t b, const BatchOutputs& out) {
    for (size_t c = 0; c < ks_.size(); ++c)
      for (int64_t j = 0; j < std::min(ks_[c], list_length_); ++j) {
        const size_t e = static_cast<size_t>(b * list_length_ + j);
        const int64_t item = out.top[e];
        if (covered_[c][static_cast<size_t>(item)] || !served(train_, user, item, out.top_values[e])) continue;
        covered_[c][static_cast<size_t>(item)] = true;
        ++covered_count_[c];
      }
  }

  const data::UserItemIndex& train_;
  const data::UserItemIndex& test_;
  std::vector<int64_t> ks_;
  int64_t list_length_;
  std::vector<double> self_information_;
  detail::MetricSums sums_;
  std::vector<std::vector<bool>> covered_;  // per K, per item
  std::vector<int64_t> covered_count_;      // per K
};

}  // namespace

EvalResult evaluate_full_ranking(const Scorer& scorer, const data::UserItemIndex& train,
                                 const data::UserItemIndex& test, const FullRankingOptions& options) {
  AISLE_CHECK(static_cast<bool>(scorer), kProtocol, ": no scorer given");
  detail::check_same_space(kProtocol, train, test);
  detail::check_batch_size(kProtocol, options.batch_size);
  FullRanking ranking(train, test, detail::checked_ks(kProtocol, options.ks));
  const int64_t num_items = train.num_items();

  const std::vector<int64_t> users = detail::users_with_items(test);
  const int64_t total = static_cast<int64_t>(users.size());
  AISLE_CHECK(total > 0, kProtocol, ": the test index holds no interactions, so there is no user to evaluate");
  int64_t cases = 0;
  for (int64_t b0 = 0; b0 < total; b0 += options.batch_size) {
    const int64_t rows = std::min(options.batch_size, total - b0);
    const std::span<const int64_t> batch(users.data() + b0, static_cast<size_t>(rows));
    Tensor scores = scorer(Tensor::from_host(batch.data(), {rows}, DType::i64, options.device));
    detail::check_scores(kProtocol, scores, {rows, num_items}, options.device);

    const detail::RowLists seen = detail::row_lists(train, batch, options.device);
    ops::mask_items_(scores, seen.offsets, seen.items);
    const ops::TopK top = ops::topk(scores, ranking.list_length());
    const detail::RowLists relevant = detail::row_lists(test, batch, options.device);
    BatchOutputs out;
    out.ranks = ops::rank_items(scores, relevant.offsets, relevant.items).to_vector<int64_t>();
    out.offsets = relevant.offsets.to_vector<int64_t>();
    out.top = top.indices.to_vector<int64_t>();
    out.top_values = top.values.to_doubles();
    ranking.add_batch(batch, out);
    cases += static_cast<int64_t>(out.ranks.size());
  }
  return ranking.result(total, cases);
}

}  // namespace aisle::eval
