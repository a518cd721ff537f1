#include "aisle/train/trainer.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <iterator>
#include <optional>

#include "aisle/config.hpp"
#include "aisle/core/determinism.hpp"
#include "aisle/device/cuda.hpp"
#include "aisle/dist/communicator.hpp"
#include "aisle/train/checkpoint.hpp"
#include "aisle/train/evaluation.hpp"
#include "aisle/train/export.hpp"
#include "aisle/train/model_registry.hpp"
#include "aisle/train/run_data.hpp"
#include "src/io/atomic_file.hpp"
#include "src/train/progress.hpp"
#include "src/train/run_log.hpp"

namespace aisle::train {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

volatile std::sig_atomic_t g_stop_requested = 0;

extern "C" void on_stop_signal(int) { g_stop_requested = 1; }

// SIGINT/SIGTERM request a checkpointed stop while a run is in train(); the previous handlers
// come back afterwards so the host application keeps its own behaviour.
class StopSignals {
 public:
  StopSignals() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

json metrics_json(const std::map<std::string, double>& metrics) {
  json j = json::object();
  for (const auto& [k, v] : metrics) j[k] = std::isfinite(v) ? json(v) : json(nullptr);
  return j;
}

std::map<std::string, double> metrics_from_json(const std::string& text) {
  std::map<std::string, double> out;
  const json parsed = json::parse(text);  // items() must not outlive the parsed object
  for (const auto& [k, v] : parsed.items()) out[k] = v.is_number() ? v.get<double>() : NAN;
  return out;
}

void say(std::FILE* out, const std::string& line) {
  if (!out) return;
  std::fputs(line.c_str(), out);
  std::fputc('\n', out);
  std::fflush(out);
}

std::string shown_metrics(const eval::EvalResult& r, const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& n : names) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "  %s %.4f", n.c_str(), r.at(n));
    text += buf;
  }
  return text;
}

// A fresh run must not silently mix with an old one; --force starts over, but only in a
// directory that is empty or recognisably a run, so a mistyped path cannot delete unrelated files.
void prepare_run_dir(const fs::path& dir, const TrainOptions& o) {
  const bool exists = fs::exists(dir);
  const bool empty = exists && fs::is_directory(dir) && fs::is_empty(dir);
  const bool is_run = exists && (fs::exists(dir / "recipe.yaml") || fs::exists(dir / "metrics.jsonl"));
  if (o.resume) {
    AISLE_CHECK(is_run, dir.string(), ": no run to resume here (no recipe.yaml or metrics.jsonl)");
    return;
  }
  if (exists && !empty) {
    AISLE_CHECK(o.force, dir.string(), ": the run directory already exists; pass --resume to continue it or "
                "--force to start over");
    AISLE_CHECK(is_run, dir.string(), ": --force refuses to delete a directory that is not an aisle run "
                "(no recipe.yaml or metrics.jsonl)");
    fs::remove_all(dir);
  }
  fs::create_directories(dir);
}

// What a checkpoint must agree with to be continued: everything but the dist section, so a run can
// resume on another number of ranks or another backend.
constexpr const char* kRankLayoutSection = "dist";
std::string resume_digest(const recipe::Recipe& r) { return r.digest(kRankLayoutSection); }

