#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <thread>

#include "aisle/dist/communicator.hpp"
#include "aisle/recipe/recipe.hpp"
#include "aisle/serve/artifact.hpp"
#include "aisle/train/export.hpp"
#include "aisle/train/model_registry.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "support/temp_dir.hpp"
#include "support/testing.hpp"

namespace aisle {
namespace {

namespace fs = std::filesystem;
using testing::error_message;
using testing::TempDir;

constexpr int64_t kUsers = 30, kItems = 25;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void write_text(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// prefix + number, written so that GCC 12 does not warn (-Wrestrict) about "u" + std::to_string(n).
std::string id(const char* prefix, int64_t n) {
  std::string s = prefix;
  s += std::to_string(n);
  return s;
}

// Users "u0".."u29" and items "sku-0".."sku-24", each user with a few random items.
struct Shop {
  train::TrainingData data;
  data::IdMap user_ids, item_ids;
};
Shop make_shop() {
  Generator gen(17);
  std::vector<int64_t> u, i;
  for (int64_t w = 0; w < kUsers; ++w)
    for (int k = 0; k < 6; ++k) {
      u.push_back(w);
      const double x = gen.next_double();
      i.push_back(static_cast<int64_t>(x * x * kItems));
    }
  Shop s;
  s.data.train = data::Interactions::from_vectors(u, i, kUsers, kItems);
  s.data.train_index = std::make_shared<data::UserItemIndex>(s.data.train);
  s.data.num_users = kUsers;
  s.data.num_items = kItems;
  data::IdInterner users, items;
  for (int64_t w = 0; w < kUsers; ++w) users.intern(id("u", w));
  for (int64_t k = 0; k < kItems; ++k) items.intern(id("sku-", k));
  s.user_ids = users.to_map();
  s.item_ids = items.to_map();
  return s;
}

std::unique_ptr<train::Model> fit(const std::string& type, const Shop& shop) {
  const auto recipe = recipe::Recipe::load_text("data: {path: unused}\nmodel: {type: " + type + "}\n", "test.yaml",
                                                {}, train::training_schema());
  auto comm = dist::make_local_communicator();
  auto m = train::create_model(type);
  m->configure(recipe);
  m->setup(shop.data, {.comm = comm.get()});
  m->train_steps(0, 0, [](const train::StepReport&) { return true; });
  return m;
}

void export_to(const fs::path& dir, const train::Model& model, const Shop& shop, bool overwrite = false) {
  train::export_artifact({.model = &model, .user_ids = shop.user_ids, .item_ids = shop.item_ids,
                          .seen = shop.data.train_index.get(), .metrics = {{"Recall@10", 0.25}},
                          .dir = dir, .overwrite = overwrite});
}

// The ranking by definition: scores of the trained model, best first, ties to the lower id.
std::vector<int64_t> brute_force(const train::Model& m, const Shop& shop, int64_t user, int64_t k, bool exclude_seen) {
  const auto scores = m.score_users(Tensor::from_vector<int64_t>({user})).to_vector<float>();
  std::vector<int64_t> order;
  for (int64_t i = 0; i < kItems; ++i)
    if (!exclude_seen || !shop.data.train_index->contains(user, i)) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  order.resize(std::min<size_t>(order.size(), static_cast<size_t>(k)));
  return order;
}

std::vector<int64_t> indices(const std::vector<Recommendation>& r) {
  std::vector<int64_t> out;
  for (const auto& x : r) out.push_back(x.item_index);
  return out;
}

class ArtifactServe : public ::testing::TestWithParam<std::string> {};

TEST_P(ArtifactServe, RecommendEqualsTheBruteForceRanking) {
  const Shop shop = make_shop();
  const auto model = fit(GetParam(), shop);
  TempDir tmp;
  export_to(tmp / "model", *model, shop);
  const Artifact a = Artifact::load(tmp / "model");
  EXPECT_EQ(a.manifest().model_type, GetParam());
  EXPECT_EQ(a.manifest().metrics.at("Recall@10"), 0.25);
  EXPECT_EQ(a.model().type(), GetParam());
  EXPECT_EQ(a.num_users(), kUsers);
  EXPECT_EQ(a.num_items(), kItems);
  for (int64_t u = 0; u < kUsers; ++u)
    for (const bool exclude : {true, false}) {
      const auto recs = a.recommend(id("u", u), 10, exclude);
      EXPECT_EQ(indices(recs), brute_force(*model, shop, u, 10, exclude)) << "user " << u << " exclude " << exclude;
      EXPECT_EQ(indices(a.recommend(u, 10, exclude)), indices(recs));
      const auto scores = model->score_users(Tensor::from_vector<int64_t>({u})).to_vector<float>();
      for (const auto& r : recs) {
        EXPECT_EQ(r.item, id("sku-", r.item_index));
        EXPECT_EQ(r.score, scores[static_cast<size_t>(r.item_index)]);
        if (exclude) {
          EXPECT_FALSE(shop.data.train_index->contains(u, r.item_index));
        }
      }
    }
}

TEST_P(ArtifactServe, KBeyondTheCatalogueReturnsWhatThereIs) {
  const Shop shop = make_shop();
  const auto model = fit(GetParam(), shop);
  TempDir tmp;
  export_to(tmp / "model", *model, shop);
  const Artifact a = Artifact::load(tmp / "model");
  const int64_t seen = shop.data.train_index->degree(3);
  EXPECT_EQ(static_cast<int64_t>(a.recommend(3, 1000, true).size()), kItems - seen);
  EXPECT_EQ(static_cast<int64_t>(a.recommend(3, 1000, false).size()), kItems);
  EXPECT_TRUE(a.recommend(3, 0).empty());
}

TEST_P(ArtifactServe, ConcurrentRecommendationsAgree) {
  const Shop shop = make_shop();
  const auto model = fit(GetParam(), shop);
  TempDir tmp;
  export_to(tmp / "model", *model, shop);
  const Artifact a = Artifact::load(tmp / "model");
  std::vector<std::vector<int64_t>> expected;
  for (int64_t u = 0; u < kUsers; ++u) expected.push_back(indices(a.recommend(u, 5)));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 20; ++rep)
        for (int64_t u = 0; u < kUsers; ++u)
          mismatches[static_cast<size_t>(t)] += indices(a.recommend(id("u", u), 5)) != expected[static_cast<size_t>(u)];
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(std::accumulate(mismatches.begin(), mismatches.end(), 0), 0);
}

TEST_P(ArtifactServe, CudaRecommendsLikeTheCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Shop shop = make_shop();
  const auto model = fit(GetParam(), shop);
  TempDir tmp;
  export_to(tmp / "model", *model, shop);
  const Artifact cpu = Artifact::load(tmp / "model");
  const Artifact gpu = Artifact::load(tmp / "model", testing::gpu());
  for (int64_t u = 0; u < kUsers; ++u) EXPECT_EQ(indices(gpu.recommend(u, 10)), indices(cpu.recommend(u, 10)));
}

INSTANTIATE_TEST_SUITE_P(Models, ArtifactServe, ::testing::Values("popularity", "item_knn"));

// ---- refusals ------------------------------------------------------------------------------

class DamagedArtifact : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = fit("item_knn", shop_);
    export_to(dir_, *model_, shop_);
  }
  // The ArtifactError Artifact::load throws ("(no error)" or the wrong type otherwise).
  std::string load_error() const {
    try {
      Artifact::load(dir_);
    } catch (const ArtifactError& e) {
      return e.what();
    } catch (const std::exception& e) {
      return std::string("wrong exception type: ") + e.what();
    }
    return "(no error)";
  }
  Shop shop_ = make_shop();
  std::unique_ptr<train::Model> model_;
  TempDir tmp_;
  fs::path dir_ = tmp_ / "model";
};

