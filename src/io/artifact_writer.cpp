#include "aisle/io/artifact_writer.hpp"

#include <fcntl.h>
#include <stdio.h>  // renameat2

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <vector>

#include "aisle/config.hpp"
#include "aisle/data/dataset.hpp"
#include "aisle/io/id_map_file.hpp"
#include "aisle/io/safetensors.hpp"
#include "src/io/atomic_file.hpp"

namespace aisle::io {

namespace fs = std::filesystem;

struct ArtifactWriter::State {
  fs::path dir, tmp;
  bool overwrite = false, finished = false;
  Manifest manifest;
  std::set<std::string> paths;
};

namespace {

// What overwrite may replace: an artifact, or an empty directory made for one.
bool replaceable(const fs::path& dir) {
  return fs::is_directory(dir) && (fs::is_empty(dir) || fs::is_regular_file(dir / kManifestFile));
}

void check_destination(const fs::path& dir, bool overwrite) {
  if (!fs::exists(dir)) return;
  AISLE_CHECK(overwrite, dir.string(), ": already exists (choose another directory, or ask to overwrite it)");
  AISLE_CHECK(replaceable(dir), dir.string(), ": exists and is not an Aisle artifact (no ", kManifestFile,
              "); refusing to replace it");
}

bool renameat2_unsupported(int err) { return err == EINVAL || err == ENOSYS || err == ENOTSUP; }

// Moves the finished temporary directory to `dir`. An existing artifact is swapped out in one
// step (RENAME_EXCHANGE), so readers see the old or the new artifact, never neither; file systems
// without renameat2 fall back to two renames.
void install(const fs::path& tmp, const fs::path& dir, bool overwrite) {
  check_destination(dir, overwrite);
  if (!fs::exists(dir)) {
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_NOREPLACE) != 0) {
      const int err = errno;
      AISLE_CHECK(err != EEXIST, dir.string(), ": appeared while the artifact was being written; not replacing it");
      AISLE_CHECK(renameat2_unsupported(err), dir.string(), ": cannot move the artifact into place: ", std::strerror(err));
      fs::rename(tmp, dir);
    }
    return;
  }
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(tmp);  // now the old artifact
    return;
  }
  const int err = errno;
  AISLE_CHECK(renameat2_unsupported(err), dir.string(), ": cannot replace the artifact: ", std::strerror(err));
  const fs::path old = tmp.string() + ".old";
  fs::rename(dir, old);
  fs::rename(tmp, dir);
  fs::remove_all(old);
}

}  // namespace

ArtifactWriter::ArtifactWriter(fs::path dir, bool overwrite) : s_(std::make_unique<State>()) {
  AISLE_CHECK(!dir.empty(), "artifact writer: empty output path");
  s_->dir = fs::absolute(dir).lexically_normal();
  if (s_->dir.filename().empty()) s_->dir = s_->dir.parent_path();
  s_->overwrite = overwrite;
  check_destination(s_->dir, overwrite);
  AISLE_CHECK(fs::is_directory(s_->dir.parent_path()), s_->dir.parent_path().string(),
              ": the parent directory of the artifact does not exist");
  s_->tmp = detail::temp_sibling(s_->dir);
  std::error_code ec;
  fs::create_directory(s_->tmp, ec);
  AISLE_CHECK(!ec, s_->tmp.string(), ": cannot create the artifact's temporary directory: ", ec.message());
  s_->manifest.aisle_version = AISLE_VERSION;
#ifdef AISLE_GIT_COMMIT
  s_->manifest.git_commit = AISLE_GIT_COMMIT;
#endif
}

ArtifactWriter::~ArtifactWriter() {
  if (s_ && !s_->finished) {
    std::error_code ec;
    fs::remove_all(s_->tmp, ec);
  }
}

const fs::path& ArtifactWriter::dir() const { return s_->dir; }

fs::path ArtifactWriter::claim(const std::string& path) {
  AISLE_CHECK(!s_->finished, "artifact writer: ", s_->dir.string(), " is already finished");
  check_artifact_path(path, "artifact writer");
  AISLE_CHECK(s_->paths.insert(path).second, "artifact writer: '", path, "' was already written");
  const fs::path full = s_->tmp / path;
  std::error_code ec;
  fs::create_directories(full.parent_path(), ec);
  AISLE_CHECK(!ec, full.parent_path().string(), ": cannot create: ", ec.message());
  return full;
}

void ArtifactWriter::set_model(std::string type, std::string_view hyperparameters_json,
                               std::map<std::string, int64_t> dimensions) {
  AISLE_CHECK(!type.empty(), "artifact writer: empty model type");
  Manifest probe;
  probe.hyperparameters = hyperparameters_json;
  probe.to_json();  // rejects text that is not a JSON object now, not at finish()
  s_->manifest.model_type = std::move(type);
  s_->manifest.hyperparameters = std::move(probe.hyperparameters);
  s_->manifest.dimensions = std::move(dimensions);
}

void ArtifactWriter::set_metrics(std::map<std::string, double> metrics) { s_->manifest.metrics = std::move(metrics); }

void ArtifactWriter::write_weights(const std::map<std::string, Tensor>& tensors,
                                   const std::map<std::string, std::string>& metadata) {
  write_tensors("weights.safetensors", tensors, metadata);
  s_->manifest.weights = "weights.safetensors";
}

void ArtifactWriter::write_id_map(const std::string& role, const data::IdMap& map) {
  AISLE_CHECK(!role.empty() && role.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos,
              "artifact writer: id map role must be [a-z0-9_]+, got '", role, "'");
  const std::string path = role + ".ids.safetensors";
  io::write_id_map(claim(path), map);
  s_->manifest.id_maps[role] = path;
}

void ArtifactWriter::write_tensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                                   const std::map<std::string, std::string>& metadata) {
  write_safetensors(claim(path), tensors, metadata);
}

void ArtifactWriter::write_file(const std::string& path, std::string_view contents) {
  detail::write_file_atomically(claim(path), contents);
}

void ArtifactWriter::copy_file(const std::string& path, const fs::path& source) {
  std::ifstream in(source, std::ios::binary);
  AISLE_CHECK(in, source.string(), ": cannot open: ", std::strerror(errno));
  detail::AtomicFile out(claim(path));
  std::vector<char> buffer(size_t{1} << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    out.write(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  AISLE_CHECK(in.eof(), source.string(), ": read error");
  out.commit();
}

void ArtifactWriter::finish() {
  State& s = *s_;
  AISLE_CHECK(!s.finished, "artifact writer: ", s.dir.string(), " is already finished");
  AISLE_CHECK(!s.manifest.model_type.empty(), "artifact writer: set_model() was not called for ", s.dir.string());
  s.manifest.files.clear();
  for (const std::string& path : s.paths)  // std::set: sorted by path
    s.manifest.files.push_back({path, fs::file_size(s.tmp / path), data::sha256_file(s.tmp / path)});
  detail::write_file_atomically(s.tmp / kManifestFile, s.manifest.to_json());
  install(s.tmp, s.dir, s.overwrite);
  s.finished = true;
  detail::fsync_directory(s.dir.parent_path());
}

}  // namespace aisle::io
