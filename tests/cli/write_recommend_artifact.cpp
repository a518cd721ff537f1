// Fixture for the `aisle recommend` CLI tests (tests/CMakeLists.txt, "aisle recommend" block):
// fits the popularity model on a four-user shop with known counts and exports it to OUT_DIR, and
// writes a copy with one flipped weights byte to OUT_DIR-corrupt.
//   ana: sku-a sku-b   bo: sku-b sku-c   cy: sku-b sku-c sku-d   dee: sku-c
// Distinct users per item: a 1, b 3, c 3, d 1, e 0, so the ranking is b, c, a, d, e (ties to the
// lower id) and ana without her items gets c (3), d (1), e (0).
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "aisle/dist/communicator.hpp"
#include "aisle/recipe/recipe.hpp"
#include "aisle/train/export.hpp"
#include "aisle/train/model_registry.hpp"
#include "aisle/train/recipe_schema.hpp"

using namespace aisle;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    data::IdInterner users, items;
    for (const char* u : {"ana", "bo", "cy", "dee"}) users.intern(u);
    for (const char* i : {"sku-a", "sku-b", "sku-c", "sku-d", "sku-e"}) items.intern(i);
    train::TrainingData d;
    d.train = data::Interactions::from_vectors({0, 0, 1, 1, 2, 2, 2, 3}, {0, 1, 1, 2, 1, 2, 3, 2}, 4, 5);
    d.train_index = std::make_shared<data::UserItemIndex>(d.train);
    d.num_users = 4;
    d.num_items = 5;
    const auto recipe = recipe::Recipe::load_text("data: {path: unused}\nmodel: {type: popularity}\n",
                                                  "fixture.yaml", {}, train::training_schema());
    auto comm = dist::make_local_communicator();
    auto model = train::create_model("popularity");
    model->configure(recipe);
    model->setup(d, {.comm = comm.get()});
    model->train_steps(0, 0, [](const train::StepReport&) { return true; });

    const std::filesystem::path out = argv[1], corrupt = std::string(argv[1]) + "-corrupt";
    for (const auto& dir : {out, corrupt})
      train::export_artifact({.model = model.get(), .user_ids = users.to_map(), .item_ids = items.to_map(),
                              .seen = d.train_index.get(), .metrics = {}, .dir = dir, .overwrite = true});
    const std::filesystem::path weights = corrupt / "weights.safetensors";
    std::string bytes;
    {
      std::ifstream in(weights, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    bytes.back() = static_cast<char>(bytes.back() ^ 0x40);
    std::ofstream(weights, std::ios::binary | std::ios::trunc) << bytes;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_recommend_artifact: %s\n", e.what());
    return 1;
  }
  return 0;
}
