// `aisle add-items`: embed products added after export from their item features and write an
// artifact that serves them (aisle/serve/add_items.hpp).
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "aisle/core/error.hpp"
#include "aisle/serve/add_items.hpp"
#include "commands.hpp"

namespace aisle::cli {

namespace {

struct AddItemsArgs {
  std::string artifact, items, out, item_column = "item", map, delimiter, interactions, user_column = "user";
  bool force = false;
};

// "brand=Manufacturer,price=UnitPrice" -> {brand: Manufacturer, price: UnitPrice}.
std::map<std::string, std::string> parse_feature_columns(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string entry = text.substr(start, end - start);
    const size_t eq = entry.find('=');
    AISLE_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < entry.size(), "--map: '", entry,
                "' is not FEATURE=COLUMN");
    AISLE_CHECK(out.emplace(entry.substr(0, eq), entry.substr(eq + 1)).second, "--map: feature '",
                entry.substr(0, eq), "' is mapped twice");
    start = end + 1;
  }
  return out;
}

}  // namespace

void add_add_items_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("add-items", "Embed products added after export from their item features "
                                              "(graphsage) and write an artifact that serves them");
  auto a = std::make_shared<AddItemsArgs>();
  cmd->add_option("--artifact", a->artifact, "Artifact written by `aisle export` or a recipe's export.dir")
      ->required();
  cmd->add_option("--items", a->items, "Delimited file with a header (plain, .xz or .gz): the item id column and "
                                       "one column per item feature of the model; other columns are ignored")
      ->required();
  cmd->add_option("--out", a->out, "The artifact to write (may be --artifact itself, with --force)")->required();
  cmd->add_flag("--force", a->force, "Replace --out if it exists (atomically)");
  cmd->add_option("--item-column", a->item_column, "Header name of the item id column")->capture_default_str();
  cmd->add_option("--map", a->map, "Columns named other than their feature, as FEATURE=COLUMN,... "
                                   "(e.g. description=Description,price=UnitPrice)");
  cmd->add_option("--delimiter", a->delimiter, "Field delimiter (default: tab for .tsv/.tab files, else ',')");
  cmd->add_option("--interactions", a->interactions, "Optional: the new items' first interactions, a delimited file "
                                                     "with a header naming the item and user columns; each known user "
                                                     "joins the item as a neighbour, as a buyer does in training");
  cmd->add_option("--user-column", a->user_column, "Header name of the user id column of --interactions")
      ->capture_default_str();
  cmd->footer("Exit codes: 0 done, 2 usage error (including a model that cannot embed new items), 3 a bad items "
              "file, or a missing, corrupted or incomplete artifact.");
  cmd->callback([a] {
    serve::AddItemsRequest request;
    request.artifact = a->artifact;
    request.items = a->items;
    request.out = a->out;
    request.overwrite = a->force;
    request.item_column = a->item_column;
    if (!a->map.empty()) request.columns = parse_feature_columns(a->map);
    if (!a->delimiter.empty()) request.delimiter = a->delimiter;
    request.interactions = a->interactions;
    request.user_column = a->user_column;
    const serve::AddItemsResult r = serve::add_items(request);
    std::string features;
    for (const std::string& f : r.features) features += (features.empty() ? "" : ", ") + f;
    std::printf("embedded %lld new items from their item features (%s)\n", static_cast<long long>(r.added),
                features.empty() ? "none" : features.c_str());
    if (r.unknown_values > 0) {
      std::printf("%lld %s the training data never had %s ignored:\n", static_cast<long long>(r.unknown_values),
                  r.unknown_values == 1 ? "value" : "values", r.unknown_values == 1 ? "was" : "were");
      for (const std::string& e : r.unknown_examples) std::printf("  %s\n", e.c_str());
      if (r.unknown_values > static_cast<int64_t>(r.unknown_examples.size())) std::printf("  ...\n");
    }
    if (!a->interactions.empty())
      std::printf("first interactions with known users, joined as neighbours: %lld\n",
                  static_cast<long long>(r.interactions));
    if (r.unknown_users > 0) {
      std::printf("interactions of users the artifact does not know, ignored: %lld\n",
                  static_cast<long long>(r.unknown_users));
      for (const std::string& e : r.unknown_user_examples) std::printf("  %s\n", e.c_str());
      if (r.unknown_users > static_cast<int64_t>(r.unknown_user_examples.size())) std::printf("  ...\n");
    }
    if (r.without_attributes > 0)
      std::printf("%lld %s no buyer and no known value and got the shared item embedding only\n",
                  static_cast<long long>(r.without_attributes), r.without_attributes == 1 ? "item has" : "items have");
    std::printf("wrote %s: %lld items (%lld before)\n", a->out.c_str(), static_cast<long long>(r.items_before + r.added),
                static_cast<long long>(r.items_before));
  });
}

}  // namespace aisle::cli
