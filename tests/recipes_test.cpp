// Every shipped recipe loads against the training schema (with the data paths a user passes by
// --set), names a model the catalogue has, and configures that model: a renamed key or a value out
// of range in recipes/ fails here, not in a user's first run.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "aisle/train/model_registry.hpp"
#include "aisle/train/recipe_schema.hpp"

namespace aisle::train {
namespace {

namespace fs = std::filesystem;

TEST(ShippedRecipes, LoadAndConfigureTheirModels) {
  std::vector<fs::path> recipes;
  for (const auto& entry : fs::directory_iterator(AISLE_RECIPES_DIR))
    if (entry.path().extension() == ".yaml") recipes.push_back(entry.path());
  ASSERT_GE(recipes.size(), 5u);
  for (const fs::path& path : recipes) {
    SCOPED_TRACE(path.string());
    // Recipes that import files leave the paths to the user (a required key).
    std::vector<std::string> overrides;
    try {
      recipe::Recipe::load_file(path.string(), {}, training_schema());
    } catch (const Error& e) {
      const std::string what = e.what();
      ASSERT_NE(what.find("data.input"), std::string::npos) << what;  // the only key a recipe may leave out
      overrides.push_back("data.input=/path/from/the/user");
    }
    const auto r = recipe::Recipe::load_file(path.string(), overrides, training_schema());
    auto model = create_model(r.string("model.type"));
    EXPECT_NO_THROW(model->configure(r));
    EXPECT_FALSE(r.string("name").empty());
  }
}

TEST(ShippedRecipes, QuickstartNeedsNoFilesAndExports) {
  const auto r = recipe::Recipe::load_file(std::string(AISLE_RECIPES_DIR) + "/quickstart.yaml", {}, training_schema());
  EXPECT_EQ(r.string("data.source"), "synth");
  EXPECT_EQ(r.string("model.type"), "bpr");
  EXPECT_EQ(r.string("device"), "cpu");
  EXPECT_FALSE(r.string("export.dir").empty());
}

}  // namespace
}  // namespace aisle::train
