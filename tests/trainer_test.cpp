// The trainer end to end on small synthetic shops: run directory contents, resume exactness after
// a stop inside an epoch, early stopping with best-epoch restore, divergence handling, and the
// run-directory safety rules.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "aisle/core/determinism.hpp"
#include "aisle/io/artifact_reader.hpp"
#include "aisle/serve/artifact.hpp"
#include "aisle/train/checkpoint.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "aisle/train/trainer.hpp"
#include "support/temp_dir.hpp"

namespace aisle::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A small shop: 300 users, 200 items, 12k rows, generated into the run directory.
std::string shop_recipe(const std::string& model_yaml, const std::string& extra = "") {
  return "name: t\nseed: 7\ndevice: cpu\n"
         "data:\n  source: synth\n  users: 300\n  items: 200\n  interactions: 12000\n  categories: 8\n"
         "  deduplicate: keep_last\n" +
         extra + "model:\n" + model_yaml + "eval:\n  k: [10]\n";
}

recipe::Recipe load(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  return recipe::Recipe::load_text(yaml, "test.yaml", overrides, training_schema());
}

TrainOptions quiet(const fs::path& dir) {
  TrainOptions o;
  o.run_dir = dir;
  o.console = nullptr;
  o.progress = nullptr;
  return o;
}

std::vector<json> events(const fs::path& run_dir) {
  std::ifstream in(run_dir / "metrics.jsonl");
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

std::vector<float> weights_of(const fs::path& checkpoint, const std::string& name) {
  return io::ArtifactReader::open(checkpoint).tensor(name).to_vector<float>();
}

const std::string kBpr = "  type: bpr\n  factors: 8\ntrain:\n  epochs: 3\n  batch_size: 512\n";

// train.deterministic: false is logged, scoped to the run, and changes nothing on the CPU (whose
// kernels always sum in order): the same losses as the default.
TEST(Trainer, NonDeterministicModeIsLoggedScopedAndCpuExact) {
  testing::TempDir tmp;
  auto losses = [&](const std::string& run, bool on) {
    const auto r = load(shop_recipe(kBpr), {std::string("train.deterministic=") + (on ? "true" : "false"),
                                            "export.dir=" + (tmp / (run + "_artifact")).string()});
    EXPECT_EQ(train(r, quiet(tmp / run)).status, "completed");
    EXPECT_TRUE(deterministic()) << "the run's mode leaked out of train()";
    std::vector<double> out;
    for (const json& e : events(tmp / run)) {
      if (e["event"] == "start") {
        EXPECT_EQ(e["deterministic"].get<bool>(), on);
      }
      if (e["event"] == "epoch") out.push_back(e["loss"].get<double>());
    }
    return out;
  };
  const std::vector<double> fast = losses("fast", false), exact = losses("exact", true);
  ASSERT_EQ(fast.size(), 3u);
  EXPECT_EQ(fast, exact);
}

TEST(Trainer, WritesRunDirectoryWithRecipeMetricsSummaryAndCheckpoints) {
  testing::TempDir tmp;
  const auto r = load(shop_recipe(kBpr), {"export.dir=" + (tmp / "artifact").string()});
  const TrainResult res = train(r, quiet(tmp / "run"));
  EXPECT_EQ(res.status, "completed");
  EXPECT_EQ(res.epochs_completed, 3);
  // The resolved recipe reloads to the same digest.
  const auto again = recipe::Recipe::load_file((tmp / "run" / "recipe.yaml").string(), {}, training_schema());
  EXPECT_EQ(again.digest(), r.digest());
  const auto ev = events(tmp / "run");
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.front()["event"], "start");
  EXPECT_EQ(ev.back()["event"], "end");
  int epochs = 0, evals = 0;
  for (const json& e : ev) {
    if (e["event"] == "epoch") {
      ++epochs;
      EXPECT_TRUE(e["loss"].is_number());
      EXPECT_GT(e["examples"].get<int64_t>(), 0);
    }
    if (e["event"] == "eval") ++evals;
  }
  EXPECT_EQ(epochs, 3);
  EXPECT_EQ(evals, 3 + 1);  // every epoch on the test part (no valid part), then the final test
  std::ifstream in(tmp / "run" / "summary.json");
  const json summary = json::parse(in);
  EXPECT_EQ(summary["status"], "completed");
  EXPECT_EQ(summary["model"], "bpr");
  EXPECT_EQ(summary["recipe_sha256"], r.digest());
  EXPECT_DOUBLE_EQ(summary["test_metrics"]["Recall@10"].get<double>(), res.test_metrics.at("Recall@10"));
  EXPECT_GT(res.test_metrics.at("Recall@10"), 0.0);
  // The final checkpoint is at the start of epoch 3, and keep_checkpoints (2) pruned the oldest.
  EXPECT_TRUE(fs::exists(tmp / "run" / "checkpoints" / checkpoint_name(3, 0) / "manifest.json"));
  EXPECT_FALSE(fs::exists(tmp / "run" / "checkpoints" / checkpoint_name(1, 0)));
  // The exported artifact serves the trained model.
  const Artifact artifact = Artifact::load(tmp / "artifact");
  EXPECT_EQ(artifact.manifest().model_type, "bpr");
  EXPECT_EQ(artifact.recommend(int64_t{0}, 5).size(), 5u);
}

