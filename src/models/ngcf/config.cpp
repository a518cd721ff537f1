#include "src/models/ngcf/config.hpp"

#include <nlohmann/json.hpp>

#include "src/models/pair_sampling_key.hpp"

#include "aisle/models/ngcf.hpp"

namespace aisle::models {

void add_ngcf_keys(recipe::Schema& s) {
  using recipe::Kind;
  auto key = [&s](const char* path, Kind kind) -> recipe::Key& {
    return s.add_variant("model.type", "ngcf", path, kind);
  };
  key("model.factors", Kind::integer).with_default("64").at_least(1)
      .help("size of the ego embeddings of users and items");
  key("model.layer_sizes", Kind::integers).with_default("[64, 64, 64]").at_least(1)
      .help("output size of each propagation layer (its W1, W2: [previous size, this size]); [] is plain MF");
  key("model.reg", Kind::number).with_default("1e-5").at_least(0)
      .help("L2 on the batch's ego rows: reg/2 (|e_u|^2 + |e_i|^2 + mean_j |e_j|^2) / batch (the reference "
            "code's decay, 1e-5)");
  key("model.message_dropout", Kind::number).with_default("0.1").at_least(0)
      .help("dropout rate on each layer's output during training (below 1; masks keyed by seed, epoch, step)");
  key("model.node_dropout", Kind::number).with_default("0").at_least(0)
      .help("rate of graph edges (entries of the normalised adjacency) dropped at each training step, the kept "
            "ones scaled by 1/(1-rate), one draw per step for all layers: the reference code's node dropout "
            "(off there by default, 0.1 when on); below 1; masks keyed by seed, epoch, step");
  key("train.batch_size", Kind::integer).with_default("1024").at_least(1).help("positive (user, item) rows per step");
  key("train.lr", Kind::number).with_default("1e-4").at_least(0).help("learning rate of Adam (the paper's 1e-4)");
  key("train.optimizer", Kind::string).with_default("adam").one_of({"adam"})
      .help("dense Adam on the ego embeddings and the layers' weights");
  key("train.negatives", Kind::integer).with_default("1").at_least(1)
      .help("uniform negative items per positive (non-positives of the user)");
  pair_sampling_key(key("train.pair_sampling", Kind::string));
}

namespace ngcf {

int64_t Config::final_width() const {
  int64_t width = factors;
  for (const int64_t d : layer_sizes) width += d;
  return width;
}

Config Config::from_recipe(const recipe::Recipe& r) {
  Config c;
  c.factors = r.integer("model.factors");
  c.layer_sizes = r.integers("model.layer_sizes");
  c.reg = r.number("model.reg");
  c.message_dropout = r.number("model.message_dropout");
  c.node_dropout = r.number("model.node_dropout");
  c.batch_size = r.integer("train.batch_size");
  c.lr = r.number("train.lr");
  c.negatives = r.integer("train.negatives");
  c.pair_sampling = data::parse_pair_sampling(r.string("train.pair_sampling"));
  AISLE_CHECK(c.lr > 0, r.where("train.lr"), ": train.lr must be positive, got ", c.lr);
  AISLE_CHECK(c.message_dropout < 1, r.where("model.message_dropout"),
              ": model.message_dropout must be below 1, got ", c.message_dropout);
  AISLE_CHECK(c.node_dropout < 1, r.where("model.node_dropout"), ": model.node_dropout must be below 1, got ",
              c.node_dropout);
  return c;
}

std::string Config::to_json() const {
  const nlohmann::ordered_json j = {{"factors", factors},
                                    {"layer_sizes", layer_sizes},
                                    {"reg", reg},
                                    {"message_dropout", message_dropout},
                                    {"node_dropout", node_dropout},
                                    {"batch_size", batch_size},
                                    {"lr", lr},
                                    {"optimizer", "adam"},
                                    {"negatives", negatives}, {"pair_sampling", data::pair_sampling_name(pair_sampling)}};
  return j.dump();
}

}  // namespace ngcf
}  // namespace aisle::models
