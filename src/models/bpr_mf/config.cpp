#include "src/models/bpr_mf/config.hpp"

#include <nlohmann/json.hpp>

#include "src/models/pair_sampling_key.hpp"

#include "aisle/models/bpr_mf.hpp"

namespace aisle::models {

void add_bpr_mf_keys(recipe::Schema& s) {
  using recipe::Kind;
  auto key = [&s](const char* path, Kind kind) -> recipe::Key& {
    return s.add_variant("model.type", "bpr", path, kind);
  };
  key("model.factors", Kind::integer).with_default("64").at_least(1).help("latent dimensions of user and item vectors");
  key("model.init_std", Kind::number).with_default("0.1").at_least(0)
      .help("standard deviation of the normal initialisation (LightGCN's MF uses 0.1)");
  key("model.table_dtype", Kind::string).with_default("f32").one_of({"f32", "bf16", "f16"})
      .help("storage of user_factors and item_factors: bf16/f16 halve their memory (rows are widened to f32 for "
            "every sum and update, optimizer state stays f32; adam or rowwise_adagrad; one process); exported "
            "weights are f32");
  key("model.item_bias", Kind::boolean).with_default("false").help("add a learned per-item bias to every score");
  key("model.reg", Kind::number).with_default("0.01").at_least(0)
      .help("L2 on the rows a batch uses: reg/2 (|p_u|^2 + |q_i|^2 + mean_j |q_j|^2) / batch (the LightGCN/NGCF "
            "convention; their dense Adam used 1e-4, the lazy updates here need ~1e-2 on Gowalla)");
  key("train.batch_size", Kind::integer).with_default("2048").at_least(1).help("positive (user, item) rows per step");
  key("train.lr", Kind::number).with_default("1e-3").at_least(0).help("learning rate");
  key("train.optimizer", Kind::string).with_default("adam").one_of({"adam", "sgd", "adagrad", "rowwise_adagrad"})
      .help("adam: lazy Adam on the rows a batch touches (SparseAdam); sgd: plain row SGD; adagrad: per-element; "
            "rowwise_adagrad: one accumulator per row (FBGEMM/TorchRec), state 4 bytes a row");
  key("train.stochastic_rounding", Kind::boolean).with_default("true")
      .help("with model.table_dtype bf16/f16: round each updated row stochastically (keeps updates smaller than "
            "half a 16-bit step alive on average) instead of to nearest even");
  key("train.negatives", Kind::integer).with_default("1").at_least(1).help("sampled negative items per positive");
  pair_sampling_key(key("train.pair_sampling", Kind::string));
  key("train.negative_sampling", Kind::string).with_default("uniform").one_of({"uniform", "popularity"})
      .help("uniform over the user's non-positive items, or proportional to count^train.popularity_alpha");
  key("train.popularity_alpha", Kind::number).with_default("0.75").at_least(0)
      .help("exponent of the item counts for negative_sampling: popularity");
}

namespace bpr {

Config Config::from_recipe(const recipe::Recipe& r) {
  Config c;
  c.factors = r.integer("model.factors");
  c.table_dtype = r.string("model.table_dtype");
  c.stochastic_rounding = r.boolean("train.stochastic_rounding");
  c.init_std = r.number("model.init_std");
  c.item_bias = r.boolean("model.item_bias");
  c.reg = r.number("model.reg");
  c.batch_size = r.integer("train.batch_size");
  c.lr = r.number("train.lr");
  c.optimizer = r.string("train.optimizer");
  c.negatives = r.integer("train.negatives");
  c.pair_sampling = data::parse_pair_sampling(r.string("train.pair_sampling"));
  c.negative_sampling = r.string("train.negative_sampling");
  c.popularity_alpha = r.number("train.popularity_alpha");
  c.embeddings = r.string("dist.embeddings");
  c.memory_per_rank_gib = r.number("dist.memory_per_rank_gib");
  AISLE_CHECK(c.lr > 0, r.where("train.lr"), ": train.lr must be positive, got ", c.lr);
  AISLE_CHECK(!c.half_tables() || c.optimizer == "adam" || c.optimizer == "rowwise_adagrad", r.where("model.table_dtype"),
              ": model.table_dtype ", c.table_dtype, " needs train.optimizer adam or rowwise_adagrad (their updates ",
              "are fused with the 16-bit rounding), got ", c.optimizer);
  return c;
}

DType Config::table_storage() const { return parse_dtype(table_dtype); }

std::string Config::to_json() const {
  const nlohmann::ordered_json j = {
      {"factors", factors},       {"table_dtype", table_dtype}, {"stochastic_rounding", stochastic_rounding},
      {"init_std", init_std},     {"item_bias", item_bias},
      {"reg", reg},               {"batch_size", batch_size}, {"lr", lr},
      {"optimizer", optimizer},   {"negatives", negatives}, {"negative_sampling", negative_sampling},
      {"pair_sampling", data::pair_sampling_name(pair_sampling)},
      {"popularity_alpha", popularity_alpha}};
  return j.dump();
}

}  // namespace bpr
}  // namespace aisle::models