TEST_F(DamagedArtifact, OneFlippedByteOfTheWeights) {
  std::string bytes = read_text(dir_ / "weights.safetensors");
  bytes[bytes.size() - 3] ^= 0x01;
  write_text(dir_ / "weights.safetensors", bytes);
  const std::string e = load_error();
  EXPECT_MESSAGE_HAS(e, "weights.safetensors");
  EXPECT_MESSAGE_HAS(e, "checksum mismatch");
}

TEST_F(DamagedArtifact, TruncatedWeights) {
  fs::resize_file(dir_ / "weights.safetensors", fs::file_size(dir_ / "weights.safetensors") - 8);
  const std::string e = load_error();
  EXPECT_MESSAGE_HAS(e, "weights.safetensors");
  EXPECT_MESSAGE_HAS(e, "truncated");
}

TEST_F(DamagedArtifact, MissingFiles) {
  for (const char* file : {"seen.safetensors", "items.ids.safetensors", "weights.safetensors"}) {
    export_to(dir_, *model_, shop_, /*overwrite=*/true);
    fs::remove(dir_ / file);
    const std::string e = load_error();
    EXPECT_MESSAGE_HAS(e, file);
    EXPECT_MESSAGE_HAS(e, "missing");
  }
  fs::remove(dir_ / "manifest.json");
  EXPECT_MESSAGE_HAS(load_error(), "manifest.json");
}

