// `aisle data synth`: writes a synthetic e-commerce dataset (aisle/data/synthetic.hpp).
#include <cstdio>
#include <filesystem>

#include "aisle/core/error.hpp"
#include "aisle/data/synthetic.hpp"
#include "commands.hpp"

namespace aisle::cli {

void add_data_synth(CLI::App& data, int& status) {
  auto* cmd = data.add_subcommand("synth", "Generate a synthetic e-commerce shop: sessions with views, carts and "
                                           "purchases, item and user features, and daily sales per item");
  auto o = std::make_shared<data::SynthOptions>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("--users", o->users, "Number of users")->capture_default_str();
  cmd->add_option("--items", o->items, "Number of products")->capture_default_str();
  cmd->add_option("--interactions", o->interactions, "Exact number of interaction rows")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed (same seed, same bytes)")->capture_default_str();
  cmd->add_option("--out", *out, "Output dataset directory")->required();
  cmd->add_option("--days", o->days, "Length of the time window in days")->capture_default_str();
  cmd->add_option("--start", o->start_date, "First day, YYYY-MM-DD")->capture_default_str();
  cmd->add_option("--categories", o->categories, "Number of leaf categories")->capture_default_str();
  cmd->add_option("--brands", o->brands, "Number of brands")->capture_default_str();
  cmd->add_option("--zipf", o->zipf, "Popularity exponent within a category")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Threads (0: all); the output does not depend on it")->capture_default_str();
  cmd->add_flag("--force", o->overwrite, "Replace DIR if it exists");
  cmd->callback([o, out, &status] {
    data::check_synth_options(*o);
    AISLE_CHECK(o->overwrite || !std::filesystem::exists(*out), *out, ": already exists; pass --force to replace it");
    const data::SynthResult r = data::generate_synthetic(*o, *out);
    std::printf("synthetic shop written to %s\n", r.dir.c_str());
    std::printf("  %lld users, %lld items, %lld days from %s\n", static_cast<long long>(r.users),
                static_cast<long long>(r.items), static_cast<long long>(r.days), o->start_date.c_str());
    std::printf("  %lld interactions in %lld sessions: %lld views, %lld carts, %lld purchases\n",
                static_cast<long long>(r.interactions), static_cast<long long>(r.sessions),
                static_cast<long long>(r.views), static_cast<long long>(r.carts), static_cast<long long>(r.purchases));
    std::printf("  %lld units sold for %.2f; daily_sales has %lld rows\n", static_cast<long long>(r.units_sold),
                r.revenue, static_cast<long long>(r.sales_rows));
    std::printf("  %.2f s, %.0f interactions/s\n", r.seconds, r.rate());
    status = 0;
  });
}

}  // namespace aisle::cli
