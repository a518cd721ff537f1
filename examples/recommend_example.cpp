// An application serving recommendations from an exported artifact (aisle/serve/artifact.hpp):
//
//   recommend_example ARTIFACT_DIR USER [K]
//
// prints the model's K best items (default 10) for USER that USER has not interacted with yet.
// Builds inside the Aisle tree, or against an installed Aisle with find_package(aisle) (see
// examples/CMakeLists.txt).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "aisle/serve/artifact.hpp"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s ARTIFACT_DIR USER [K]\n", argv[0]);
    return 2;
  }
  const int64_t k = argc == 4 ? std::atoll(argv[3]) : 10;
  try {
    // Load once (checksums are verified here), then serve any number of requests, from any thread.
    const aisle::Artifact artifact = aisle::Artifact::load(argv[1]);
    std::printf("%s model: %lld users, %lld items\n", artifact.manifest().model_type.c_str(),
                static_cast<long long>(artifact.num_users()), static_cast<long long>(artifact.num_items()));
    int rank = 0;
    for (const aisle::Recommendation& r : artifact.recommend(argv[2], k, /*exclude_seen=*/true))
      std::printf("%d. %s (score %.4f)\n", ++rank, r.item.c_str(), static_cast<double>(r.score));
  } catch (const aisle::ArtifactError& e) {
    std::fprintf(stderr, "cannot use the artifact: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
