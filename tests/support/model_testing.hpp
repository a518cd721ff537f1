#pragma once
// Shared by the model tests: a recipe for one model without a data section to read, and the
// trainer's epoch loop in its simplest form.
#include <cstdint>
#include <string>
#include <vector>

#include "aisle/recipe/recipe.hpp"
#include "aisle/train/model.hpp"
#include "aisle/train/recipe_schema.hpp"

namespace aisle::testing {

// `model_yaml` is the model section as a flow mapping, e.g. "{type: item_knn, neighbors: 3}".
inline recipe::Recipe model_recipe(const std::string& model_yaml, const std::vector<std::string>& overrides = {}) {
  return recipe::Recipe::load_text("data: {path: unused}\nmodel: " + model_yaml + "\n", "test.yaml", overrides,
                                   train::training_schema());
}

// Runs epochs [from, to) from their first step; returns each epoch's example-weighted mean loss.
inline std::vector<double> epoch_losses(train::Model& m, int64_t from, int64_t to) {
  std::vector<double> losses;
  for (int64_t e = from; e < to; ++e) {
    double sum = 0;
    int64_t n = 0;
    m.train_steps(e, 0, [&](const train::StepReport& s) {
      sum += s.loss * static_cast<double>(s.examples);
      n += s.examples;
      return true;
    });
    losses.push_back(sum / static_cast<double>(n));
  }
  return losses;
}

}  // namespace aisle::testing
