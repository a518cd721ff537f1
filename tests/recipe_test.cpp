// Recipes: typed keys with defaults, variant keys chosen by a discriminator, and errors that name
// the place, the key and the problem.
#include "aisle/recipe/recipe.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.hpp"
#include "support/testing.hpp"

namespace aisle::recipe {
namespace {

Schema small_schema() {
  Schema s;
  s.add("name", Kind::string).with_default("run");
  s.add("seed", Kind::integer).with_default("42").at_least(0);
  s.add("data.path", Kind::string).is_required().help("dataset directory");
  s.add("data.map", Kind::string_map);
  s.add("model.type", Kind::string).is_required().one_of({"mf", "bpr", "lightgcn"});
  s.add_variant("model.type", "mf", "model.dim", Kind::integer).with_default("32").at_least(1);
  s.add_variant("model.type", "bpr", "model.dim", Kind::integer).with_default("64").at_least(1);
  s.add_variant("model.type", "lightgcn", "model.dim", Kind::integer).with_default("64").at_least(1);
  s.add_variant("model.type", "lightgcn", "model.layers", Kind::integer).with_default("3").at_least(1);
  s.add("train.lr", Kind::number).with_default("0.01").at_least(0);
  s.add("train.amp", Kind::boolean).with_default("false");
  s.add("eval.k", Kind::integers).with_default("[20]").at_least(1);
  s.add("eval.metrics", Kind::strings).with_default("[recall, ndcg]").one_of({"recall", "ndcg", "mrr"});
  return s;
}

Recipe load(const std::string& text, std::vector<std::string> overrides = {}) {
  return Recipe::load_text(text, "r.yaml", overrides, small_schema());
}

std::string error_of(const std::string& text, std::vector<std::string> overrides = {}) {
  return testing::error_message([&] { load(text, overrides); });
}

TEST(Recipe, ReadsValuesAndFillsDefaultsForTheChosenVariant) {
  const Recipe r = load("data:\n  path: /d\nmodel:\n  type: lightgcn\n  layers: 4\ntrain:\n  lr: 1e-3\n");
  EXPECT_EQ(r.string("name"), "run");
  EXPECT_EQ(r.integer("seed"), 42);
  EXPECT_EQ(r.string("data.path"), "/d");
  EXPECT_EQ(r.integer("model.layers"), 4);
  EXPECT_EQ(r.integer("model.dim"), 64);  // lightgcn's default, not mf's
  EXPECT_DOUBLE_EQ(r.number("train.lr"), 1e-3);
  EXPECT_FALSE(r.boolean("train.amp"));
  EXPECT_EQ(r.integers("eval.k"), std::vector<int64_t>{20});
  EXPECT_EQ(r.strings("eval.metrics"), (std::vector<std::string>{"recall", "ndcg"}));
  EXPECT_FALSE(r.has("data.map"));
  EXPECT_EQ(r.where("model.layers"), "r.yaml:5");
  EXPECT_EQ(r.where("model.dim"), "default");
  EXPECT_TRUE(r.explicitly_set("train.lr"));
  EXPECT_FALSE(r.explicitly_set("seed"));
}

TEST(Recipe, ScalarIsAOneElementListAndMapsReadAsStrings) {
  const Recipe r = load("data: {path: /d, map: {user: 0, item: visitorid}}\nmodel: {type: mf}\neval: {k: 10}\n");
  EXPECT_EQ(r.integers("eval.k"), std::vector<int64_t>{10});
  EXPECT_EQ(r.string_map("data.map"), (std::map<std::string, std::string>{{"item", "visitorid"}, {"user", "0"}}));
  EXPECT_EQ(r.integer("model.dim"), 32);
}

TEST(Recipe, OverridesWinAndAreNamedAsTheSource) {
  const Recipe r = load("data: {path: /d}\nmodel: {type: mf}\n", {"train.lr=0.5", "model.type=bpr", "eval.k=[5, 10]"});
  EXPECT_DOUBLE_EQ(r.number("train.lr"), 0.5);
  EXPECT_EQ(r.string("model.type"), "bpr");
  EXPECT_EQ(r.integer("model.dim"), 64);
  EXPECT_EQ(r.integers("eval.k"), (std::vector<int64_t>{5, 10}));
  EXPECT_EQ(r.where("train.lr"), "--set train.lr=0.5");
}

TEST(Recipe, ResolvedYamlLoadsBackToTheSameRecipe) {
  const Recipe r = load("data: {path: /d, map: {user: u}}\nmodel: {type: lightgcn}\ntrain: {lr: 0.001}\n",
                        {"eval.k=[10,20]", "name=\"123\""});
  const Recipe again = load(r.resolved_yaml());
  EXPECT_EQ(again.resolved_yaml(), r.resolved_yaml());
  EXPECT_EQ(again.digest(), r.digest());
  EXPECT_DOUBLE_EQ(again.number("train.lr"), 0.001);
  EXPECT_EQ(again.string("name"), "123");
  EXPECT_EQ(again.integer("model.layers"), 3);
  EXPECT_EQ(r.digest().size(), 64u);
  EXPECT_NE(load("data: {path: /e}\nmodel: {type: lightgcn}\n").digest(), r.digest());
}

TEST(Recipe, DigestCanLeaveOutOneSection) {
  // The trainer resumes across rank counts by comparing digests without the dist section.
  const Recipe a = load("data: {path: /d}\nmodel: {type: lightgcn}\n", {"eval.k=[10,20]"});
  const Recipe b = load("data: {path: /d}\nmodel: {type: lightgcn}\n", {"eval.k=[5]"});
  EXPECT_NE(a.digest(), b.digest());
  EXPECT_EQ(a.digest("eval"), b.digest("eval"));
  EXPECT_NE(a.digest("eval"), a.digest());
  EXPECT_EQ(a.resolved_yaml("eval").find("eval"), std::string::npos);
  EXPECT_NE(a.digest("data"), b.digest("data"));
}

// What lets a newer Aisle resume an older one's run: the keys a saved recipe lacks are found (a map
// value counts as present, its own keys are not looked into), and the digest without them is the
// one the older schema computed.
TEST(Recipe, FindsKeysASavedRecipeLacksAndDigestsWithoutThem) {
  const std::string text = "data: {path: /d, map: {user: u}}\nmodel: {type: lightgcn}\n";
  Schema newer = small_schema();
  newer.add_variant("model.type", "lightgcn", "model.sampling", Kind::string).with_default("rows");
  newer.add("train.later", Kind::integer).with_default("1");
  const Recipe old = load(text);
  const Recipe now = Recipe::load_text(text, "r.yaml", {}, newer);
  EXPECT_EQ(now.paths_missing_from(old.resolved_yaml(), "run/recipe.yaml"),
            (std::vector<std::string>{"train.later", "model.sampling"}));  // schema order: variants last
  EXPECT_TRUE(now.paths_missing_from(now.resolved_yaml(), "run/recipe.yaml").empty());
  EXPECT_NE(now.digest(), old.digest());
  EXPECT_EQ(now.digest("", {"model.sampling", "train.later"}), old.digest());
  EXPECT_NE(now.digest("", {"train.later"}), old.digest());
  EXPECT_EQ(now.value_text("model.sampling"), "rows");
  EXPECT_EQ(now.value_text("eval.k"), "[20]");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { now.paths_missing_from("data: [unclosed", "run/recipe.yaml"); }),
                     "run/recipe.yaml: not a recipe");
}

