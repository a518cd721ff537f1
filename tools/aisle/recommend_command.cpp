// `aisle recommend`: the top items for one user from an exported artifact (aisle/serve/artifact.hpp).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "aisle/serve/artifact.hpp"
#include "commands.hpp"

namespace aisle::cli {

namespace {

struct RecommendArgs {
  std::string artifact, user, device = "cpu";
  int64_t k = 10;
  bool exclude_seen = false, json = false;
};

}  // namespace

void add_recommend_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("recommend", "Top-k items for a user from an exported artifact");
  auto a = std::make_shared<RecommendArgs>();
  cmd->add_option("--artifact", a->artifact, "Artifact directory written by `aisle export` or a recipe's export.dir")
      ->required();
  cmd->add_option("--user", a->user, "The user's external id, as in the training data")->required();
  cmd->add_option("-k", a->k, "How many items")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_flag("--exclude-seen", a->exclude_seen, "Leave out the user's training items");
  cmd->add_option("--device", a->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_flag("--json", a->json, "Print one JSON object instead of \"rank item score\" lines");
  cmd->footer("Exit codes: 0 done, 2 usage error (including a user the artifact does not know), 3 a missing, "
              "corrupted or incomplete artifact.");
  cmd->callback([a] {
    const Artifact artifact = Artifact::load(a->artifact, Device::parse(a->device));
    const std::vector<Recommendation> recs = artifact.recommend(a->user, a->k, a->exclude_seen);
    if (a->json) {
      nlohmann::json items = nlohmann::json::array();
      for (size_t r = 0; r < recs.size(); ++r)
        items.push_back({{"rank", r + 1}, {"item", recs[r].item}, {"item_index", recs[r].item_index},
                         {"score", recs[r].score}});
      const nlohmann::json out{{"artifact", a->artifact}, {"model", artifact.manifest().model_type},
                               {"user", a->user}, {"k", a->k}, {"exclude_seen", a->exclude_seen},
                               {"recommendations", items}};
      std::printf("%s\n", out.dump(2).c_str());
      return;
    }
    for (size_t r = 0; r < recs.size(); ++r)
      std::printf("%zu %s %.6g\n", r + 1, recs[r].item.c_str(), static_cast<double>(recs[r].score));
  });
}

}  // namespace aisle::cli
