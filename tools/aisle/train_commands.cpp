// `aisle train`, `aisle eval`, `aisle export`: a recipe's run end to end, and a finished run's
// model evaluated again or exported (aisle/train/trainer.hpp, saved_run.hpp, export.hpp).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "aisle/dist/communicator.hpp"
#include "aisle/train/evaluation.hpp"
#include "aisle/train/export.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "aisle/train/saved_run.hpp"
#include "aisle/train/trainer.hpp"
#include "commands.hpp"

namespace aisle::cli {
namespace {

struct TrainArgs {
  std::string recipe, run_dir, dist;
  std::vector<std::string> overrides;
  bool resume = false, force = false, quiet = false;
};

struct RunArgs {
  std::string run_dir, checkpoint = "auto", split = "test", out;
  std::vector<std::string> overrides;
  bool force = false, json = false;
};

void add_train(CLI::App& app, int& status) {
  auto* cmd = app.add_subcommand("train", "Train a model from a YAML recipe: data, model, training, evaluation, export");
  auto a = std::make_shared<TrainArgs>();
  cmd->add_option("recipe", a->recipe, "Recipe file (YAML)")->required();
  cmd->add_option("--set", a->overrides, "Override a recipe key: --set train.epochs=5 (repeatable)");
  cmd->add_option("--run-dir", a->run_dir, "Run directory (default: the recipe's run_dir, or runs/<name>)");
  cmd->add_flag("--resume", a->resume, "Continue the run from its latest checkpoint");
  cmd->add_flag("--force", a->force, "Start over in an existing run directory (deletes it)");
  cmd->add_flag("--quiet", a->quiet, "No progress output (metrics.jsonl and summary.json are still written)");
  cmd->add_option("--dist", a->dist, "Collectives between ranks (recipe key dist.backend): auto, local, mpi, nccl")
      ->check(CLI::IsMember({"auto", "local", "mpi", "nccl"}));
  cmd->footer("Several ranks: mpirun -np 4 aisle train RECIPE (or srun); rank 0 writes the run directory.\n"
              "Exit codes: 0 done, 2 usage or recipe error, 3 data error, 1 training failed (e.g. the loss "
              "diverged), 130 stopped by SIGINT/SIGTERM after writing a checkpoint.\n"
              "Every recipe key: aisle train --help-recipe");
  cmd->add_flag_callback("--help-recipe", [] {
    std::fputs(train::training_schema().describe().c_str(), stdout);
    throw CLI::Success();
  }, "Print every recipe key with its type, default and meaning, then exit");
  cmd->callback([a, &status] {
    std::vector<std::string> overrides = a->overrides;
    if (!a->dist.empty()) overrides.push_back("dist.backend=" + a->dist);
    const auto recipe = recipe::Recipe::load_file(a->recipe, overrides, train::training_schema());
    train::TrainOptions o;
    o.run_dir = a->run_dir;
    o.resume = a->resume;
    o.force = a->force;
    if (a->quiet) o.progress = nullptr;
    const train::TrainResult r = train::train(recipe, o);
    if (dist::detect_launch().rank != 0) return;  // rank 0 reports for the job
    std::printf("%s: %s after %lld epochs in %.1f s; summary in %s\n", recipe.string("name").c_str(),
                r.status.c_str(), static_cast<long long>(r.epochs_completed), r.wall_seconds,
                (r.run_dir / "summary.json").c_str());
    status = r.status == "stopped" ? 130 : 0;
  });
}

void add_run_options(CLI::App* cmd, RunArgs& a) {
  cmd->add_option("run_dir", a.run_dir, "Run directory written by aisle train")->required();
  cmd->add_option("--checkpoint", a.checkpoint, "auto (best if kept, else latest), best, latest, or a checkpoint dir")
      ->capture_default_str();
  cmd->add_option("--set", a.overrides, "Override a key of the run's recipe, e.g. --set eval.k=[5,10] --set device=cpu");
}

void add_eval(CLI::App& app, int& status) {
  auto* cmd = app.add_subcommand("eval", "Evaluate a trained run's model on its test (or validation) part");
  auto a = std::make_shared<RunArgs>();
  add_run_options(cmd, *a);
  cmd->add_option("--split", a->split, "test or valid")->check(CLI::IsMember({"test", "valid"}))->capture_default_str();
  cmd->add_flag("--json", a->json, "Print the result as one JSON object");
  cmd->callback([a, &status] {
    const train::SavedRun run = train::open_saved_run(a->run_dir, a->checkpoint, a->overrides);
    const data::Interactions& target = a->split == "valid" ? run.data.split.valid : run.data.split.test;
    AISLE_CHECK(target.size() > 0, a->run_dir, ": the run's ", a->split, " part is empty");
    const train::EvalSettings settings = train::eval_settings(run.recipe, *run.model, run.data.split.train);
    const eval::EvalResult r = train::evaluate_model(*run.model, settings, *run.data.train_index, target);
    if (a->json) {
      std::printf("%s\n", r.to_json().c_str());
    } else {
      std::printf("%s (%s) on %s: %lld users, %lld cases\n", run.checkpoint.c_str(), run.model->type().c_str(),
                  a->split.c_str(), static_cast<long long>(r.users), static_cast<long long>(r.cases));
      for (const auto& [name, value] : r.metrics) std::printf("  %-14s %.6f\n", name.c_str(), value);
    }
    status = 0;
  });
}

void add_export(CLI::App& app, int& status) {
  auto* cmd = app.add_subcommand("export", "Export a trained run's model as an artifact directory "
                                           "(manifest.json + weights.safetensors + id maps)");
  auto a = std::make_shared<RunArgs>();
  add_run_options(cmd, *a);
  cmd->add_option("--out", a->out, "Artifact directory to write")->required();
  cmd->add_flag("--force", a->force, "Replace an existing artifact at --out");
  cmd->callback([a, &status] {
    const train::SavedRun run = train::open_saved_run(a->run_dir, a->checkpoint, a->overrides);
    train::ExportRequest req;
    req.model = run.model.get();
    req.user_ids = run.data.dataset.user_ids();
    req.item_ids = run.data.dataset.item_ids();
    req.seen = run.data.train_index.get();
    if (run.data.split.test.size() > 0) {
      const train::EvalSettings settings = train::eval_settings(run.recipe, *run.model, run.data.split.train);
      req.metrics = train::evaluate_model(*run.model, settings, *run.data.train_index, run.data.split.test).metrics;
    }
    req.dir = a->out;
    req.overwrite = a->force;
    train::export_artifact(req);
    std::printf("exported %s (%s) to %s\n", run.checkpoint.c_str(), run.model->type().c_str(), a->out.c_str());
    status = 0;
  });
}

}  // namespace

void add_train_commands(CLI::App& app, int& status) {
  add_train(app, status);
  add_eval(app, status);
  add_export(app, status);
}

}  // namespace aisle::cli