TEST(Recipe, UnknownKeyNamesLineAndSuggestsTheNearMiss) {
  EXPECT_MESSAGE_HAS(error_of("data: {path: /d}\nmodel: {type: mf}\ntrain:\n  lrr: 0.1\n"),
                     "r.yaml:4: unknown key 'train.lrr' (did you mean 'train.lr'?)");
  EXPECT_MESSAGE_HAS(error_of("data: {path: /d}\nmodel: {type: mf}\ncolour: red\n"), "unknown key 'colour'");
  EXPECT_MESSAGE_HAS(error_of("data: {path: /d}\nmodel: {type: mf}\n", {"train.lrr=1"}),
                     "--set train.lrr=1: unknown key 'train.lrr' (did you mean 'train.lr'?)");
}

TEST(Recipe, KeyOfAnotherVariantSaysWhichChoicesHaveIt) {
  EXPECT_MESSAGE_HAS(error_of("data: {path: /d}\nmodel:\n  type: bpr\n  layers: 3\n"),
                     "r.yaml:4: 'model.layers' does not apply when model.type is 'bpr' (it applies to: lightgcn)");
}

TEST(Recipe, WrongTypesAndRangesNameTheKeyAndValue) {
  const std::string base = "data: {path: /d}\nmodel: {type: mf}\n";
  EXPECT_MESSAGE_HAS(error_of(base + "train: {lr: fast}\n"), "r.yaml:3: 'train.lr' must be a number (got 'fast')");
  EXPECT_MESSAGE_HAS(error_of(base + "seed: 1.5\n"), "'seed' must be an integer (got '1.5')");
  EXPECT_MESSAGE_HAS(error_of(base + "seed: -1\n"), "'seed' must be at least 0");
  EXPECT_MESSAGE_HAS(error_of(base + "train: {lr: .nan}\n"), "'train.lr' must be finite");
  EXPECT_MESSAGE_HAS(error_of(base + "train: {amp: maybe}\n"), "'train.amp' must be a boolean");
  EXPECT_MESSAGE_HAS(error_of(base + "eval: {k: [10, x]}\n"), "'eval.k' must be a list of integers");
  EXPECT_MESSAGE_HAS(error_of(base + "eval: {metrics: [recall, ndgc]}\n"),
                     "'eval.metrics' is 'ndgc', expected one of: recall, ndcg, mrr (did you mean 'ndcg'?)");
  EXPECT_MESSAGE_HAS(error_of(base + "train: 3\n"), "'train' is a section; give it keys");
  EXPECT_MESSAGE_HAS(error_of("data: {path: /d}\nmodel: {type: svd}\n"),
                     "'model.type' is 'svd', expected one of: mf, bpr, lightgcn");
}

