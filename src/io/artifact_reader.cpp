#include "aisle/io/artifact_reader.hpp"

#include <fstream>
#include <sstream>

#include "aisle/data/dataset.hpp"
#include "aisle/io/id_map_file.hpp"
#include "aisle/io/safetensors.hpp"

namespace aisle::io {

namespace fs = std::filesystem;

struct ArtifactReader::State {
  fs::path dir;
  std::string manifest_text;
  Manifest manifest;
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> weights_metadata;
  std::map<std::string, data::IdMap> id_maps;
};

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  AISLE_ARTIFACT_CHECK(in, path.string(), ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void verify(const fs::path& dir, const ArtifactFile& f) {
  const fs::path p = dir / f.path;
  std::error_code ec;
  AISLE_ARTIFACT_CHECK(fs::is_regular_file(p, ec), p.string(), ": listed in ", kManifestFile,
                       " but missing (incomplete copy of the artifact?)");
  const uintmax_t size = fs::file_size(p, ec);
  AISLE_ARTIFACT_CHECK(!ec && size == f.bytes, p.string(), ": ", size, " bytes, but ", kManifestFile, " records ",
                       f.bytes, (size < f.bytes ? " (truncated)" : " (changed)"));
  const std::string actual = data::sha256_file(p);
  AISLE_ARTIFACT_CHECK(actual == f.sha256, p.string(), ": checksum mismatch (sha256 ", actual, ", ", kManifestFile,
                       " records ", f.sha256, "): the file was changed or corrupted");
}

}  // namespace

ArtifactReader ArtifactReader::open(const fs::path& dir) {
  auto s = std::make_shared<State>();
  s->dir = dir;
  AISLE_ARTIFACT_CHECK(fs::is_directory(dir), dir.string(), ": no such artifact directory");
  const fs::path manifest_path = dir / kManifestFile;
  AISLE_ARTIFACT_CHECK(fs::is_regular_file(manifest_path), dir.string(), ": not an Aisle artifact (no ",
                       kManifestFile, ")");
  s->manifest_text = read_text(manifest_path);
  s->manifest = Manifest::parse(s->manifest_text, manifest_path.string());
  for (const ArtifactFile& f : s->manifest.files) verify(dir, f);
  if (!s->manifest.weights.empty()) {
    SafetensorsContents weights = read_safetensors(dir / s->manifest.weights);
    s->tensors = std::move(weights.tensors);
    s->weights_metadata = std::move(weights.metadata);
  }
  for (const auto& [role, path] : s->manifest.id_maps) s->id_maps[role] = read_id_map(dir / path);
  ArtifactReader r;
  r.state_ = std::move(s);
  return r;
}

const fs::path& ArtifactReader::dir() const { return state_->dir; }
const Manifest& ArtifactReader::manifest() const { return state_->manifest; }
const std::string& ArtifactReader::manifest_text() const { return state_->manifest_text; }
const std::map<std::string, Tensor>& ArtifactReader::tensors() const { return state_->tensors; }
const std::map<std::string, std::string>& ArtifactReader::weights_metadata() const { return state_->weights_metadata; }

const Tensor& ArtifactReader::tensor(const std::string& name) const {
  const auto it = state_->tensors.find(name);
  if (it != state_->tensors.end()) return it->second;
  std::string have;
  for (const auto& [n, t] : state_->tensors) have += (have.empty() ? "" : ", ") + n;
  AISLE_ARTIFACT_FAIL(state_->dir.string(), ": the weights have no tensor '", name, "' (they have: ",
                      have.empty() ? "none" : have, ")");
}

bool ArtifactReader::has_id_map(const std::string& role) const { return state_->id_maps.count(role) > 0; }

const data::IdMap& ArtifactReader::id_map(const std::string& role) const {
  const auto it = state_->id_maps.find(role);
  AISLE_ARTIFACT_CHECK(it != state_->id_maps.end(), state_->dir.string(), ": the artifact has no '", role, "' id map");
  return it->second;
}

int64_t ArtifactReader::dimension(const std::string& name) const {
  const auto it = state_->manifest.dimensions.find(name);
  AISLE_ARTIFACT_CHECK(it != state_->manifest.dimensions.end(), state_->dir.string(),
                       ": the manifest records no model dimension '", name, "'");
  return it->second;
}

fs::path ArtifactReader::file(const std::string& path) const {
  AISLE_ARTIFACT_CHECK(has_file(path), state_->dir.string(), ": '", path, "' is not a file of the artifact");
  return state_->dir / path;
}

bool ArtifactReader::has_file(const std::string& path) const {
  for (const ArtifactFile& f : state_->manifest.files)
    if (f.path == path) return true;
  return false;
}

std::string ArtifactReader::text(const std::string& path) const { return read_text(file(path)); }

}  // namespace aisle::io
