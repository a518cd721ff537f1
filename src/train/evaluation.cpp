#include "aisle/train/evaluation.hpp"

#include <algorithm>

#include "aisle/core/error.hpp"
#include "aisle/eval/full_ranking.hpp"
#include "aisle/eval/rating.hpp"
#include "aisle/eval/sampled_ranking.hpp"

namespace aisle::train {

EvalSettings eval_settings(const recipe::Recipe& r, const Model& model, const data::Interactions& train) {
  EvalSettings s;
  const std::string protocol = r.string("eval.protocol");
  const bool ratings_model = model.feedback() == Feedback::ratings;
  if (protocol == "auto") s.protocol = ratings_model ? Protocol::ratings : Protocol::full_ranking;
  else if (protocol == "ratings") s.protocol = Protocol::ratings;
  else if (protocol == "sampled_ranking") s.protocol = Protocol::sampled_ranking;
  else s.protocol = Protocol::full_ranking;
  AISLE_CHECK(s.protocol != Protocol::ratings || ratings_model, r.where("eval.protocol"),
              ": eval.protocol 'ratings' needs a model that predicts values; model.type '", model.type(),
              "' ranks items (use full_ranking or sampled_ranking)");
  s.ks = r.integers("eval.k");
  s.batch_size = r.integer("eval.batch_size");
  s.negatives = r.integer("eval.negatives");
  s.seed = static_cast<uint64_t>(r.integer("seed"));
  s.shown = r.strings("eval.metrics");
  s.cold_items = r.boolean("eval.cold_items");
  AISLE_CHECK(!s.cold_items || s.protocol != Protocol::ratings, r.where("eval.cold_items"),
              ": eval.cold_items needs a ranking protocol, not ratings");
  if (s.shown.empty()) {
    if (s.protocol == Protocol::ratings) s.shown = {"RMSE", "MAE"};
    else {
      const int64_t k = *std::max_element(s.ks.begin(), s.ks.end());
      std::string at = "@";
      at += std::to_string(k);  // (not "@" + ...: GCC 12 warns falsely about that form)
      s.shown = s.protocol == Protocol::full_ranking ? std::vector<std::string>{"Recall" + at, "NDCG" + at}
                                                     : std::vector<std::string>{"HitRate" + at, "NDCG" + at};
    }
  }
  if (s.protocol == Protocol::ratings && train.size() > 0) {
    const float* v = train.values.data<float>();  // importers' values are CPU f32
    const auto [lo, hi] = std::minmax_element(v, v + train.size());
    s.clip_min = *lo;
    s.clip_max = *hi;
  }
  return s;
}

data::Interactions cold_item_rows(const data::UserItemIndex& train, const data::Interactions& target) {
  std::vector<uint8_t> known = data::items_with_rows(train);
  known.resize(static_cast<size_t>(std::max(train.num_items(), target.num_items)), 0);
  const int64_t* items = target.items.data<int64_t>();
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < target.size(); ++r)
    if (!known[static_cast<size_t>(items[r])]) rows.push_back(r);
  return target.select(Tensor::from_vector(rows));
}

namespace {

eval::EvalResult evaluate_rows(const Model& model, const EvalSettings& s, const data::UserItemIndex& train,
                               const data::Interactions& target) {
  if (s.protocol == Protocol::ratings) {
    eval::RatingOptions o;
    o.device = model.device();
    o.clip_min = s.clip_min;
    o.clip_max = s.clip_max;
    return eval::evaluate_ratings([&](const Tensor& u, const Tensor& i) { return model.predict(u, i); }, target, o);
  }
  const data::UserItemIndex test(target);
  const eval::Scorer scorer = [&](const Tensor& users) { return model.score_users(users); };
  if (s.protocol == Protocol::full_ranking) {
    eval::FullRankingOptions o;
    o.ks = s.ks;
    o.batch_size = s.batch_size;
    o.device = model.device();
    return eval::evaluate_full_ranking(scorer, train, test, o);
  }
  eval::SampledRankingOptions o;
  o.ks = s.ks;
  o.num_negatives = s.negatives;
  o.seed = s.seed;
  o.device = model.device();
  return eval::evaluate_sampled_ranking(eval::candidates_from_full(scorer), train, test, o);
}

}  // namespace

eval::EvalResult evaluate_model(const Model& model, const EvalSettings& s, const data::UserItemIndex& train,
                                const data::Interactions& target) {
  eval::EvalResult result = evaluate_rows(model, s, train, target);
  if (!s.cold_items) return result;
  const data::Interactions cold = cold_item_rows(train, target);
  if (cold.size() == 0) return result;
  const eval::EvalResult c = evaluate_rows(model, s, train, cold);
  for (const auto& [name, value] : c.metrics) result.metrics.emplace("cold_" + name, value);
  result.metrics.emplace("cold_users", static_cast<double>(c.users));
  return result;
}

bool higher_is_better(const std::string& metric) { return metric != "RMSE" && metric != "MAE"; }

}  // namespace aisle::train