// The keys a newer Aisle added since the run started, when that explains a digest mismatch: the
// run's own recipe.yaml (written by the version that started it) lacks them, none is set now, and
// the recipe without them is the checkpoint's. They then hold their defaults, which keep the old
// behaviour (a new key's default always does), so the run continues as it would have.
std::vector<std::string> keys_added_since(const fs::path& run_dir, const recipe::Recipe& r,
                                          const std::string& checkpoint_sha) {
  std::ifstream in(run_dir / "recipe.yaml");
  if (!in) return {};
  const std::string saved((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> added = r.paths_missing_from(saved, (run_dir / "recipe.yaml").string());
  std::erase_if(added, [](const std::string& path) {
    return path.rfind(std::string(kRankLayoutSection) + ".", 0) == 0;
  });
  if (added.empty()) return {};
  for (const std::string& path : added)
    if (r.explicitly_set(path)) return {};
  return r.digest(kRankLayoutSection, added) == checkpoint_sha ? added : std::vector<std::string>{};
}

// Returns the keys added since the run started (usually none); throws when the recipe differs.
std::vector<std::string> check_recipe_matches(const fs::path& run_dir, const recipe::Recipe& r,
                                              const std::string& checkpoint_sha) {
  if (checkpoint_sha == resume_digest(r)) return {};
  std::vector<std::string> added = keys_added_since(run_dir, r, checkpoint_sha);
  AISLE_CHECK(!added.empty(), run_dir.string(),
              ": the recipe differs from the one this run was started with (recipe sha256 ",
              resume_digest(r).substr(0, 12),
              " vs ", checkpoint_sha.substr(0, 12), "); resume with the run's own recipe: aisle train ",
              (run_dir / "recipe.yaml").string(), " --run-dir ", run_dir.string(), " --resume");
  return added;
}

}  // namespace

void request_stop() { g_stop_requested = 1; }

Device resolve_device(const std::string& name) {
  // One process per GPU: under a launcher, rank r takes its node's GPU local_rank (modulo the count).
  const dist::LaunchInfo launch = dist::detect_launch();
  const int gpus = cuda::device_count();
  const int local_gpu = launch.world > 1 && gpus > 0 ? launch.local_rank % gpus : 0;
  if (name == "auto") return cuda::is_available() ? Device::cuda(local_gpu) : Device::cpu();
  if (name == "cuda" && launch.world > 1 && gpus > 0) return Device::cuda(local_gpu);
  const Device d = Device::parse(name);
  AISLE_CHECK(!d.is_cuda() || cuda::is_available(), "device '", name,
              "': no CUDA device is available (this build ", AISLE_WITH_CUDA ? "has" : "does not have",
              " the CUDA backend); use device: cpu or auto");
  return d;
}

fs::path resolve_run_dir(const recipe::Recipe& r, const TrainOptions& o) {
  if (!o.run_dir.empty()) return o.run_dir;
  if (!r.string("run_dir").empty()) return r.string("run_dir");
  return fs::path("runs") / r.string("name");
}

TrainResult train(const recipe::Recipe& r, const TrainOptions& o) {
  const auto wall_start = Clock::now();
  TrainResult result;
  // Everything the recipe alone can get wrong fails before the run directory is touched.
  const Device device = resolve_device(r.string("device"));
  const DeterministicGuard determinism(r.boolean("train.deterministic"));
  const std::string type = r.string("model.type");
  std::unique_ptr<Model> model = create_model(type);
  model->configure(r);
  // Every rank runs this function; rank 0 (the lead) alone writes the run directory, the log and
  // the console, and evaluates. The rest meets in the collectives of the model and below.
  const auto comm = dist::make_communicator(r.string("dist.backend"), device, r.number("dist.timeout_s"));
  const bool lead = comm->rank() == 0;
  const bool several = comm->world_size() > 1;
  AISLE_CHECK(!several || model->trains_on_ranks(), "model '", type, "' does not train on several ranks yet (bpr "
              "does): this job has ", comm->world_size(), " ranks (", comm->backend(), "); run it as one process");
  std::FILE* const console = lead ? o.console : nullptr;

  result.run_dir = resolve_run_dir(r, o);
  const fs::path& run_dir = result.run_dir;
  const fs::path checkpoints = run_dir / "checkpoints";
  if (!lead) comm->barrier();  // the lead prepares the directory and the data first
  if (lead) {
    prepare_run_dir(run_dir, o);
    if (!o.resume) io::detail::write_file_atomically(run_dir / "recipe.yaml", r.resolved_yaml());
  }
  say(console, "aisle train '" + r.string("name") + "': model " + type + " on " + device.str() +
                   (several ? " x " + std::to_string(comm->world_size()) + " ranks (" + comm->backend() + ")" : "") +
                   ", run directory " + run_dir.string());
  RunData data = prepare_run_data(r, run_dir);  // the other ranks find it materialised
  if (lead) comm->barrier();
  for (const std::string& note : data.notes) say(console, "  " + note);

  TrainingData td{data.split.train, data.train_index, data.split.train.num_users, data.split.train.num_items,
                  std::make_shared<const data::SideFeatures>(data.dataset.item_features())};
  model->setup(td, ModelContext{device, static_cast<uint64_t>(r.integer("seed")), comm.get()});
  for (const std::string& note : model->setup_notes()) say(console, "  " + note);
  // On several ranks the lead evaluates and exports a whole serving copy (weights() is a collective).
  auto serving_copy = [&]() -> std::unique_ptr<Model> {
    const std::map<std::string, Tensor> weights = model->weights();
    if (!lead) return nullptr;
    std::unique_ptr<Model> copy = create_model(type);
    copy->load_weights(weights, device);
    return copy;
  };

  const EvalSettings eval_cfg = eval_settings(r, *model, data.split.train);
  const std::string watch = r.string("train.early_stopping.metric");
  const int64_t patience = r.integer("train.early_stopping.patience");
  const bool has_valid = data.split.valid.size() > 0;
  AISLE_CHECK(watch.empty() || has_valid, r.where("train.early_stopping.metric"),
              ": early stopping on '", watch, "' needs a validation part: set data.split.valid (e.g. 0.1, or true "
              "for leave_one_out)");
  const data::Interactions& monitor = has_valid ? data.split.valid : data.split.test;
  const char* monitor_name = has_valid ? "valid" : "test";
  const int64_t epochs = model->iterative() ? r.integer("train.epochs") : 1;
  const int64_t eval_every = r.integer("eval.every");
  const int64_t checkpoint_every = r.integer("train.checkpoint_every");
  const int64_t keep = r.integer("train.keep_checkpoints");

  TrainerPosition pos;
  pos.recipe_sha256 = resume_digest(r);
  std::optional<RunLog> run_log;
  if (lead) run_log.emplace(run_dir / "metrics.jsonl", /*append=*/o.resume);
  struct {
    std::optional<RunLog>& to;
    void write(const std::string& event, json fields) {
      if (to) to->write(event, std::move(fields));
    }
  } log{run_log};
  if (o.resume) {
    const auto latest = latest_checkpoint(checkpoints);
    AISLE_CHECK(latest.has_value(), checkpoints.string(), ": no checkpoint to resume from");
    LoadedCheckpoint c = read_checkpoint(*latest, model->state_sharding());
    for (const std::string& key : check_recipe_matches(run_dir, r, c.position.recipe_sha256))
      say(console, "  " + key + " is newer than this run: it keeps its default, " + r.value_text(key) +
                       ", the behaviour the run had before the key existed");
    model->load_state(c.state);
    pos = c.position;
    log.write("resume", {{"checkpoint", latest->filename().string()}, {"epoch", pos.epoch}, {"step", pos.step}});
    say(console, "  resuming from " + latest->string());
  } else {
    log.write("start", {{"name", r.string("name")},
                        {"model", type},
                        {"device", device.str()},
                        {"recipe_sha256", r.digest()},
                        {"train_rows", data.split.train.size()},
                        {"valid_rows", data.split.valid.size()},
                        {"test_rows", data.split.test.size()},
                        {"users", td.num_users},
                        {"items", td.num_items},
                        {"ranks", comm->world_size()},
                        {"dist_backend", comm->backend()},
                        {"deterministic", deterministic()},
                        {"version", AISLE_VERSION}});
  }

  const StopSignals signals;
  g_stop_requested = 0;
  Progress progress(lead ? o.progress : nullptr, r.number("train.log_every"));
  const double log_every = r.number("train.log_every");
  const int64_t steps = model->steps_per_epoch();
  std::string status = "completed";
  double session_train_seconds = 0;

  auto position_now = [&] {
    TrainerPosition p = pos;
    p.elapsed_seconds = pos.elapsed_seconds + session_train_seconds;
    return p;
  };
  auto checkpoint_here = [&] {
    const fs::path dir =
        write_checkpoint(checkpoints, checkpoint_name(pos.epoch, pos.step), *model, position_now(), comm.get());
    if (lead) prune_checkpoints(checkpoints, keep);
    log.write("checkpoint", {{"dir", dir.string()}, {"epoch", pos.epoch}, {"step", pos.step}});
    return dir;
  };

  while (pos.epoch < epochs) {
    const int64_t epoch = pos.epoch;
    const auto epoch_start = Clock::now();
    const double seconds_before = pos.epoch_seconds;
    auto last_log = Clock::now();
    bool diverged = false;
    StepReport bad_step;
    const StepFn on_step = [&](const StepReport& s) {
      if (model->iterative() && !std::isfinite(s.loss)) {
        diverged = true;
        bad_step = s;
        return false;
      }
      if (std::isfinite(s.loss)) pos.epoch_loss_sum += s.loss * static_cast<double>(s.examples);
      pos.epoch_examples += s.examples;
      pos.step = s.step + 1;
      pos.epoch_seconds = seconds_before + seconds_since(epoch_start);
      const double rate = pos.epoch_seconds > 0 ? static_cast<double>(pos.epoch_examples) / pos.epoch_seconds : 0;
      const double per_step = pos.epoch_seconds / static_cast<double>(pos.step);
      const double eta = per_step * static_cast<double>((epochs - epoch) * steps - pos.step);
      progress.update(epoch, epochs, s.step, s.steps, s.loss, rate, eta);
      if (seconds_since(last_log) >= log_every && log_every > 0) {
        last_log = Clock::now();
        log.write("step", {{"epoch", epoch}, {"step", s.step}, {"steps", s.steps},
                           {"loss", std::isfinite(s.loss) ? json(s.loss) : json(nullptr)}, {"examples_per_s", rate}});
      }
      if (o.on_step) o.on_step(epoch, s);
      // A signal reaches ranks at different moments: they stop together, at the same step.
      if (several) return comm->all_reduce_scalar(g_stop_requested, dist::ReduceOp::max) == 0;
      return g_stop_requested == 0;
    };
    if (pos.step < steps) model->train_steps(epoch, pos.step, on_step);
    progress.finish_line();
    session_train_seconds += seconds_since(epoch_start);

    if (diverged) {
      const auto latest = latest_checkpoint(checkpoints);
      const std::string kept = latest ? latest->string() : std::string("none (no checkpoint was written yet)");
      log.write("diverged", {{"epoch", epoch}, {"step", bad_step.step}});
      throw TrainingDiverged(detail::concat(
          "training diverged: the loss is ", bad_step.loss, " at epoch ", epoch + 1, " step ", bad_step.step + 1,
          "; the last good checkpoint is ", kept, ". Lower train.lr or raise the regularisation, then start over (--force) "
          "or resume from the checkpoint (--resume)"));
    }
    if (pos.step < steps) {  // stopped by a signal inside the epoch
      const std::string where = o.write_checkpoints ? "; checkpoint " + checkpoint_here().string() + " (continue with --resume)"
                                                    : "; no checkpoint (this run writes none)";
      log.write("stop", {{"epoch", epoch}, {"step", pos.step}});
      say(console, "stopped at epoch " + std::to_string(epoch + 1) + " step " + std::to_string(pos.step) + where);
      status = "stopped";
      break;
    }

    // Models fitted in one pass (counts, similarities) report no loss.
    const double loss = model->iterative() && pos.epoch_examples > 0
                            ? pos.epoch_loss_sum / static_cast<double>(pos.epoch_examples) : NAN;
    const double rate = pos.epoch_seconds > 0 ? static_cast<double>(pos.epoch_examples) / pos.epoch_seconds : 0;
    log.write("epoch", {{"epoch", epoch}, {"loss", std::isfinite(loss) ? json(loss) : json(nullptr)},
                        {"seconds", pos.epoch_seconds}, {"examples", pos.epoch_examples}, {"examples_per_s", rate}});
    char loss_text[32] = "-";
    if (std::isfinite(loss)) std::snprintf(loss_text, sizeof loss_text, "%.5f", loss);
    char line[160];
    std::snprintf(line, sizeof line, "epoch %lld/%lld  loss %s  %.2f s  %.0f examples/s",
                  static_cast<long long>(epoch + 1), static_cast<long long>(epochs), loss_text, pos.epoch_seconds, rate);
    std::string text = line;
    pos.epoch += 1;
    pos.step = 0;
    pos.epoch_loss_sum = 0;
    pos.epoch_examples = 0;
    pos.epoch_seconds = 0;
    result.epochs_completed = pos.epoch;

    bool stop_early = false;
    const bool last = pos.epoch == epochs;
    if (eval_every > 0 && monitor.size() > 0 && (pos.epoch % eval_every == 0 || last)) {
      const auto eval_start = Clock::now();
      const std::unique_ptr<Model> copy = several ? serving_copy() : nullptr;
      Tensor better_flag = Tensor::zeros({1}, DType::i64);
      if (lead) {
        const eval::EvalResult ev = evaluate_model(copy ? *copy : *model, eval_cfg, *data.train_index, monitor);
        log.write("eval", {{"epoch", epoch}, {"split", monitor_name}, {"metrics", metrics_json(ev.metrics)},
                           {"users", ev.users}, {"cases", ev.cases}, {"seconds", seconds_since(eval_start)}});
        text += std::string("  |  ") + monitor_name + shown_metrics(ev, eval_cfg.shown);
        pos.last_eval_json = metrics_json(ev.metrics).dump();
        if (!watch.empty()) {
          const double value = ev.at(watch);
          const bool better =
              pos.best_epoch < 0 || (higher_is_better(watch) ? value > pos.best_value : value < pos.best_value);
          if (better) pos.best_value = value;
          better_flag.data<int64_t>()[0] = better ? 1 : 0;
        }
      }
      comm->broadcast(better_flag, 0);  // every rank takes the lead's early-stopping decisions
      if (!watch.empty()) {
        if (better_flag.data<int64_t>()[0] != 0) {
          pos.best_epoch = epoch;
          pos.evals_without_improvement = 0;
          write_checkpoint(checkpoints, "best", *model, position_now(), comm.get());
        } else if (++pos.evals_without_improvement >= patience) {
          stop_early = true;
        }
      }
    }
    say(console, text);
    if (stop_early) {
      log.write("early_stop", {{"epoch", epoch}, {"metric", watch}, {"best_epoch", pos.best_epoch},
                               {"best_value", pos.best_value}});
      say(console, "early stopping: " + watch + " has not improved for " + std::to_string(patience) +
                         " evaluations; best epoch " + std::to_string(pos.best_epoch + 1));
      status = "early_stopped";
    }
    const bool stop_now =
        several ? comm->all_reduce_scalar(g_stop_requested, dist::ReduceOp::max) != 0 : g_stop_requested != 0;
    if (o.write_checkpoints &&
        (last || stop_early || stop_now || (checkpoint_every > 0 && pos.epoch % checkpoint_every == 0)))
      checkpoint_here();
    if (stop_early) break;
    if (stop_now && !last) {
      log.write("stop", {{"epoch", pos.epoch}, {"step", 0}});
      say(console, "stopped after epoch " + std::to_string(pos.epoch) +
                       (o.write_checkpoints ? " (continue with --resume)" : "; no checkpoint (this run writes none)"));
      status = "stopped";
      break;
    }
  }

  result.status = status;
  result.best_epoch = pos.best_epoch;
  result.epochs_completed = pos.epoch;
  if (has_valid) result.valid_metrics = metrics_from_json(pos.last_eval_json);
  if (status != "stopped") {
    if (pos.best_epoch >= 0 && pos.best_epoch + 1 != pos.epoch) {
      const LoadedCheckpoint best = read_checkpoint(checkpoints / "best", model->state_sharding());
      model->load_state(best.state);
      result.valid_metrics = metrics_from_json(best.position.last_eval_json);
      say(console, "restored the best epoch (" + std::to_string(pos.best_epoch + 1) + ") for testing and export");
    }
    const std::unique_ptr<Model> copy =
        several && (data.split.test.size() > 0 || !r.string("export.dir").empty()) ? serving_copy() : nullptr;
    const Model& final_model = copy ? *copy : *model;
    if (data.split.test.size() > 0 && lead) {
      const auto eval_start = Clock::now();
      const eval::EvalResult ev = evaluate_model(final_model, eval_cfg, *data.train_index, data.split.test);
      result.test_metrics = ev.metrics;
      log.write("eval", {{"epoch", pos.best_epoch >= 0 ? pos.best_epoch : pos.epoch - 1}, {"split", "test"},
                         {"final", true}, {"metrics", metrics_json(ev.metrics)}, {"users", ev.users}, {"cases", ev.cases},
                         {"seconds", seconds_since(eval_start)}});
      say(console, "test" + shown_metrics(ev, eval_cfg.shown) + "  (" + std::to_string(ev.users) + " users)");
    }
    if (!r.string("export.dir").empty() && lead) {
      ExportRequest req;
      req.model = &final_model;
      req.user_ids = data.dataset.user_ids();
      req.item_ids = data.dataset.item_ids();
      req.seen = data.train_index.get();
      req.metrics = result.test_metrics;
      req.dir = r.string("export.dir");
      req.overwrite = r.boolean("export.overwrite");
      export_artifact(req);
      result.artifact = req.dir;
      log.write("export", {{"dir", req.dir.string()}});
      say(console, "artifact written to " + req.dir.string());
    }
  }
  result.wall_seconds = seconds_since(wall_start);
  const json summary = {{"name", r.string("name")},
                        {"status", status},
                        {"model", type},
                        {"hyperparameters", json::parse(model->hyperparameters_json())},
                        {"device", device.str()},
                        {"ranks", comm->world_size()},
                        {"epochs_completed", pos.epoch},
                        {"epochs", epochs},
                        {"best_epoch", pos.best_epoch >= 0 ? json(pos.best_epoch) : json(nullptr)},
                        {"test_metrics", metrics_json(result.test_metrics)},
                        {"valid_metrics", metrics_json(result.valid_metrics)},
                        {"train_seconds", pos.elapsed_seconds + session_train_seconds},
                        {"wall_seconds", result.wall_seconds},
                        {"version", AISLE_VERSION},
                        {"recipe_sha256", r.digest()},
                        {"artifact", result.artifact.string()}};
  if (lead) io::detail::write_file_atomically(run_dir / "summary.json", summary.dump(2) + "\n");
  log.write("end", {{"status", status}, {"wall_seconds", result.wall_seconds}});
  comm->barrier();  // the run is complete on disk before any rank returns
  return result;
}

}  // namespace aisle::train
