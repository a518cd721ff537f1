#pragma once
#include "aisle/tensor/random.hpp"
#include "aisle/tensor/tensor.hpp"

// Parameter initialisers. All draw from a Philox Generator, so a model initialises identically on
// every device for the same seed.
namespace aisle::nn::init {

// U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for Linear weights and biases.
Tensor uniform_fan_in(const Shape& shape, int64_t fan_in, Generator& gen, DType dtype = DType::f32);
// Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform(const Shape& shape, int64_t fan_in, int64_t fan_out, Generator& gen,
                      DType dtype = DType::f32);
// N(0, std^2): the usual embedding-table initialisation in recommenders (std ~ 0.01..0.1).
Tensor normal(const Shape& shape, double stddev, Generator& gen, DType dtype = DType::f32);

}  // namespace aisle::nn::init
