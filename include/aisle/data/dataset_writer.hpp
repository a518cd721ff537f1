#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/core/dtype.hpp"
#include "aisle/data/event.hpp"
#include "aisle/data/import_report.hpp"

namespace aisle::data {

// Where a dataset came from, recorded in meta.json.
struct DatasetSource {
  std::string format;                   // "movielens-100k", "synthetic", ...
  std::vector<std::string> inputs;      // input files (their sha256 is recorded too)
  std::vector<std::string> parameters;  // "key=value" (generator settings, column mapping, ...)
};

// Streams interactions into a dataset directory. Everything is written under a temporary
// directory beside the destination and renamed into place by finish(); a writer destroyed
// without finish() (an error, an exception) removes it, so a failed import leaves nothing.
// Interaction columns go straight to disk through buffered writers with running checksums, so
// generators can stream far more rows than fit in memory.
class DatasetWriter {
 public:
  // Fails if `dir` exists unless overwrite (then the old directory is replaced on finish()).
  explicit DatasetWriter(std::filesystem::path dir, bool overwrite = false);
  ~DatasetWriter();
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  // External ids -> dense ids (first appearance order).
  int64_t user_id(std::string_view external);
  int64_t item_id(std::string_view external);
  // Or: ids are already dense and 0..n-1 (generators); no id strings are stored.
  void use_dense_ids(int64_t num_users, int64_t num_items);

  void add(int64_t user, int64_t item, float value = 1.0f, int64_t timestamp = 0,
           Event event = Event::unknown, Part part = Part::none);

  // An extra table streamed beside the interactions (e.g. the generator's daily sales):
  // tables/<table>/<column>.<dtype>, listed in meta.json. Every column of a table must receive
  // the same number of values by finish(). Returns a sink to push values of type T into.
  class Column {
   public:
    template <class T> void push(T value) { push_bytes(&value, sizeof(T)); }
   private:
    friend class DatasetWriter;
    void push_bytes(const void* data, size_t n);
    void* file_ = nullptr;
  };
  Column& table_column(const std::string& table, const std::string& column, DType dtype);

  // Side features (held in memory until finish(); one value per entity).
  void user_categorical(std::string_view feature, int64_t user, std::string_view value);
  void item_categorical(std::string_view feature, int64_t item, std::string_view value);
  void user_numeric(std::string_view feature, int64_t user, double value);
  void item_numeric(std::string_view feature, int64_t item, double value);
  void item_tokens(std::string_view feature, int64_t item, const std::vector<std::string_view>& tokens);

  int64_t rows() const;
  // Writes ids, features and meta.json, then renames the directory into place.
  void finish(const DatasetSource& source, const ImportReport& report);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace aisle::data
