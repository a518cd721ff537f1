#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace aisle::demo {

// The demo's settings (recipes/demo-bpr.yaml). Every key is required to be known and well typed:
// a misspelt or mistyped key is an error naming the file, the key path and the line.
struct DemoRecipe {
  std::string name = "demo";
  uint64_t seed = 42;
  std::string device = "auto";
  int64_t users = 3000, items = 1500, segments = 12, min_per_user = 15, max_per_user = 50;
  double taste_strength = 0.8;
  int64_t dim = 32;
  double init_std = 0.1;
  int64_t epochs = 12, batch_size = 1024;
  double lr = 0.01;
  int64_t k = 10;
};

// Reads `path`, applies "a.b=value" overrides, validates; throws aisle::Error on any problem.
DemoRecipe load_demo_recipe(const std::string& path, const std::vector<std::string>& overrides);

int run(const DemoRecipe& recipe);

}  // namespace aisle::demo
