#pragma once
// Internal: one ALS half-iteration on the CPU, solving every vector of one side with the other
// side fixed. Each vector's solve reads only the fixed side and its own row of confidences, so
// rows run in parallel and the result does not depend on the thread count.
#include <cstdint>

#include "src/models/implicit_als/confidence_rows.hpp"

namespace aisle::models::als {

struct HalfStep {
  const ConfidenceRows* conf = nullptr;  // conf->rows vectors are solved against conf->cols fixed ones
  const float* fixed = nullptr;          // [conf->cols, factors], row-major
  const float* gram = nullptr;           // [factors, factors]: fixed^T fixed + reg * I
  int64_t factors = 0;
};

// Both update `solved` ([conf->rows, factors]) in place and return, for the new vectors, the sum
// over stored cells of c (1 - s)^2 - s^2 with s = x . y: what the objective's observed cells add
// to the dense sum of s^2 over all cells (which the caller gets from the two Gram matrices).
// Rows with no entries get the zero vector (the exact minimiser).

// Conjugate gradient, warm-started from the current vector: the `implicit` package's update
// (Takacs, Pilaszy & Tikk 2011). A x = b with A = gram + Y^T (C_u - I) Y and b = Y^T C_u 1 is
// never formed: each product costs one Gram product and two passes over the row's entries.
double cg_half_step(const HalfStep& h, float* solved, int64_t cg_steps);

// Forms each row's normal equations in double and solves them by Cholesky (Eigen LLT).
double exact_half_step(const HalfStep& h, float* solved);

}  // namespace aisle::models::als
