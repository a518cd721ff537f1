#pragma once
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <string>
#include <vector>

// What a recipe may say: every key with its type, default, allowed values and a line of help.
// Some keys exist only for one value of a discriminator — `model.dim` for one model type, the
// split's parameters for one split method — so a recipe is checked against the keys of the
// choices it made, and a key that belongs to another choice is reported as such.
namespace aisle::recipe {

enum class Kind { boolean, integer, number, string, integers, numbers, strings, string_map };
const char* kind_name(Kind k);

struct Key {
  std::string path;  // dotted: "train.lr"
  Kind kind = Kind::string;
  std::string default_yaml;  // YAML text of the default; empty with required=false means "unset"
  bool required = false;
  std::string doc;
  std::vector<std::string> choices;  // allowed values of a string (or of each string in a list)
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();

  // Fluent setters so schemas read as a table.
  Key& with_default(std::string yaml) { default_yaml = std::move(yaml); return *this; }
  Key& is_required() { required = true; return *this; }
  Key& one_of(std::vector<std::string> c) { choices = std::move(c); return *this; }
  Key& at_least(double v) { min = v; return *this; }
  Key& at_most(double v) { max = v; return *this; }
  Key& help(std::string d) { doc = std::move(d); return *this; }
};

class Schema {
 public:
  // A key every recipe may have.
  Key& add(const std::string& path, Kind kind);
  // A key that exists only when the string key `discriminator` equals `value`.
  Key& add_variant(const std::string& discriminator, const std::string& value, const std::string& path, Kind kind);

  // The keys active for the given discriminator values (path -> chosen value), in schema order.
  std::vector<const Key*> active_keys(const std::map<std::string, std::string>& chosen) const;
  // Discriminator paths, in schema order.
  std::vector<std::string> discriminators() const;
  const Key* find_base(const std::string& path) const;
  // For a key that is not active: which discriminator values would make it one ("lightgcn", ...).
  std::vector<std::string> owners_of(const std::string& discriminator, const std::string& path) const;
  // Every key path in any variant (for near-miss suggestions).
  std::vector<std::string> all_paths() const;
  // Markdown table of every key (the recipe reference in docs and `--help`).
  std::string describe() const;

 private:
  struct Variant {
    std::string discriminator, value;
    Key key;
  };
  std::deque<Key> base_;  // deque: add() hands out references that later adds must not move
  std::deque<Variant> variants_;
};

// Edit distance for "did you mean" suggestions; " (did you mean 'x'?)" or "".
std::string near_miss(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace aisle::recipe
