#include "src/models/graphsage/config.hpp"

#include <nlohmann/json.hpp>

#include "src/models/pair_sampling_key.hpp"

#include "aisle/models/graphsage.hpp"

namespace aisle::models {

void add_graphsage_keys(recipe::Schema& s) {
  using recipe::Kind;
  auto key = [&s](const char* path, Kind kind) -> recipe::Key& {
    return s.add_variant("model.type", "graphsage", path, kind);
  };
  key("model.factors", Kind::integer).with_default("64").at_least(1).help("width of the learned input rows");
  key("model.layer_sizes", Kind::integers).with_default("[64, 64]").at_least(1)
      .help("output width of each SAGE layer, first layer first; the last is the embedding width");
  key("model.fanouts", Kind::integers).with_default("[10, 10]").at_least(-1)
      .help("neighbours sampled per hop in training, the seeds' own neighbours first (PyG's order); -1 keeps all; "
            "one entry per layer");
  key("model.aggregator", Kind::string).with_default("mean").one_of({"mean", "pool"})
      .help("mean of the neighbours, or max-pool of a ReLU layer over them (Hamilton et al.)");
  key("model.normalize", Kind::boolean).with_default("true").help("L2-normalise the hidden layers' outputs");
  key("model.item_features", Kind::strings).with_default("[]")
      .help("item features that become attribute nodes (categorical values, numeric quantile buckets, tokens); "
            "[] uses every item feature of the dataset");
  key("model.numeric_buckets", Kind::integer).with_default("8").at_least(1)
      .help("quantile buckets of each numeric item feature");
  key("model.item_ids", Kind::boolean).with_default("false")
      .help("give every item its own input row too (better on known items, but new items lack it)");
  key("model.reg", Kind::number).with_default("1e-4").at_least(0)
      .help("L2 on the batch's input rows: reg/2 (|x_u|^2 + |x_i|^2 + mean_j |x_j|^2) / batch");
  key("model.init_std", Kind::number).with_default("0.1").at_least(0).help("standard deviation of the input rows");
  key("train.batch_size", Kind::integer).with_default("1024").at_least(1).help("positive (user, item) rows per step");
  key("train.lr", Kind::number).with_default("1e-3").at_least(0).help("learning rate of Adam");
  key("train.optimizer", Kind::string).with_default("adam").one_of({"adam"})
      .help("lazy (sparse) Adam: input rows move only when sampled; the layers every step");
  key("train.negatives", Kind::integer).with_default("1").at_least(1)
      .help("uniform negative items per positive (non-positives of the user)");
  pair_sampling_key(key("train.pair_sampling", Kind::string));
  key("model.export_user_states", Kind::boolean).with_default("true")
      .help("export every layer's input at the users too (one more user table per layer), so that "
            "`aisle add-items --interactions` can embed new products from their first buyers as well");
  key("model.cold_item_rate", Kind::number).with_default("0").at_least(0).at_most(1)
      .help("share of each step's items trained as if they were new: their user neighbours are hidden, so the "
            "model learns to embed items from their attributes alone, as it must for products added after "
            "export (0: off)");
  key("model.negative_pool", Kind::string).with_default("known").one_of({"known", "all"})
      .help("items negatives are drawn from: known (those with training rows; new items are then neither "
            "positives nor negatives and rank by their attributes) or all (new items are pushed down as "
            "negatives at every step)");
}

namespace graphsage {

const char* aggregator_name(Aggregator a) { return a == Aggregator::mean ? "mean" : "pool"; }

Config Config::from_recipe(const recipe::Recipe& r) {
  Config c;
  c.factors = r.integer("model.factors");
  c.layer_sizes = r.integers("model.layer_sizes");
  c.fanouts = r.integers("model.fanouts");
  c.aggregator = r.string("model.aggregator") == "mean" ? Aggregator::mean : Aggregator::pool;
  c.normalize = r.boolean("model.normalize");
  c.graph.features = r.strings("model.item_features");
  c.graph.numeric_buckets = r.integer("model.numeric_buckets");
  c.graph.item_ids = r.boolean("model.item_ids");
  c.reg = r.number("model.reg");
  c.init_std = r.number("model.init_std");
  c.batch_size = r.integer("train.batch_size");
  c.lr = r.number("train.lr");
  c.negatives = r.integer("train.negatives");
  c.pair_sampling = data::parse_pair_sampling(r.string("train.pair_sampling"));
  c.known_negatives = r.string("model.negative_pool") == "known";
  c.cold_item_rate = r.number("model.cold_item_rate");
  c.export_user_states = r.boolean("model.export_user_states");
  AISLE_CHECK(!c.layer_sizes.empty(), r.where("model.layer_sizes"), ": model.layer_sizes needs at least one layer");
  AISLE_CHECK(c.fanouts.size() == c.layer_sizes.size(), r.where("model.fanouts"), ": model.fanouts has ",
              c.fanouts.size(), " entries but model.layer_sizes has ", c.layer_sizes.size(),
              " layers (one fan-out per layer)");
  for (const int64_t f : c.fanouts)
    AISLE_CHECK(f <= 65536, r.where("model.fanouts"), ": fan-out ", f, " is above 65536");
  AISLE_CHECK(c.lr > 0, r.where("train.lr"), ": train.lr must be positive, got ", c.lr);
  return c;
}

std::string Config::to_json() const {
  const nlohmann::ordered_json j = {{"factors", factors},
                                    {"layer_sizes", layer_sizes},
                                    {"fanouts", fanouts},
                                    {"aggregator", aggregator_name(aggregator)},
                                    {"normalize", normalize},
                                    {"item_features", graph.features},
                                    {"numeric_buckets", graph.numeric_buckets},
                                    {"item_ids", graph.item_ids},
                                    {"reg", reg},
                                    {"init_std", init_std},
                                    {"batch_size", batch_size},
                                    {"lr", lr},
                                    {"optimizer", "adam"},
                                    {"negatives", negatives}, {"pair_sampling", data::pair_sampling_name(pair_sampling)},
                                    {"negative_pool", known_negatives ? "known" : "all"},
                                    {"cold_item_rate", cold_item_rate},
                                    {"export_user_states", export_user_states}};
  return j.dump();
}

}  // namespace graphsage
}  // namespace aisle::models
