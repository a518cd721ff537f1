// Sampled-ranking protocol (see aisle/eval/sampled_ranking.hpp): candidates sampled on the host,
// scored and ranked on the device, metrics per case averaged per user, then over users.
#include "aisle/eval/sampled_ranking.hpp"

#include <cmath>
#include <algorithm>
#include <span>

#include "aisle/eval/metrics.hpp"
#include "aisle/ops/index.hpp"
#include "aisle/ops/mask_items.hpp"
#include "src/eval/metric_sums.hpp"
#include "src/eval/negative_sampler.hpp"
#include "src/eval/protocol_checks.hpp"

namespace aisle::eval {

namespace {

constexpr const char* kProtocol = "evaluate_sampled_ranking";

std::vector<std::string> metric_names(const std::vector<int64_t>& ks) {
  std::vector<std::string> names;
  for (const int64_t k : ks) {
    names.push_back(detail::at_k("HitRate", k));
    names.push_back(detail::at_k("NDCG", k));
  }
  names.push_back("MRR");
  names.push_back("AUC");
  return names;
}

// One user's cases, averaged into one value per metric (layout: metric_names) when complete.
class UserCases {
 public:
  UserCases(const std::vector<int64_t>& ks, int64_t num_negatives)
      : ks_(ks), negatives_(num_negatives), totals_(2 * ks.size() + 2, 0.0) {}

  void add(int64_t user, int64_t rank, detail::MetricSums& sums) {
    if (user != user_) flush(sums);
    user_ = user;
    ++cases_;
    const int64_t position[1] = {rank};
    size_t m = 0;
    for (const int64_t k : ks_) {
      totals_[m++] += hit_rate_at(position, k);
      totals_[m++] += ndcg_at(position, k);
    }
    totals_[m++] += mrr(position);
    totals_[m++] += auc(position, negatives_);
  }
  void flush(detail::MetricSums& sums) {
    if (cases_ == 0) return;
    for (double& t : totals_) t /= static_cast<double>(cases_);
    sums.add(totals_);
    std::fill(totals_.begin(), totals_.end(), 0.0);
    cases_ = 0;
  }

 private:
  const std::vector<int64_t>& ks_;
  int64_t negatives_;
  std::vector<double> totals_;
  int64_t user_ = -1;
  int64_t cases_ = 0;
};

}  // namespace

CandidateScorer candidates_from_full(Scorer scorer) {
  AISLE_CHECK(static_cast<bool>(scorer), "candidates_from_full: no scorer given");
  return [scorer = std::move(scorer)](const Tensor& users, const Tensor& items) {
    return ops::gather(scorer(users), 1, items);
  };
}

EvalResult evaluate_sampled_ranking(const CandidateScorer& scorer, const data::UserItemIndex& train,
                                    const data::UserItemIndex& test, const SampledRankingOptions& options) {
  AISLE_CHECK(static_cast<bool>(scorer), kProtocol, ": no scorer given");
  detail::check_same_space(kProtocol, train, test);
  detail::check_batch_size(kProtocol, options.batch_size);
  const std::vector<int64_t> ks = detail::checked_ks(kProtocol, options.ks);
  const int64_t negatives = options.num_negatives, width = negatives + 1;
  AISLE_CHECK(negatives >= 1, kProtocol, ": num_negatives must be at least 1, got ", negatives);
  const detail::NegativeSampler sampler(train, test, options.sampling, options.seed);

  // Cases in user order, each a user and the index of one of their test items.
  std::vector<std::pair<int64_t, int64_t>> cases;
  for (int64_t u = 0; u < test.num_users(); ++u)
    for (int64_t j = 0; j < test.degree(u); ++j) cases.emplace_back(u, j);
  const int64_t total = static_cast<int64_t>(cases.size());
  AISLE_CHECK(total > 0, kProtocol, ": the test index holds no interactions, so there is no user to evaluate");

  detail::MetricSums sums(metric_names(ks));
  UserCases current(ks, negatives);
  std::vector<int64_t> users, items;
  for (int64_t c0 = 0; c0 < total; c0 += options.batch_size) {
    const int64_t rows = std::min(options.batch_size, total - c0);
    users.resize(static_cast<size_t>(rows));
    items.resize(static_cast<size_t>(rows * width));
    for (int64_t b = 0; b < rows; ++b) {
      const auto [user, j] = cases[static_cast<size_t>(c0 + b)];
      users[static_cast<size_t>(b)] = user;
      int64_t* row = items.data() + b * width;
      row[0] = test.begin(user)[j];  // the test item is candidate 0, the one rank_items locates
      sampler.sample(user, j, negatives, row + 1);
    }
    const Tensor scores = scorer(Tensor::from_vector(users, options.device),
                                 Tensor::from_vector(items, {rows, width}, options.device));
    detail::check_scores(kProtocol, scores, {rows, width}, options.device);
    // Small ([B, N + 1]), so NaN is checked on the host like full ranking does.
    const std::vector<double> host_scores = scores.to_doubles();
    for (size_t i = 0; i < host_scores.size(); ++i)
      AISLE_CHECK(!std::isnan(host_scores[i]), kProtocol, ": the scorer returned NaN scores for user ",
                  users[i / static_cast<size_t>(width)]);
    const std::vector<int64_t> ranks =
        ops::rank_items(scores, Tensor::arange(rows + 1, DType::i64, options.device),
                        Tensor::zeros({rows}, DType::i64, options.device))
            .to_vector<int64_t>();
    for (int64_t b = 0; b < rows; ++b)
      current.add(users[static_cast<size_t>(b)], ranks[static_cast<size_t>(b)], sums);
  }
  current.flush(sums);

  EvalResult result;
  result.metrics = sums.means();
  result.users = static_cast<int64_t>(detail::users_with_items(test).size());
  result.cases = total;
  return result;
}

}  // namespace aisle::eval