TEST_F(DamagedArtifact, EditedManifest) {
  const std::string original = read_text(dir_ / "manifest.json");
  nlohmann::json m = nlohmann::json::parse(original);
  m["model"]["dimensions"]["items"] = kItems + 1;
  write_text(dir_ / "manifest.json", m.dump(2));
  EXPECT_MESSAGE_HAS(load_error(), "manifest.json: dimension 'items' is 26");

  m = nlohmann::json::parse(original);
  m["model"]["type"] = "item_knm";
  write_text(dir_ / "manifest.json", m.dump(2));
  std::string e = load_error();
  EXPECT_MESSAGE_HAS(e, "manifest.json");
  EXPECT_MESSAGE_HAS(e, "item_knn");  // the near-miss suggestion

  m = nlohmann::json::parse(original);
  for (auto& f : m["files"])
    if (f["path"] == "seen.safetensors") f["sha256"] = std::string(64, '0');
  write_text(dir_ / "manifest.json", m.dump(2));
  e = load_error();
  EXPECT_MESSAGE_HAS(e, "seen.safetensors");
  EXPECT_MESSAGE_HAS(e, "checksum mismatch");

  write_text(dir_ / "manifest.json", original.substr(0, original.size() / 2));
  EXPECT_MESSAGE_HAS(load_error(), "manifest.json");

  write_text(dir_ / "manifest.json", original);
  EXPECT_EQ(load_error(), "(no error)");
}

TEST_F(DamagedArtifact, WeightsOfAnotherModelType) {
  nlohmann::json m = nlohmann::json::parse(read_text(dir_ / "manifest.json"));
  m["model"]["type"] = "popularity";
  write_text(dir_ / "manifest.json", m.dump(2));
  const std::string e = load_error();
  EXPECT_MESSAGE_HAS(e, "weights.safetensors");
  EXPECT_MESSAGE_HAS(e, "'item_scores'");
}

TEST(ArtifactServeErrors, UnknownUserNamesTheUserAndTheArtifact) {
  const Shop shop = make_shop();
  const auto model = fit("popularity", shop);
  TempDir tmp;
  export_to(tmp / "model", *model, shop);
  const Artifact a = Artifact::load(tmp / "model");
  const std::string e = error_message([&] { a.recommend("u999", 10); });
  EXPECT_MESSAGE_HAS(e, "'u999'");
  EXPECT_MESSAGE_HAS(e, (tmp / "model").string());
  EXPECT_MESSAGE_HAS(error_message([&] { a.recommend(int64_t{30}, 10); }), "user index 30");
  EXPECT_MESSAGE_HAS(error_message([&] { a.recommend(int64_t{0}, -1); }), "k must be non-negative");
}

TEST(ArtifactServeErrors, ExportRefusesAnExistingDirectoryAndLeavesItIntact) {
  const Shop shop = make_shop();
  const auto pop = fit("popularity", shop);
  const auto knn = fit("item_knn", shop);
  TempDir tmp;
  const fs::path dir = tmp / "model";
  export_to(dir, *pop, shop);
  const std::string manifest = read_text(dir / "manifest.json");
  const std::string e = error_message([&] { export_to(dir, *knn, shop); });
  EXPECT_MESSAGE_HAS(e, dir.string());
  EXPECT_MESSAGE_HAS(e, "--force");
  EXPECT_MESSAGE_HAS(e, "export.overwrite");
  EXPECT_EQ(read_text(dir / "manifest.json"), manifest);
  EXPECT_EQ(Artifact::load(dir).manifest().model_type, "popularity");
  // No temporary directory is left beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);

  // A plain directory with a file of the user's is refused too, even with overwrite.
  fs::create_directories(tmp / "notes");
  write_text(tmp / "notes" / "todo.txt", "keep me");
  EXPECT_MESSAGE_HAS(error_message([&] { export_to(tmp / "notes", *knn, shop, /*overwrite=*/true); }),
                     "not an Aisle artifact");
  EXPECT_EQ(read_text(tmp / "notes" / "todo.txt"), "keep me");

  export_to(dir, *knn, shop, /*overwrite=*/true);
  EXPECT_EQ(Artifact::load(dir).manifest().model_type, "item_knn");
}

TEST(ArtifactServeErrors, ExportChecksIdMapSizes) {
  const Shop shop = make_shop();
  const auto model = fit("item_knn", shop);
  TempDir tmp;
  const std::string e = error_message([&] {
    train::export_artifact({.model = model.get(), .user_ids = data::IdMap::dense(kUsers), .item_ids = data::IdMap::dense(3),
                            .seen = shop.data.train_index.get(), .metrics = {}, .dir = tmp / "model"});
  });
  EXPECT_MESSAGE_HAS(e, "item id map has 3 ids, the model 25 items");
  EXPECT_FALSE(fs::exists(tmp / "model"));
}

}  // namespace
}  // namespace aisle
