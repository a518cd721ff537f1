#include "aisle/train/checkpoint.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/io/artifact_reader.hpp"
#include "aisle/io/artifact_writer.hpp"
#include "src/train/sharded_state.hpp"

namespace aisle::train {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json position_json(const TrainerPosition& p) {
  return json{{"epoch", p.epoch},
              {"step", p.step},
              {"epoch_loss_sum", p.epoch_loss_sum},
              {"epoch_examples", p.epoch_examples},
              {"epoch_seconds", p.epoch_seconds},
              {"best_value", p.best_value},
              {"best_epoch", p.best_epoch},
              {"evals_without_improvement", p.evals_without_improvement},
              {"elapsed_seconds", p.elapsed_seconds},
              {"recipe_sha256", p.recipe_sha256},
              {"last_eval", json::parse(p.last_eval_json)}};
}

std::vector<fs::path> epoch_checkpoints(const fs::path& dir) {
  std::vector<fs::path> found;
  if (!fs::is_directory(dir)) return found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("epoch-", 0) == 0 && fs::exists(entry.path() / "manifest.json"))
      found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());  // names are zero-padded: lexical order is run order
  return found;
}

}  // namespace

std::string checkpoint_name(int64_t epoch, int64_t step) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "epoch-%04lld-step-%08lld", static_cast<long long>(epoch), static_cast<long long>(step));
  return buf;
}

fs::path write_checkpoint(const fs::path& checkpoints_dir, const std::string& name, const Model& model,
                          const TrainerPosition& position, dist::Communicator* comm) {
  const bool lead = comm == nullptr || comm->rank() == 0;
  const bool several = comm != nullptr && comm->world_size() > 1;
  if (lead) fs::create_directories(checkpoints_dir);
  const fs::path dir = checkpoints_dir / name;
  std::map<std::string, Tensor> state = model.state();
  const std::map<std::string, dist::RowSharding> sharding = several ? model.state_sharding() : decltype(sharding){};
  nlohmann::ordered_json shards = nlohmann::ordered_json::object();
  if (!sharding.empty()) {
    std::map<std::string, Tensor> mine;
    for (const auto& [tensor_name, cut] : sharding) {
      const auto it = state.find(tensor_name);
      AISLE_CHECK(it != state.end(), "checkpoint: the model names '", tensor_name, "' as sharded but its state() has "
                  "no such tensor");
      mine.emplace(tensor_name, it->second);
      shards[tensor_name] = {{"rows", cut.rows}, {"scheme", cut.scheme()}};
      state.erase(it);
    }
    std::error_code ignored;  // ranks create the shared parent concurrently
    fs::create_directories(shard_dir(checkpoints_dir, name, -1), ignored);
    io::ArtifactWriter w(shard_dir(checkpoints_dir, name, comm->rank()), /*overwrite=*/true);
    w.set_model(model.type(), model.hyperparameters_json(), model.dimensions());
    w.write_weights(mine, {{"aisle", "checkpoint-shard"}});
    w.finish();
  }
  if (several) comm->barrier();  // every shard is in place before the directory naming them appears
  if (lead) {
    io::ArtifactWriter w(dir, /*overwrite=*/true);
    w.set_model(model.type(), model.hyperparameters_json(), model.dimensions());
    w.write_weights(state, {{"aisle", "checkpoint"}});
    w.write_file("trainer.json", position_json(position).dump(2) + "\n");
    if (!sharding.empty()) {
      const nlohmann::ordered_json j = {{"world", comm->world_size()}, {"shards", shard_dir(fs::path(), name, -1).string()},
                                        {"tensors", shards}};
      w.write_file(kShardingFile, j.dump(2) + "\n");
    }
    w.finish();
  }
  if (several) comm->barrier();  // nobody prunes or reads before the checkpoint is complete
  return dir;
}

std::optional<fs::path> latest_checkpoint(const fs::path& checkpoints_dir) {
  const auto all = epoch_checkpoints(checkpoints_dir);
  if (all.empty()) return std::nullopt;
  return all.back();
}

LoadedCheckpoint read_checkpoint(const fs::path& dir, const std::map<std::string, dist::RowSharding>& cut_for) {
  const io::ArtifactReader reader = io::ArtifactReader::open(dir);
  LoadedCheckpoint c;
  c.dir = dir;
  c.state = read_sharded_state(reader, dir, cut_for);
  std::ifstream in(reader.file("trainer.json"));
  std::stringstream text;
  text << in.rdbuf();
  try {
    const json j = json::parse(text.str());
    TrainerPosition& p = c.position;
    p.epoch = j.at("epoch").get<int64_t>();
    p.step = j.at("step").get<int64_t>();
    p.epoch_loss_sum = j.at("epoch_loss_sum").get<double>();
    p.epoch_examples = j.at("epoch_examples").get<int64_t>();
    p.epoch_seconds = j.at("epoch_seconds").get<double>();
    p.best_value = j.at("best_value").is_null() ? 0.0 : j.at("best_value").get<double>();
    p.best_epoch = j.at("best_epoch").get<int64_t>();
    p.evals_without_improvement = j.at("evals_without_improvement").get<int64_t>();
    p.elapsed_seconds = j.at("elapsed_seconds").get<double>();
    p.recipe_sha256 = j.at("recipe_sha256").get<std::string>();
    p.last_eval_json = j.at("last_eval").dump();
  } catch (const json::exception& e) {
    throw ArtifactError(detail::concat((dir / "trainer.json").string(), ": not a trainer position: ", e.what()));
  }
  return c;
}

void prune_checkpoints(const fs::path& checkpoints_dir, int64_t keep) {
  auto all = epoch_checkpoints(checkpoints_dir);
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) {
    fs::remove_all(all[i]);
    fs::remove_all(checkpoints_dir / kShardsDir / all[i].filename());
  }
}

}  // namespace aisle::train
