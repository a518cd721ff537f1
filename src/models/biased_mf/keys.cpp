// The recipe keys of model.type: mf, and how they are read.
#include <cmath>

#include "aisle/core/error.hpp"
#include "aisle/models/biased_mf.hpp"
#include "src/models/biased_mf/biased_mf_model.hpp"

namespace aisle::models {

using recipe::Kind;

void add_biased_mf_keys(recipe::Schema& s) {
  auto key = [&s](const char* path, Kind kind) -> recipe::Key& { return s.add_variant("model.type", "mf", path, kind); };
  key("model.factors", Kind::integer).with_default("128").at_least(1)
      .help("latent factors per user and item");
  key("model.init_std", Kind::number).with_default("0.05").at_least(0)
      .help("factors start as N(0, init_std^2); biases start at 0");
  key("model.reg", Kind::number).with_default("0.1").at_least(0)
      .help("L2 on the user and item factor rows, per rating (Surprise's reg_pu = reg_qi)");
  key("model.reg_bias", Kind::number).with_default("0.01").at_least(0)
      .help("L2 on the user and item biases, per rating (Surprise's reg_bu = reg_bi)");
  key("model.use_biases", Kind::boolean).with_default("true")
      .help("learn per-user and per-item biases; false: global mean + p_u.q_i");
  key("train.optimizer", Kind::string).with_default("sgd").one_of({"sgd", "adam"})
      .help("sgd: plain SGD (per rating on the CPU, see train.sgd_mode); adam: minibatch lazy Adam");
  key("train.sgd_mode", Kind::string).with_default("auto").one_of({"auto", "per_rating", "hogwild", "minibatch"})
      .help("sgd only. per_rating: classic sequential SGD, one update per rating (CPU); hogwild: the "
            "same per-rating update with a step's rows run concurrently without locks (CUDA); "
            "minibatch: summed gradients of train.batch_size rows per update (any device); "
            "auto: per_rating on the CPU, hogwild on CUDA");
  key("train.lr", Kind::number).at_least(0)
      .help("learning rate of epoch 0; default 0.02 for sgd, 0.005 for adam");
  key("train.lr_decay", Kind::number).with_default("0.97").at_least(0).at_most(1)
      .help("the learning rate of epoch e is lr * lr_decay^e");
  key("train.batch_size", Kind::integer).with_default("1024").at_least(1)
      .help("rows per step (per_rating sgd: rows between progress reports; hogwild: rows in flight "
            "at once, one kernel launch; otherwise rows per update)");
}

std::unique_ptr<train::Model> create_biased_mf() { return std::make_unique<biased_mf::BiasedMf>(); }

namespace biased_mf {

Config Config::from_recipe(const recipe::Recipe& r) {
  Config c;
  c.factors = r.integer("model.factors");
  c.init_std = r.number("model.init_std");
  c.reg = r.number("model.reg");
  c.reg_bias = r.number("model.reg_bias");
  c.use_biases = r.boolean("model.use_biases");
  c.optimizer = r.string("train.optimizer");
  c.sgd_mode = r.string("train.sgd_mode");
  c.sgd_mode_where = r.where("train.sgd_mode");
  c.lr = r.has("train.lr") ? r.number("train.lr") : (c.optimizer == "adam" ? 0.005 : 0.02);
  c.lr_decay = r.number("train.lr_decay");
  c.batch_size = r.integer("train.batch_size");
  AISLE_CHECK(c.lr > 0 && std::isfinite(c.lr), r.where("train.lr"), ": train.lr must be positive, got ", c.lr);
  AISLE_CHECK(c.lr_decay > 0, r.where("train.lr_decay"),
              ": train.lr_decay must be positive (1 keeps the rate constant), got ", c.lr_decay);
  AISLE_CHECK(c.optimizer == "sgd" || c.sgd_mode == "auto", r.where("train.sgd_mode"),
              ": train.sgd_mode applies to train.optimizer sgd only, but the optimizer is '", c.optimizer, "'");
  return c;
}

Updates Config::updates_on(Device device) const {
  if (optimizer == "adam" || sgd_mode == "minibatch") return Updates::minibatch;
  if (sgd_mode == "auto") return device.is_cpu() ? Updates::per_rating : Updates::hogwild;
  if (sgd_mode == "hogwild") {
    AISLE_CHECK(device.is_cuda(), sgd_mode_where, ": train.sgd_mode: hogwild SGD runs on CUDA only (device ",
                device.str(), "); use per_rating or auto there");
    return Updates::hogwild;
  }
  AISLE_CHECK(device.is_cpu(), sgd_mode_where, ": train.sgd_mode: per_rating SGD runs on the CPU only (device ", device.str(),
              "); use hogwild, minibatch or auto there");
  return Updates::per_rating;
}

}  // namespace biased_mf
}  // namespace aisle::models
