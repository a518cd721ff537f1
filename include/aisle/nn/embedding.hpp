#pragma once
#include "aisle/nn/module.hpp"
#include "aisle/ops/embedding.hpp"

namespace aisle::nn {

// A table of `num` rows of `dim` values. With sparse = true (the default, as tables are the bulk
// of a recommender) its gradient arrives as rows for a sparse optimizer, never a dense table.
class Embedding : public Module {
 public:
  Embedding(int64_t num, int64_t dim, Generator& gen, bool sparse = true, double init_std = 0.01,
            DType dtype = DType::f32);
  Var forward(const Tensor& ids) const;  // ids.shape + [dim]
  const Var& table() const { return table_; }

 private:
  Var table_;
};

// Sum or mean of the rows of each ragged bag (offsets: B+1 entries).
class EmbeddingBag : public Module {
 public:
  EmbeddingBag(int64_t num, int64_t dim, ops::BagMode mode, Generator& gen, bool sparse = true,
               double init_std = 0.01, DType dtype = DType::f32);
  Var forward(const Tensor& ids, const Tensor& offsets, const Var& per_sample_weights = Var()) const;
  const Var& table() const { return table_; }

 private:
  Var table_;
  ops::BagMode mode_;
};

}  // namespace aisle::nn
