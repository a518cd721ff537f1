#include "aisle/nn/embedding.hpp"

#include "aisle/autograd/embedding.hpp"
#include "aisle/autograd/scatter.hpp"
#include "aisle/nn/init.hpp"

namespace aisle::nn {

Embedding::Embedding(int64_t num, int64_t dim, Generator& gen, bool sparse, double init_std, DType dtype) {
  AISLE_CHECK(num > 0 && dim > 0, "Embedding: sizes must be positive, got ", num, " x ", dim);
  table_ = register_parameter("table", init::normal({num, dim}, init_std, gen, dtype), sparse);
}

Var Embedding::forward(const Tensor& ids) const { return embedding(table_, ids); }

EmbeddingBag::EmbeddingBag(int64_t num, int64_t dim, ops::BagMode mode, Generator& gen, bool sparse,
                           double init_std, DType dtype)
    : mode_(mode) {
  AISLE_CHECK(num > 0 && dim > 0, "EmbeddingBag: sizes must be positive, got ", num, " x ", dim);
  table_ = register_parameter("table", init::normal({num, dim}, init_std, gen, dtype), sparse);
}

Var EmbeddingBag::forward(const Tensor& ids, const Tensor& offsets, const Var& per_sample_weights) const {
  return embedding_bag(table_, ids, offsets, mode_, per_sample_weights);
}

}  // namespace aisle::nn
