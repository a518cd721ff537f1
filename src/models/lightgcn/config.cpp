#include "src/models/lightgcn/config.hpp"

#include <nlohmann/json.hpp>

#include "src/models/pair_sampling_key.hpp"

#include "aisle/models/lightgcn.hpp"

namespace aisle::models {

void add_lightgcn_keys(recipe::Schema& s) {
  using recipe::Kind;
  auto key = [&s](const char* path, Kind kind) -> recipe::Key& {
    return s.add_variant("model.type", "lightgcn", path, kind);
  };
  key("model.factors", Kind::integer).with_default("64").at_least(1).help("embedding dimensions of users and items");
  key("model.layers", Kind::integer).with_default("3").at_least(0)
      .help("propagation steps K over the normalised graph (0: plain matrix factorisation)");
  key("model.init_std", Kind::number).with_default("0.1").at_least(0)
      .help("standard deviation of the normal initialisation of the ego embeddings (the reference code's 0.1)");
  key("model.reg", Kind::number).with_default("1e-4").at_least(0)
      .help("L2 on the batch's ego rows: reg/2 (|e_u|^2 + |e_i|^2 + mean_j |e_j|^2) / batch (the reference code's "
            "weight decay, 1e-4 in the paper)");
  key("train.batch_size", Kind::integer).with_default("2048").at_least(1).help("positive (user, item) rows per step");
  key("train.lr", Kind::number).with_default("1e-3").at_least(0).help("learning rate of Adam");
  key("train.optimizer", Kind::string).with_default("adam").one_of({"adam"})
      .help("dense Adam on the ego embeddings (the propagation spreads every step's gradient over the graph)");
  key("train.negatives", Kind::integer).with_default("1").at_least(1)
      .help("uniform negative items per positive (non-positives of the user)");
  pair_sampling_key(key("train.pair_sampling", Kind::string));
}

namespace lightgcn {

Config Config::from_recipe(const recipe::Recipe& r) {
  Config c;
  c.factors = r.integer("model.factors");
  c.layers = r.integer("model.layers");
  c.init_std = r.number("model.init_std");
  c.reg = r.number("model.reg");
  c.batch_size = r.integer("train.batch_size");
  c.lr = r.number("train.lr");
  c.negatives = r.integer("train.negatives");
  c.pair_sampling = data::parse_pair_sampling(r.string("train.pair_sampling"));
  AISLE_CHECK(c.lr > 0, r.where("train.lr"), ": train.lr must be positive, got ", c.lr);
  return c;
}

std::string Config::to_json() const {
  const nlohmann::ordered_json j = {{"factors", factors},       {"layers", layers}, {"init_std", init_std},
                                    {"reg", reg},               {"batch_size", batch_size},
                                    {"lr", lr},                 {"optimizer", "adam"},
                                    {"negatives", negatives}, {"pair_sampling", data::pair_sampling_name(pair_sampling)}};
  return j.dump();
}

}  // namespace lightgcn
}  // namespace aisle::models
