#pragma once
#include <map>
#include <string>

#include "aisle/data/id_map.hpp"
#include "aisle/tensor/tensor.hpp"

namespace aisle::data {

// Per-user or per-item attributes of a dataset, one row per dense id.
struct CategoricalFeature {  // category, brand, country...
  Tensor codes;               // i64 [entities]: index into vocab, -1 when missing
  IdMap vocab;
};
struct NumericFeature {  // price, age...
  Tensor values;          // f32 [entities]: NaN when missing
};
struct TokenFeature {  // words of a product title, tags
  Tensor offsets;       // i64 [entities + 1]
  Tensor tokens;        // i64 [offsets[entities]]: indices into vocab
  IdMap vocab;
};

struct SideFeatures {
  std::map<std::string, CategoricalFeature> categorical;
  std::map<std::string, NumericFeature> numeric;
  std::map<std::string, TokenFeature> tokens;
  bool empty() const { return categorical.empty() && numeric.empty() && tokens.empty(); }
};

}  // namespace aisle::data
