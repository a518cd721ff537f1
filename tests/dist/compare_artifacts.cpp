// compare_artifacts A B TOLERANCE: the tensors of two artifact (or checkpoint) directories have
// the same names and shapes, and every value differs by at most TOLERANCE (0: bit-identical).
// Prints the largest difference per tensor; exit 0 when all hold, 1 otherwise, 2 on bad input.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "aisle/io/artifact_reader.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: compare_artifacts DIR_A DIR_B TOLERANCE\n");
    return 2;
  }
  try {
    const auto a = aisle::io::ArtifactReader::open(argv[1]);
    const auto b = aisle::io::ArtifactReader::open(argv[2]);
    const double tolerance = std::atof(argv[3]);
    bool ok = a.tensors().size() == b.tensors().size();
    if (!ok) std::printf("different tensor counts: %zu vs %zu\n", a.tensors().size(), b.tensors().size());
    for (const auto& [name, ta] : a.tensors()) {
      const auto it = b.tensors().find(name);
      if (it == b.tensors().end() || it->second.shape() != ta.shape()) {
        std::printf("%s: missing or of another shape in %s\n", name.c_str(), argv[2]);
        ok = false;
        continue;
      }
      const auto va = ta.to_doubles(), vb = it->second.to_doubles();
      double worst = 0;
      for (size_t i = 0; i < va.size(); ++i) {
        const double d = std::fabs(va[i] - vb[i]);
        if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
      }
      std::printf("%s %s: max |a - b| = %.3g\n", name.c_str(), ta.describe().c_str(), worst);
      ok = ok && worst <= tolerance;
    }
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compare_artifacts: %s\n", e.what());
    return 2;
  }
}
