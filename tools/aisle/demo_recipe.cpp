#include "demo_recipe.hpp"

#include "aisle/core/error.hpp"
#include "aisle/recipe/recipe.hpp"

namespace aisle::demo {

namespace {

recipe::Schema demo_schema() {
  using recipe::Kind;
  recipe::Schema s;
  s.add("name", Kind::string).with_default("demo");
  s.add("seed", Kind::integer).with_default("42").at_least(0);
  s.add("device", Kind::string).with_default("auto").help("auto | cpu | cuda | cuda:N");
  s.add("data.users", Kind::integer).with_default("3000").at_least(1);
  s.add("data.items", Kind::integer).with_default("1500").at_least(1);
  s.add("data.segments", Kind::integer).with_default("12").at_least(1);
  s.add("data.interactions_per_user", Kind::integers).with_default("[15, 50]").at_least(2);
  s.add("data.taste_strength", Kind::number).with_default("0.8").at_least(0).at_most(1);
  s.add("model.dim", Kind::integer).with_default("32").at_least(1);
  s.add("model.init_std", Kind::number).with_default("0.1").at_least(0);
  s.add("train.epochs", Kind::integer).with_default("12").at_least(1);
  s.add("train.batch_size", Kind::integer).with_default("1024").at_least(1);
  s.add("train.lr", Kind::number).with_default("0.01").at_least(0);
  s.add("eval.k", Kind::integer).with_default("10").at_least(1);
  return s;
}

}  // namespace

DemoRecipe load_demo_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  const auto r = recipe::Recipe::load_file(path, overrides, demo_schema());
  DemoRecipe d;
  d.name = r.string("name");
  d.seed = static_cast<uint64_t>(r.integer("seed"));
  d.device = r.string("device");
  d.users = r.integer("data.users");
  d.items = r.integer("data.items");
  d.segments = r.integer("data.segments");
  const auto range = r.integers("data.interactions_per_user");
  AISLE_CHECK(range.size() == 2, r.where("data.interactions_per_user"),
              ": 'data.interactions_per_user' must be [min, max]");
  d.min_per_user = range[0];
  d.max_per_user = range[1];
  d.taste_strength = r.number("data.taste_strength");
  d.dim = r.integer("model.dim");
  d.init_std = r.number("model.init_std");
  d.epochs = r.integer("train.epochs");
  d.batch_size = r.integer("train.batch_size");
  d.lr = r.number("train.lr");
  d.k = r.integer("eval.k");

  AISLE_CHECK(d.init_std > 0 && d.lr > 0, path, ": model.init_std and train.lr must be positive");
  AISLE_CHECK(d.segments <= d.items, r.where("data.segments"), ": data.segments must be in [1, data.items]");
  AISLE_CHECK(d.min_per_user <= d.max_per_user && d.max_per_user * d.segments <= d.items / 2,
              r.where("data.interactions_per_user"), ": data.interactions_per_user [", d.min_per_user, ", ",
              d.max_per_user, "] must satisfy 2 <= min <= max and max <= items / (2 * segments)");
  AISLE_CHECK(d.k < d.items, r.where("eval.k"), ": eval.k must be in [1, data.items)");
  return d;
}

}  // namespace aisle::demo