TEST(Trainer, ResumeAfterAStopInsideAnEpochEndsExactlyLikeAnUninterruptedRun) {
  testing::TempDir tmp;
  const auto r = load(shop_recipe(kBpr));
  const TrainResult straight = train(r, quiet(tmp / "straight"));

  TrainOptions o = quiet(tmp / "stopped");
  o.on_step = [](int64_t epoch, const StepReport& s) {
    if (epoch == 1 && s.step == 2) request_stop();
  };
  const TrainResult first = train(r, o);
  ASSERT_EQ(first.status, "stopped");
  EXPECT_EQ(first.epochs_completed, 1);
  EXPECT_TRUE(first.test_metrics.empty());
  const auto latest = latest_checkpoint(tmp / "stopped" / "checkpoints");
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->filename().string(), checkpoint_name(1, 3));

  TrainOptions again = quiet(tmp / "stopped");
  again.resume = true;
  const TrainResult resumed = train(r, again);
  EXPECT_EQ(resumed.status, "completed");
  EXPECT_EQ(resumed.test_metrics, straight.test_metrics);  // exactly, every metric
  const std::string final_ckpt = checkpoint_name(3, 0);
  EXPECT_EQ(weights_of(tmp / "stopped" / "checkpoints" / final_ckpt, "item_factors"),
            weights_of(tmp / "straight" / "checkpoints" / final_ckpt, "item_factors"));
  bool saw_resume = false;
  for (const json& e : events(tmp / "stopped")) saw_resume = saw_resume || e["event"] == "resume";
  EXPECT_TRUE(saw_resume);
}

// write_checkpoints = false (aisle bench's scratch runs): no checkpoint at epoch ends, at the end
// or on a stop inside an epoch, and the same training and test metrics as a run that writes them.
TEST(Trainer, RunWithoutCheckpointsWritesNoneAndTrainsTheSame) {
  testing::TempDir tmp;
  const auto r = load(shop_recipe(kBpr), {"train.checkpoint_every=1"});
  const TrainResult with = train(r, quiet(tmp / "with"));
  ASSERT_TRUE(latest_checkpoint(tmp / "with" / "checkpoints").has_value());

  TrainOptions o = quiet(tmp / "without");
  o.write_checkpoints = false;
  const TrainResult without = train(r, o);
  EXPECT_EQ(without.status, "completed");
  EXPECT_EQ(without.test_metrics, with.test_metrics);
  EXPECT_FALSE(latest_checkpoint(tmp / "without" / "checkpoints").has_value());
  for (const json& e : events(tmp / "without")) EXPECT_NE(e["event"], "checkpoint") << e.dump();

  TrainOptions stopped = quiet(tmp / "stopped");
  stopped.write_checkpoints = false;
  stopped.on_step = [](int64_t epoch, const StepReport& s) {
    if (epoch == 1 && s.step == 2) request_stop();
  };
  EXPECT_EQ(train(r, stopped).status, "stopped");
  EXPECT_FALSE(latest_checkpoint(tmp / "stopped" / "checkpoints").has_value());
}

TEST(Trainer, ResumeRefusesADifferentRecipe) {
  testing::TempDir tmp;
  const auto r = load(shop_recipe(kBpr));
  TrainOptions o = quiet(tmp / "run");
  o.on_step = [](int64_t, const StepReport& s) {
    if (s.step == 0) request_stop();
  };
  ASSERT_EQ(train(r, o).status, "stopped");
  TrainOptions again = quiet(tmp / "run");
  again.resume = true;
  try {
    train(load(shop_recipe(kBpr), {"model.factors=16"}), again);
    FAIL() << "resumed with another recipe";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("differs from the one this run was started with"), std::string::npos) << e.what();
  }
}

// A run started by an older Aisle resumes under a newer one whose schema has added a key, as long as
// the new key keeps its default (the old behaviour) and nothing else changed. The newer Aisle is
// simulated by the training schema plus one key.
TEST(Trainer, ResumeAcceptsKeysAddedSinceTheRunStartedAtTheirDefaults) {
  testing::TempDir tmp;
  recipe::Schema newer = training_schema();
  newer.add("train.added_later", recipe::Kind::string).with_default("old_behaviour").one_of({"old_behaviour", "new"});
  const auto load_newer = [&](const std::vector<std::string>& overrides) {
    return recipe::Recipe::load_text(shop_recipe(kBpr), "test.yaml", overrides, newer);
  };
  const TrainResult straight = train(load(shop_recipe(kBpr)), quiet(tmp / "straight"));

  TrainOptions o = quiet(tmp / "run");
  o.on_step = [](int64_t epoch, const StepReport& s) {
    if (epoch == 1 && s.step == 1) request_stop();
  };
  ASSERT_EQ(train(load(shop_recipe(kBpr)), o).status, "stopped");

  TrainOptions again = quiet(tmp / "run");
  again.resume = true;
  for (const auto& overrides : std::vector<std::vector<std::string>>{{"train.added_later=new"},
                                                                   {"train.added_later=old_behaviour"},
                                                                   {"model.factors=16"}}) {
    try {
      train(load_newer(overrides), again);
      FAIL() << "resumed with " << overrides[0];
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("differs from the one this run was started with"), std::string::npos)
          << e.what();
    }
  }

  char* text = nullptr;
  size_t size = 0;
  std::FILE* console = open_memstream(&text, &size);
  again.console = console;
  const TrainResult resumed = train(load_newer({}), again);
  std::fclose(console);
  const std::string said(text, size);
  std::free(text);
  EXPECT_EQ(resumed.status, "completed");
  EXPECT_EQ(resumed.test_metrics, straight.test_metrics);
  EXPECT_NE(said.find("train.added_later is newer than this run: it keeps its default, old_behaviour"),
            std::string::npos) << said;
}

