// `aisle bench RECIPE`: how fast a recipe's model trains and evaluates here. Trains the recipe for
// a few epochs in a scratch run directory (no checkpoints at all, no export, evaluation
// only at the end), then reports each epoch's time, the median, examples per second, the time
// of one full evaluation, and peak device and host memory. Kernel-level microbenchmarks are the
// tools/bench binaries (bench_*), their PyTorch peers tools/bench/peers; see BENCHMARKS.md.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aisle/device/cuda.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "aisle/train/trainer.hpp"
#include "commands.hpp"

namespace aisle::cli {
namespace {

namespace fs = std::filesystem;

struct BenchArgs {
  std::string recipe, device, keep;
  std::vector<std::string> overrides;
  int64_t epochs = 3;
  bool json = false;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// A scratch run directory that is removed again unless the user asked to keep it.
struct ScratchDir {
  fs::path path;
  bool keep = false;
  ~ScratchDir() {
    std::error_code ec;
    if (!keep && !path.empty()) fs::remove_all(path, ec);
  }
};

nlohmann::json measure(const BenchArgs& a) {
  std::vector<std::string> sets = a.overrides;
  // After the user's --set, so these win: the benchmark's own shape of run.
  for (const std::string& s : {"train.epochs=" + std::to_string(a.epochs), std::string("eval.every=0"),
                               std::string("train.checkpoint_every=0"), std::string("export.dir=\"\""),
                               std::string("train.early_stopping.metric=\"\"")})
    sets.push_back(s);
  if (!a.device.empty()) sets.push_back("device=" + a.device);
  const auto recipe = recipe::Recipe::load_file(a.recipe, sets, train::training_schema());

  ScratchDir scratch;
  scratch.keep = !a.keep.empty();
  scratch.path = scratch.keep ? fs::path(a.keep)
                              : fs::temp_directory_path() / ("aisle-bench-" + std::to_string(::getpid()));
  const Device device = train::resolve_device(recipe.string("device"));
  if (device.is_cuda()) cuda::reset_peak_memory(device.index);

  train::TrainOptions o;
  o.run_dir = scratch.path;
  o.force = true;
  o.console = nullptr;
  o.progress = nullptr;
  o.write_checkpoints = false;
  const train::TrainResult r = train::train(recipe, o);

  std::vector<double> epoch_seconds, rates;
  double eval_seconds = -1;
  std::ifstream events(scratch.path / "metrics.jsonl");
  for (std::string line; std::getline(events, line);) {
    const auto e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_discarded() || !e.contains("event")) continue;
    if (e["event"] == "epoch" && e.contains("seconds")) {
      epoch_seconds.push_back(e["seconds"].get<double>());
      if (e.contains("examples_per_s")) rates.push_back(e["examples_per_s"].get<double>());
    }
    if (e["event"] == "eval" && e.contains("seconds")) eval_seconds = e["seconds"].get<double>();
  }
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);

  nlohmann::json j;
  j["recipe"] = a.recipe;
  j["name"] = recipe.string("name");
  j["model"] = recipe.string("model.type");
  j["device"] = device.str();
  if (device.is_cuda()) j["device_name"] = cuda::device_name(device.index);
  j["status"] = r.status;
  j["epochs"] = r.epochs_completed;
  j["epoch_seconds"] = epoch_seconds;
  j["epoch_seconds_median"] = median(epoch_seconds);
  j["examples_per_second_median"] = median(rates);
  j["eval_seconds"] = eval_seconds < 0 ? nlohmann::json(nullptr) : nlohmann::json(eval_seconds);
  j["wall_seconds"] = r.wall_seconds;
  j["peak_host_MiB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
  if (device.is_cuda())
    j["peak_device_MiB"] = static_cast<double>(cuda::memory_stats(device.index).peak_allocated) / (1 << 20);
  j["test_metrics"] = r.test_metrics;
  return j;
}

void print_table(const nlohmann::json& j) {
  std::printf("%s (%s) on %s%s\n", j["name"].get<std::string>().c_str(), j["model"].get<std::string>().c_str(),
              j["device"].get<std::string>().c_str(),
              j.contains("device_name") ? (" (" + j["device_name"].get<std::string>() + ")").c_str() : "");
  std::printf("  epochs         ");
  for (const auto& s : j["epoch_seconds"]) std::printf(" %.4f", s.get<double>());
  std::printf(" s\n  epoch median    %.4f s  (%.0f examples/s)\n", j["epoch_seconds_median"].get<double>(),
              j["examples_per_second_median"].get<double>());
  if (!j["eval_seconds"].is_null()) std::printf("  evaluation      %.4f s\n", j["eval_seconds"].get<double>());
  std::printf("  peak host       %.0f MiB\n", j["peak_host_MiB"].get<double>());
  if (j.contains("peak_device_MiB")) std::printf("  peak device     %.0f MiB\n", j["peak_device_MiB"].get<double>());
  for (const auto& [name, value] : j["test_metrics"].items())
    if (name == "RMSE" || name == "Recall@20" || name == "NDCG@20") std::printf("  %-15s %.4f\n", name.c_str(), value.get<double>());
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Time a recipe's training epochs and evaluation on this machine");
  auto a = std::make_shared<BenchArgs>();
  cmd->add_option("recipe", a->recipe, "Recipe file (YAML)")->required();
  cmd->add_option("--epochs", a->epochs, "Epochs to time (the first includes warm-up)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}))->capture_default_str();
  cmd->add_option("--device", a->device, "Override the recipe's device: cpu, cuda, cuda:N, auto");
  cmd->add_option("--set", a->overrides, "Override a recipe key, as in aisle train (repeatable)");
  cmd->add_option("--keep", a->keep, "Keep the scratch run directory here (default: a temporary one, removed)");
  cmd->add_flag("--json", a->json, "Print one JSON object instead of the table");
  cmd->footer("Exit codes: 0 done, 2 usage or recipe error, 3 data error, 1 training failed.\n"
              "Kernel microbenchmarks and PyTorch peers: tools/bench (see BENCHMARKS.md).");
  cmd->callback([a] {
    const nlohmann::json j = measure(*a);
    if (a->json) std::printf("%s\n", j.dump().c_str());
    else print_table(j);
  });
}

}  // namespace aisle::cli
