#pragma once
#include "aisle/ops/spmm.hpp"

// Launchers for the spmm family. Arguments are validated by src/ops/spmm.cpp (the CSR structure
// by make_csr); column ids are still checked in the kernels and reported through the index flag.
namespace aisle::cuda {

void spmm(const ops::Csr& a, const Tensor& x, const Tensor& out);
void spmm_values_backward(const ops::Csr& a, const Tensor& x, const Tensor& dy, const Tensor& dv);

}  // namespace aisle::cuda
