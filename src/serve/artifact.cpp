#include "aisle/serve/artifact.hpp"

#include <algorithm>
#include <filesystem>

#include "aisle/core/error.hpp"
#include "aisle/io/artifact_reader.hpp"
#include "aisle/io/safetensors.hpp"
#include "aisle/ops/mask_items.hpp"
#include "aisle/ops/sort.hpp"
#include "aisle/train/model_registry.hpp"

namespace aisle {

namespace fs = std::filesystem;

namespace {
constexpr const char* kSeenFile = "seen.safetensors";
}

struct Artifact::State {
  io::ArtifactReader reader;
  std::unique_ptr<train::Model> model;
  data::IdMap users, items;
  Tensor seen_offsets, seen_items;  // i64, CPU (over the mapped seen.safetensors)
  Device device;
};

namespace {

// seen.safetensors, validated: each user's item list must lie inside [0, items).
void read_seen(const io::ArtifactReader& reader, Tensor& offsets, Tensor& items,
               int64_t num_users, int64_t num_items) {
  const fs::path path = reader.file(kSeenFile);
  io::SafetensorsContents seen = io::read_safetensors(path);
  const auto get = [&](const char* name) -> Tensor {
    const auto it = seen.tensors.find(name);
    AISLE_ARTIFACT_CHECK(it != seen.tensors.end(), path.string(), ": no tensor '", name, "'");
    AISLE_ARTIFACT_CHECK(it->second.dtype() == DType::i64 && it->second.dim() == 1, path.string(), ": tensor '",
                         name, "' is ", it->second.describe(), ", expected 1-D i64");
    return it->second;
  };
  offsets = get("offsets");
  items = get("items");
  AISLE_ARTIFACT_CHECK(offsets.numel() == num_users + 1, path.string(), ": 'offsets' has ", offsets.numel(),
                       " entries for ", num_users, " users");
  const int64_t* off = offsets.data<int64_t>();
  const int64_t* it = items.data<int64_t>();
  AISLE_ARTIFACT_CHECK(off[0] == 0 && off[num_users] == items.numel(), path.string(),
                       ": 'offsets' must run from 0 to ", items.numel());
  for (int64_t u = 0; u < num_users; ++u)
    AISLE_ARTIFACT_CHECK(off[u] <= off[u + 1], path.string(), ": 'offsets' decreases at user ", u);
  for (int64_t e = 0; e < items.numel(); ++e)
    AISLE_ARTIFACT_CHECK(it[e] >= 0 && it[e] < num_items, path.string(), ": item ", it[e], " at ", e,
                         " is outside [0, ", num_items, ")");
}

}  // namespace

Artifact Artifact::load(const fs::path& dir, Device device) {
  auto s = std::make_shared<State>();
  s->reader = io::ArtifactReader::open(dir);
  s->device = device;
  const io::Manifest& manifest = s->reader.manifest();
  const std::string manifest_path = (dir / io::kManifestFile).string();

  try {
    s->model = train::create_model(manifest.model_type);
  } catch (const ArtifactError&) {
    throw;
  } catch (const Error& e) {
    AISLE_ARTIFACT_FAIL(manifest_path, ": ", e.what());
  }
  AISLE_ARTIFACT_CHECK(!manifest.weights.empty(), manifest_path, ": lists no weights file");
  const std::string weights_path = (dir / manifest.weights).string();
  try {
    s->model->load_weights(s->reader.tensors(), device);
  } catch (const Error& e) {
    AISLE_ARTIFACT_FAIL(weights_path, ": ", e.what());
  }

  s->users = s->reader.user_ids();
  s->items = s->reader.item_ids();
  const int64_t users = s->users.size(), items = s->items.size();
  // The manifest is not checksummed itself: a hand-edited size must still agree with the files.
  for (const auto& [name, size] : {std::pair<const char*, int64_t>{"users", users}, {"items", items}}) {
    const auto it = manifest.dimensions.find(name);
    AISLE_ARTIFACT_CHECK(it != manifest.dimensions.end() && it->second == size, manifest_path, ": dimension '",
                         name, "' is ", (it == manifest.dimensions.end() ? std::string("missing") : std::to_string(it->second)),
                         " but the ", name, " id map holds ", size, " ids");
  }
  for (const auto& [name, size] : s->model->dimensions()) {
    const auto it = manifest.dimensions.find(name);
    AISLE_ARTIFACT_CHECK(it == manifest.dimensions.end() || it->second == size, manifest_path, ": dimension '",
                         name, "' is ", it->second, " but ", weights_path, " holds ", size);
  }
  read_seen(s->reader, s->seen_offsets, s->seen_items, users, items);
  s->users.find("");  // builds the reverse index now, so that concurrent recommend() calls only read it

  Artifact a;
  a.state_ = std::move(s);
  return a;
}

std::vector<Recommendation> Artifact::recommend(const std::string& user, int64_t k, bool exclude_seen) const {
  const std::optional<int64_t> index = state_->users.find(user);
  AISLE_CHECK(index.has_value(), "unknown user '", user, "': artifact ", state_->reader.dir().string(),
              " has no such user (", num_users(), " users)");
  return recommend(*index, k, exclude_seen);
}

std::vector<Recommendation> Artifact::recommend(int64_t user_index, int64_t k, bool exclude_seen) const {
  const State& s = *state_;
  AISLE_CHECK(user_index >= 0 && user_index < num_users(), "user index ", user_index, " is outside [0, ",
              num_users(), ") of artifact ", s.reader.dir().string());
  AISLE_CHECK(k >= 0, "recommend: k must be non-negative, got ", k);
  Tensor scores = s.model->score_users(Tensor::from_vector(std::vector<int64_t>{user_index}, s.device));
  const int64_t begin = s.seen_offsets.data<int64_t>()[user_index];
  const int64_t end = s.seen_offsets.data<int64_t>()[user_index + 1];
  int64_t available = num_items();
  if (exclude_seen && end > begin) {
    const Tensor offsets = Tensor::from_vector(std::vector<int64_t>{0, end - begin}, s.device);
    ops::mask_items_(scores, offsets, s.seen_items.rows(begin, end).to(s.device));
    available -= end - begin;
  }
  const ops::TopK top = ops::topk(scores, std::min(k, available));
  const std::vector<int64_t> ids = top.indices.to_vector<int64_t>();
  const std::vector<double> values = top.values.to_doubles();
  std::vector<Recommendation> out;
  out.reserve(ids.size());
  for (size_t r = 0; r < ids.size(); ++r)
    out.push_back({s.items.external(ids[r]), ids[r], static_cast<float>(values[r])});
  return out;
}

const io::Manifest& Artifact::manifest() const { return state_->reader.manifest(); }
const train::Model& Artifact::model() const { return *state_->model; }
int64_t Artifact::num_users() const { return state_->users.size(); }
int64_t Artifact::num_items() const { return state_->items.size(); }

}  // namespace aisle