TEST(Trainer, EarlyStoppingKeepsTheBestEpoch) {
  testing::TempDir tmp;
  // A learning rate this high makes validation NDCG peak early and fall, so patience 1 stops the run.
  const auto r = load(shop_recipe("  type: bpr\n  factors: 8\ntrain:\n  epochs: 30\n  batch_size: 256\n  lr: 0.3\n"
                                  "  early_stopping:\n    metric: NDCG@10\n    patience: 1\n",
                                  "  split:\n    method: random\n    train: 0.7\n    valid: 0.1\n    test: 0.2\n"));
  const TrainResult res = train(r, quiet(tmp / "run"));
  ASSERT_EQ(res.status, "early_stopped");
  ASSERT_GE(res.best_epoch, 0);
  EXPECT_EQ(res.epochs_completed, res.best_epoch + 2);  // one evaluation without improvement
  EXPECT_TRUE(fs::exists(tmp / "run" / "checkpoints" / "best" / "manifest.json"));
  // The best checkpoint holds the weights that were tested.
  double best_ndcg = -1;
  for (const json& e : events(tmp / "run"))
    if (e["event"] == "eval" && e["split"] == "valid" && e["epoch"] == res.best_epoch)
      best_ndcg = e["metrics"]["NDCG@10"].get<double>();
  EXPECT_DOUBLE_EQ(res.valid_metrics.at("NDCG@10"), best_ndcg);
}

TEST(Trainer, EarlyStoppingWithoutAValidationPartIsARecipeError) {
  testing::TempDir tmp;
  const auto r = load(shop_recipe(kBpr), {"train.early_stopping.metric=NDCG@10"});
  try {
    train(r, quiet(tmp / "run"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs a validation part"), std::string::npos) << e.what();
  }
}

TEST(Trainer, DivergedLossStopsAndKeepsTheLastGoodCheckpoint) {
  testing::TempDir tmp;
  // Plain SGD at this rate trains for a few epochs on this shop, then blows up (epoch 5 of 8).
  const auto r = load(shop_recipe("  type: mf\n  factors: 8\ntrain:\n  epochs: 8\n  lr: 0.6\n"));
  std::string message;
  try {
    train(r, quiet(tmp / "run"));
    FAIL() << "SGD at lr 0.6 did not diverge";
  } catch (const TrainingDiverged& e) {
    message = e.what();
  }
  const auto latest = latest_checkpoint(tmp / "run" / "checkpoints");
  ASSERT_TRUE(latest.has_value()) << message;
  EXPECT_NE(message.find("the last good checkpoint is " + latest->string()), std::string::npos) << message;
  for (float v : weights_of(*latest, "item_factors")) ASSERT_TRUE(std::isfinite(v));
  bool logged = false;
  for (const json& e : events(tmp / "run")) logged = logged || e["event"] == "diverged";
  EXPECT_TRUE(logged);
  // The run can be resumed from that checkpoint (it then diverges again: same recipe, same steps).
  TrainOptions again = quiet(tmp / "run");
  again.resume = true;
  EXPECT_THROW(train(r, again), TrainingDiverged);
}

TEST(Trainer, RunDirectorySafetyRules) {
  testing::TempDir tmp;
  const auto r = load(shop_recipe("  type: popularity\n"));
  ASSERT_EQ(train(r, quiet(tmp / "run")).status, "completed");
  EXPECT_THROW(train(r, quiet(tmp / "run")), Error);  // exists: needs --resume or --force
  TrainOptions force = quiet(tmp / "run");
  force.force = true;
  EXPECT_EQ(train(r, force).status, "completed");
  // --force never deletes a directory that is not a run.
  fs::create_directories(tmp / "mine");
  std::ofstream(tmp / "mine" / "notes.txt") << "precious";
  TrainOptions wrong = quiet(tmp / "mine");
  wrong.force = true;
  EXPECT_THROW(train(r, wrong), Error);
  EXPECT_TRUE(fs::exists(tmp / "mine" / "notes.txt"));
}

}  // namespace
}  // namespace aisle::train
