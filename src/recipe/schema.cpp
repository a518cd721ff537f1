#include "aisle/recipe/schema.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "aisle/core/error.hpp"

namespace aisle::recipe {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::boolean: return "a boolean";
    case Kind::integer: return "an integer";
    case Kind::number: return "a number";
    case Kind::string: return "a string";
    case Kind::integers: return "a list of integers";
    case Kind::numbers: return "a list of numbers";
    case Kind::strings: return "a list of strings";
    case Kind::string_map: return "a mapping of names to values";
  }
  return "?";
}

Key& Schema::add(const std::string& path, Kind kind) {
  AISLE_CHECK(!find_base(path), "recipe schema: key '", path, "' declared twice");
  base_.emplace_back();
  base_.back().path = path;
  base_.back().kind = kind;
  return base_.back();
}

Key& Schema::add_variant(const std::string& discriminator, const std::string& value, const std::string& path,
                         Kind kind) {
  const Key* d = find_base(discriminator);
  AISLE_CHECK(d && d->kind == Kind::string, "recipe schema: discriminator '", discriminator,
              "' must be a string key declared before its variants");
  AISLE_CHECK(std::find(d->choices.begin(), d->choices.end(), value) != d->choices.end(), "recipe schema: '",
              discriminator, "' has no choice '", value, "'");
  variants_.push_back(Variant{discriminator, value, Key{}});
  variants_.back().key.path = path;
  variants_.back().key.kind = kind;
  return variants_.back().key;
}

std::vector<const Key*> Schema::active_keys(const std::map<std::string, std::string>& chosen) const {
  std::vector<const Key*> keys;
  for (const Key& k : base_) keys.push_back(&k);
  for (const Variant& v : variants_) {
    const auto it = chosen.find(v.discriminator);
    if (it != chosen.end() && it->second == v.value) keys.push_back(&v.key);
  }
  return keys;
}

std::vector<std::string> Schema::discriminators() const {
  std::vector<std::string> out;
  for (const Variant& v : variants_)
    if (std::find(out.begin(), out.end(), v.discriminator) == out.end()) out.push_back(v.discriminator);
  return out;
}

const Key* Schema::find_base(const std::string& path) const {
  for (const Key& k : base_)
    if (k.path == path) return &k;
  return nullptr;
}

std::vector<std::string> Schema::owners_of(const std::string& discriminator, const std::string& path) const {
  std::vector<std::string> out;
  for (const Variant& v : variants_)
    if (v.discriminator == discriminator && v.key.path == path) out.push_back(v.value);
  return out;
}

std::vector<std::string> Schema::all_paths() const {
  std::vector<std::string> out;
  for (const Key& k : base_) out.push_back(k.path);
  for (const Variant& v : variants_)
    if (std::find(out.begin(), out.end(), v.key.path) == out.end()) out.push_back(v.key.path);
  return out;
}

namespace {

std::string limits_text(const Key& k) {
  std::ostringstream os;
  if (!k.choices.empty()) {
    os << "one of ";
    for (size_t i = 0; i < k.choices.size(); ++i) os << (i ? ", " : "") << k.choices[i];
  } else if (std::isfinite(k.min) || std::isfinite(k.max)) {
    if (std::isfinite(k.min)) os << "≥ " << k.min;
    if (std::isfinite(k.min) && std::isfinite(k.max)) os << ", ";
    if (std::isfinite(k.max)) os << "≤ " << k.max;
  }
  return os.str();
}

void describe_row(std::ostringstream& os, const Key& k, const std::string& when) {
  os << "| `" << k.path << "` | " << kind_name(k.kind) << " | "
     << (k.required ? "required" : k.default_yaml.empty() ? "unset" : "`" + k.default_yaml + "`") << " | "
     << limits_text(k) << " | " << when << k.doc << " |\n";
}

}  // namespace

std::string Schema::describe() const {
  std::ostringstream os;
  os << "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
  for (const Key& k : base_) describe_row(os, k, "");
  for (const Variant& v : variants_) describe_row(os, v.key, "(" + v.discriminator + ": " + v.value + ") ");
  return os.str();
}

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string near_miss(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  // Allow more slack for longer words, but never suggest something unrelated.
  size_t best_d = std::max<size_t>(3, word.size() / 4 + 1);
  for (const auto& c : candidates)
    if (const size_t d = edit_distance(word, c); d < best_d) {
      best_d = d;
      best = c;
    }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

}  // namespace aisle::recipe
