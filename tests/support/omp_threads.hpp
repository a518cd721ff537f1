#pragma once
// Runs code under a chosen OpenMP thread count, for tests that results do not depend on it.
// OpenMP is a private dependency of libaisle, so tests cannot link it; its runtime is loaded with
// libaisle, though, and dlsym finds omp_set_num_threads there.
#include <dlfcn.h>

#include <utility>

namespace aisle::testing {

// Calls f() with n OpenMP threads and restores the previous count. Returns false (and does not
// call f) when no OpenMP runtime is loaded.
template <class F>
bool with_omp_threads(int n, F&& f) {
  using Set = void (*)(int);
  using Get = int (*)();
  const auto set = reinterpret_cast<Set>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  const auto get = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  if (!set || !get) return false;
  const int previous = get();
  set(n);
  std::forward<F>(f)();
  set(previous);
  return true;
}

}  // namespace aisle::testing