TEST(Recipe, MissingRequiredKeysAndBadFilesAreNamed) {
  EXPECT_MESSAGE_HAS(error_of("model: {type: mf}\n"), "r.yaml: missing required key 'data.path' (dataset directory)");
  EXPECT_MESSAGE_HAS(error_of("data: {path: /d}\n"), "missing required key 'model.type'");
  EXPECT_MESSAGE_HAS(error_of("data: [1, 2\n"), "r.yaml:");
  EXPECT_MESSAGE_HAS(error_of("- a\n- b\n"), "a recipe must be a mapping");
  EXPECT_MESSAGE_HAS(error_of("data: {path: /d}\nmodel: {type: mf}\n", {"seed"}), "--set seed: expected KEY=VALUE");
  EXPECT_MESSAGE_HAS(error_of("data: {path: /d}\nmodel: {type: mf}\n", {"seed.x=1"}),
                     "--set seed.x=1: 'seed' must be an integer");
  EXPECT_MESSAGE_HAS(error_of("data: {path: /d}\nmodel: {type: mf}\nseed: 3\n", {"seed.x=1"}),
                     "--set seed.x=1: 'seed' is a value, not a section");
  EXPECT_MESSAGE_HAS(testing::error_message([] { Recipe::load_file("/nonexistent/r.yaml", {}, small_schema()); }),
                     "/nonexistent/r.yaml: cannot open the recipe");
}

TEST(Recipe, LoadsFromAFile) {
  testing::TempDir dir;
  const auto path = dir.path() / "r.yaml";
  std::ofstream(path) << "data:\n  path: /d\nmodel:\n  type: mf\n  dim: 8\n";
  const Recipe r = Recipe::load_file(path.string(), {}, small_schema());
  EXPECT_EQ(r.integer("model.dim"), 8);
  EXPECT_EQ(r.where("model.dim"), path.string() + ":5");
}

TEST(RecipeSchema, DescribeListsEveryKeyWithItsDefault) {
  const std::string table = small_schema().describe();
  EXPECT_NE(table.find("| `train.lr` | a number | `0.01` | ≥ 0 |"), std::string::npos) << table;
  EXPECT_NE(table.find("(model.type: lightgcn)"), std::string::npos);
}

TEST(RecipeSchema, NearMissOnlySuggestsCloseWords) {
  EXPECT_EQ(near_miss("ndgc", {"ndcg", "recall"}), " (did you mean 'ndcg'?)");
  EXPECT_EQ(near_miss("zzzzzz", {"ndcg", "recall"}), "");
}

}  // namespace
}  // namespace aisle::recipe
