#pragma once
// Internal: implicit ALS hyperparameters, read once from the recipe.
#include <cstdint>
#include <string>

#include "aisle/recipe/recipe.hpp"

namespace aisle::models::als {

// How a summed row value r (a count, a quantity, a rating) becomes a confidence c >= 1.
struct Confidence {
  enum class Kind { linear, log };
  Kind kind = Kind::linear;
  double alpha = 1.0;
  double epsilon = 1.0;  // log only

  // c - 1: linear alpha*r, log alpha*log(1 + r/epsilon). r >= 0 keeps c >= 1.
  double extra(double r) const;
  const char* name() const { return kind == Kind::linear ? "linear" : "log"; }
};

enum class Solver { cg, exact };

struct Config {
  int64_t factors = 64;
  double reg = 0.1;
  double init_std = 0.01;
  Confidence confidence;
  Solver solver = Solver::cg;
  int64_t cg_steps = 3;
  std::string solver_where = "default";  // the recipe line of model.solver, for device errors

  static Config from_recipe(const recipe::Recipe& recipe);
  std::string to_json() const;
};

}  // namespace aisle::models::als
