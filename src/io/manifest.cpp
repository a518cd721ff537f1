#include "aisle/io/manifest.hpp"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "aisle/core/error.hpp"

namespace aisle::io {

using nlohmann::json;
using nlohmann::ordered_json;

void check_artifact_path(std::string_view path, const std::string& where) {
  AISLE_ARTIFACT_CHECK(!path.empty() && path.front() != '/', where, ": '", path,
                       "' is not a relative path inside the artifact");
  size_t begin = 0;
  while (begin <= path.size()) {
    const size_t end = std::min(path.find('/', begin), path.size());
    const std::string_view part = path.substr(begin, end - begin);
    AISLE_ARTIFACT_CHECK(!part.empty() && part != "." && part != "..", where, ": '", path,
                         "' is not a plain relative path (empty, '.' or '..' component)");
    begin = end + 1;
  }
  AISLE_ARTIFACT_CHECK(path != kManifestFile, where, ": '", path, "' is reserved for the manifest");
}

std::string Manifest::to_json() const {
  ordered_json hyper;
  try {
    hyper = ordered_json::parse(hyperparameters);
  } catch (const json::parse_error& e) {
    AISLE_FAIL("artifact manifest: hyperparameters are not valid JSON: ", e.what());
  }
  AISLE_CHECK(hyper.is_object(), "artifact manifest: hyperparameters must be a JSON object, got ", hyper.type_name());
  ordered_json model{{"type", model_type}, {"hyperparameters", hyper}, {"dimensions", dimensions}};
  ordered_json m{{"format", std::string(kArtifactFormat)}, {"format_version", kArtifactFormatVersion}, {"model", model}};
  if (!weights.empty()) m["weights"] = weights;
  m["id_maps"] = id_maps;
  ordered_json metric_values = ordered_json::object();
  for (const auto& [name, value] : metrics)
    metric_values[name] = std::isfinite(value) ? ordered_json(value) : ordered_json(nullptr);
  m["metrics"] = metric_values;
  ordered_json producer{{"name", "aisle"}, {"version", aisle_version}};
  if (!git_commit.empty()) producer["git_commit"] = git_commit;
  m["produced_by"] = producer;
  ordered_json list = ordered_json::array();
  for (const ArtifactFile& f : files) list.push_back({{"path", f.path}, {"bytes", f.bytes}, {"sha256", f.sha256}});
  m["files"] = list;
  try {
    return m.dump(2) + "\n";
  } catch (const json::exception& e) {
    AISLE_FAIL("artifact manifest: names must be valid UTF-8 (", e.what(), ")");
  }
}

namespace {

// Field access that names the offending key path in every error.
struct Reader {
  const std::string& where;

  const json& at(const json& j, const char* key, const std::string& path) const {
    AISLE_ARTIFACT_CHECK(j.contains(key), where, ": missing field '", path, "'");
    return j.at(key);
  }
  const json& object(const json& j, const char* key, const std::string& path) const {
    const json& v = at(j, key, path);
    AISLE_ARTIFACT_CHECK(v.is_object(), where, ": field '", path, "' must be an object, got ", v.type_name());
    return v;
  }
  std::string string(const json& v, const std::string& path) const {
    AISLE_ARTIFACT_CHECK(v.is_string(), where, ": field '", path, "' must be a string, got ", v.type_name());
    return v.get<std::string>();
  }
};

bool is_sha256(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

Manifest Manifest::parse(std::string_view text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    AISLE_ARTIFACT_FAIL(where, ": invalid JSON: ", e.what());
  }
  const Reader r{where};
  const bool tagged = j.is_object() && j.contains("format") && j["format"].is_string() &&
                      j["format"].get<std::string>() == kArtifactFormat;
  AISLE_ARTIFACT_CHECK(tagged, where,
                       ": not an Aisle artifact manifest (its \"format\" is not \"", kArtifactFormat, "\")");
  const json& version = r.at(j, "format_version", "format_version");
  AISLE_ARTIFACT_CHECK(version.is_number_integer(), where, ": field 'format_version' must be an integer");
  AISLE_ARTIFACT_CHECK(version.get<int64_t>() == kArtifactFormatVersion, where, ": artifact format version ",
                       version.get<int64_t>(), " is not supported by this Aisle (it reads version ",
                       kArtifactFormatVersion, ")");
  Manifest m;
  const json& model = r.object(j, "model", "model");
  m.model_type = r.string(r.at(model, "type", "model.type"), "model.type");
  AISLE_ARTIFACT_CHECK(!m.model_type.empty(), where, ": field 'model.type' is empty");
  m.hyperparameters = r.object(model, "hyperparameters", "model.hyperparameters").dump();
  for (const auto& [name, v] : r.object(model, "dimensions", "model.dimensions").items()) {
    AISLE_ARTIFACT_CHECK(v.is_number_integer(), where, ": field 'model.dimensions.", name, "' must be an integer");
    m.dimensions[name] = v.get<int64_t>();
  }
  for (const auto& [role, v] : r.object(j, "id_maps", "id_maps").items()) m.id_maps[role] = r.string(v, "id_maps." + role);
  for (const auto& [name, v] : r.object(j, "metrics", "metrics").items()) {
    AISLE_ARTIFACT_CHECK(v.is_number() || v.is_null(), where, ": field 'metrics.", name, "' must be a number or null");
    m.metrics[name] = v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
  }
  const json& producer = r.object(j, "produced_by", "produced_by");
  m.aisle_version = r.string(r.at(producer, "version", "produced_by.version"), "produced_by.version");
  if (producer.contains("git_commit")) m.git_commit = r.string(producer["git_commit"], "produced_by.git_commit");

  const json& files = r.at(j, "files", "files");
  AISLE_ARTIFACT_CHECK(files.is_array(), where, ": field 'files' must be an array");
  std::set<std::string> listed;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string at = "files[" + std::to_string(i) + "]";
    const json& f = files[i];
    AISLE_ARTIFACT_CHECK(f.is_object(), where, ": '", at, "' must be an object");
    ArtifactFile file{r.string(r.at(f, "path", at + ".path"), at + ".path"), 0,
                      r.string(r.at(f, "sha256", at + ".sha256"), at + ".sha256")};
    const json& bytes = r.at(f, "bytes", at + ".bytes");
    AISLE_ARTIFACT_CHECK(bytes.is_number_unsigned(), where, ": field '", at, ".bytes' must be a non-negative integer");
    file.bytes = bytes.get<uint64_t>();
    check_artifact_path(file.path, where);
    AISLE_ARTIFACT_CHECK(is_sha256(file.sha256), where, ": '", file.path, "': sha256 '", file.sha256,
                         "' is not 64 lowercase hex digits");
    AISLE_ARTIFACT_CHECK(listed.insert(file.path).second, where, ": '", file.path, "' is listed twice in 'files'");
    m.files.push_back(std::move(file));
  }
  auto must_be_listed = [&](const std::string& path, const std::string& field) {
    AISLE_ARTIFACT_CHECK(listed.count(path), where, ": field '", field, "' names '", path,
                         "', which 'files' does not list");
  };
  if (j.contains("weights")) {
    m.weights = r.string(j["weights"], "weights");
    must_be_listed(m.weights, "weights");
  }
  for (const auto& [role, path] : m.id_maps) must_be_listed(path, "id_maps." + role);
  return m;
}

}  // namespace aisle::io
