#pragma once
#include <memory>

#include "aisle/recipe/schema.hpp"
#include "aisle/train/model.hpp"

// Implicit ALS (model.type: als): matrix factorisation of implicit feedback by alternating least
// squares, Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback Datasets" (2008).
//
// Data: each training row's value (data::Interactions::values: a purchase quantity, a play count,
// 1 for plain implicit rows) is an amount r >= 0; repeated (user, item) rows are one cell whose r
// is the sum of their values. An observed cell has preference p = 1 and confidence
//   c = 1 + alpha * r                      (model.confidence: linear, the default)
//   c = 1 + alpha * log(1 + r / epsilon)   (model.confidence: log, for heavy-tailed amounts);
// every other cell has p = 0 and c = 1. A negative or non-finite value is an aisle::DataError.
//
// Objective, over all users x items cells (user vectors X [U, F], item vectors Y [I, F]):
//   L = sum_ui c_ui (p_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2).
// An epoch is one ALS iteration of two steps: step 0 solves every user vector with Y fixed,
// step 1 every item vector with X fixed; each row's system is
//   (Y^T Y + Y^T (C_u - I) Y + reg I) x_u = Y^T C_u p_u.
// model.solver: cg (default) runs model.cg_steps conjugate-gradient steps per vector, warm-started
// from its current value, without forming the matrix (the `implicit` package's update, Takacs,
// Pilaszy & Tikk 2011); exact forms it and solves it by Cholesky, in double. Rows with no cells get
// the zero vector. Each step reports L divided by users x items (the mean over all cells),
// computed without touching the unobserved cells: sum over all cells of (x.y)^2 = <X^T X, Y^T Y>.
// StepReport::examples is the number of vectors solved.
//
// Keys: model.factors (64), model.reg (0.1), model.alpha (1), model.confidence (linear | log),
// model.epsilon (1; log only), model.init_std (0.01: both tables start N(0, init_std^2) from the
// recipe's seed), model.solver (cg | exact), model.cg_steps (3; cg only).
//
// CPU: the rows of a step are solved in parallel (cpu::parallel_for over blocks of rows of equal
// work); each vector's solve reads only the fixed side, so results are bit-identical on any
// thread count, and a step is a function of the factors alone (no randomness after setup):
// resuming from state() at any step is exact. CUDA: the same CG for all rows at once with tensor
// ops (Gram matrices by matmul, per-cell dot products by ops::spmm_values_backward, sums over a
// row's cells by ops::spmm), agreeing with the CPU to rounding. model.solver: exact is CPU only:
// setup() on a CUDA device throws naming model.solver.
//
// Tensors: weights() and state() are the same two copies, "user_factors" f32 [U, F] and
// "item_factors" f32 [I, F] (ALS has no optimiser state); score_users(u) = X[u] Y^T.
namespace aisle::models {

void add_implicit_als_keys(recipe::Schema& schema);
std::unique_ptr<train::Model> create_implicit_als();

}  // namespace aisle::models
