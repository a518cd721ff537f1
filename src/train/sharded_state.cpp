#include "src/train/sharded_state.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "aisle/core/error.hpp"

namespace aisle::train {
namespace fs = std::filesystem;

fs::path shard_dir(const fs::path& checkpoints_dir, const std::string& name, int rank) {
  const fs::path all = checkpoints_dir / kShardsDir / name;
  if (rank < 0) return all;
  char leaf[32];
  std::snprintf(leaf, sizeof leaf, "rank-%05d", rank);
  return all / leaf;
}

namespace {

// A tensor's rows, wherever they are: one whole tensor, or modulo shards of an earlier run.
struct RowSource {
  std::vector<Tensor> pieces;  // one whole tensor, or shard k of `pieces.size()` ranks
  int64_t rows = 0;

  const char* row(int64_t g, size_t row_bytes) const {
    const auto world = static_cast<int64_t>(pieces.size());
    const Tensor& t = pieces[static_cast<size_t>(g % world)];
    return static_cast<const char*>(t.raw_data()) + static_cast<size_t>(g / world) * row_bytes;
  }
};

Tensor take_rows(const std::string& name, const RowSource& source, const dist::RowSharding* cut) {
  const Tensor& first = source.pieces.front();
  if (!cut && source.pieces.size() == 1) return first;
  AISLE_CHECK(first.dim() >= 1, "checkpoint tensor '", name, "' is a scalar and cannot be cut into rows");
  if (cut)
    AISLE_CHECK(cut->rows == source.rows, "checkpoint tensor '", name, "' has ", source.rows, " rows, the model "
                "expects ", cut->rows, " (was the run trained on other data?)");
  Shape shape = first.shape();
  shape[0] = cut ? cut->local_rows() : source.rows;
  Tensor out = Tensor::empty(shape, first.dtype(), Device::cpu());
  const size_t row_bytes = static_cast<size_t>(shape_numel(Shape(shape.begin() + 1, shape.end()))) *
                           dtype_size(first.dtype());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t l = 0; row_bytes > 0 && l < shape[0]; ++l) {
    const int64_t g = cut ? cut->global_row(l, cut->rank) : l;
    std::memcpy(dst + static_cast<size_t>(l) * row_bytes, source.row(g, row_bytes), row_bytes);
  }
  return out;
}

}  // namespace

std::map<std::string, Tensor> read_sharded_state(const io::ArtifactReader& reader, const fs::path& dir,
                                                 const std::map<std::string, dist::RowSharding>& cut_for) {
  std::map<std::string, RowSource> sources;
  for (const auto& [name, t] : reader.tensors()) sources[name] = RowSource{{t}, t.dim() >= 1 ? t.size(0) : 1};

  if (fs::exists(dir / kShardingFile)) {
    std::ifstream in(reader.file(kShardingFile));  // listed in the manifest and checksummed
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text.str());
      j.at("world").get<int64_t>();
      j.at("shards").get<std::string>();
      j.at("tensors").items();
    } catch (const nlohmann::json::exception& e) {
      throw ArtifactError(aisle::detail::concat((dir / kShardingFile).string(), ": not a sharding description: ", e.what()));
    }
    const int64_t world = j.at("world").get<int64_t>();
    if (world < 1) throw ArtifactError(aisle::detail::concat((dir / kShardingFile).string(), ": world ", world));
    std::vector<io::ArtifactReader> shards;
    for (int64_t k = 0; k < world; ++k) {
      char leaf[32];
      std::snprintf(leaf, sizeof leaf, "rank-%05lld", static_cast<long long>(k));
      shards.push_back(io::ArtifactReader::open(dir.parent_path() / j.at("shards").get<std::string>() / leaf));
    }
    for (const auto& [name, info] : j.at("tensors").items()) {
      const int64_t rows = info.at("rows").get<int64_t>();
      RowSource source{{}, rows};
      for (int64_t k = 0; k < world; ++k) {
        const auto& tensors = shards[static_cast<size_t>(k)].tensors();
        const auto it = tensors.find(name);
        const dist::RowSharding cut{rows, world, static_cast<int>(k)};
        if (it == tensors.end() || it->second.dim() < 1 || it->second.size(0) != cut.local_rows() ||
            (k > 0 && (it->second.dtype() != source.pieces[0].dtype() ||
                       Shape(it->second.shape().begin() + 1, it->second.shape().end()) !=
                           Shape(source.pieces[0].shape().begin() + 1, source.pieces[0].shape().end()))))
          throw ArtifactError(aisle::detail::concat(
              shards[static_cast<size_t>(k)].dir().string(), ": shard ", k, " of ", world, " lacks tensor '", name,
              "' with ", cut.local_rows(), " rows of the others' shape (", (it == tensors.end() ? std::string("missing")
                                                                        : it->second.describe()), ")"));
        source.pieces.push_back(it->second);
      }
      sources[name] = std::move(source);
    }
  }

  std::map<std::string, Tensor> state;
  for (const auto& [name, source] : sources) {
    const auto cut = cut_for.find(name);
    state.emplace(name, take_rows(name, source, cut == cut_for.end() ? nullptr : &cut->second));
  }
  return state;
}

}  // namespace aisle::train
