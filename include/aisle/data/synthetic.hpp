#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

// A synthetic e-commerce shop (`aisle data synth`): quickstarts, tests and benchmarks need data
// with the structure of real logs (tastes, a funnel, Zipf popularity, seasons, product life
// cycles) at any size, without downloading anything.
//
// The generative model. A catalogue of `items` products falls into `categories` leaf categories
// (grouped into departments, a two-level hierarchy) of Zipf-distributed popularity; inside a
// category each product has a Zipf weight by a random rank. Products belong to brands (each
// category draws a pool of brands; brands carry a price tier) and cost a log-normal price around
// their category's median. Each product has a life cycle: it launches on some day (60% before
// the data window, the rest inside it), demand ramps up for 1-6 weeks (growth), stays flat for
// months (maturity), then halves every 3-13 weeks (decline), to a 3% floor; the most popular
// product of every category is an evergreen launched before the window. Each user has a
// heavy-tailed (log-normal) activity, a join day, 1-3 preferred categories with weights, a
// favourite brand in each, a price sensitivity (how strongly expensive products are avoided)
// and a region. A user's row budget is min(2, interactions / users) plus a share of the rest
// in proportion to activity, rounded cumulatively so that the budgets sum to `interactions`
// exactly; the last session of a user is cut to fit, which keeps the funnel intact because a
// session's events are drawn in time order. The budget is spent in sessions: each starts on a day drawn by the seasonal demand (weekly
// cycle, a yearly cycle peaking in winter, Black Friday and the Christmas run-up, slow growth)
// at an hour drawn from a daily profile, and follows one mission category (a preferred one, or
// with some probability any category by popularity). The user views products of that category
// (popular ones, of the favourite brand more often, only launched ones in proportion to their
// life-cycle demand on that day, expensive ones less for price-sensitive users), puts some in
// the cart, and checks out some carted ones at the end of the session, in a quantity; holiday
// deals raise conversion. Timestamps advance by 5-60 s per event, so a session lasts under an
// hour and never crosses midnight.
namespace aisle::data {

struct SynthOptions {
  int64_t users = 10'000;
  int64_t items = 2'000;
  int64_t interactions = 500'000;  // exactly this many rows are written
  uint64_t seed = 1;
  int64_t categories = 20;  // leaf categories; departments = round(sqrt(categories))
  int64_t brands = 50;
  int64_t days = 365;
  std::string start_date = "2023-01-01";  // day 0, UTC
  double zipf = 0.8;                      // popularity exponent of products within a category
  int threads = 0;                        // 0: all OpenMP threads; the output never depends on it
  bool overwrite = false;                 // replace an existing output directory
};

struct SynthResult {
  std::filesystem::path dir;
  int64_t users = 0, items = 0, days = 0;
  int64_t interactions = 0, sessions = 0;
  int64_t views = 0, carts = 0, purchases = 0;
  int64_t units_sold = 0;
  double revenue = 0;
  int64_t sales_rows = 0;  // rows of the daily_sales table
  double seconds = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(interactions) / seconds : 0; }
};

// Throws aisle::Error naming the first invalid option and its value.
void check_synth_options(const SynthOptions& options);

// Writes the shop to `out_dir` as a dataset (DatasetWriter: streamed and atomic). Besides the
// interactions (rows grouped by user, each user's sessions in order of start; value = quantity
// for purchases, 1 otherwise) it writes
//   items: category, department, brand (categorical), price, launch_day (numeric; launch_day is
//          days since start_date, negative for products launched before the window)
//   users: segment (budget / mainstream / premium, from the price sensitivity), region
//   tables/daily_sales: item, day, units (i64), revenue (f64): one row per (item, day) with
//          sales, sorted by item then day; days without a row sold nothing
//   tables/sessions: first (i64 row of its first interaction), length (i64): sessions are
//          contiguous runs of rows, in order
// Memory: O(users) (row offsets, user features), O(items) (the catalogue and its proposal
// tables, about 400 bytes a product), items x days 4-byte counters for the daily sales, and two
// blocks of users' rows (about 1M rows each, or one very heavy user's); never O(interactions).
// Throws aisle::Error naming the option for invalid options.
SynthResult generate_synthetic(const SynthOptions& options, const std::string& out_dir);

// The hidden truth behind a generated shop (same options -> same truth), for tests and for
// checking what a model recovers. Building it costs O(items); users are drawn on demand.
struct SynthItem {
  int32_t category = 0, department = 0, brand = 0;
  double price = 0;
  int32_t launch_day = 0, mature_day = 0, decline_day = 0;  // growth is [launch, mature)
  double decline_half_life = 0;                             // days
  double popularity = 0;                                    // static Zipf weight within its category
};
struct SynthUser {
  double activity = 0;
  int32_t join_day = 0;
  std::vector<int32_t> categories;  // preferred, most preferred first
  std::vector<double> weights;      // share of taste-driven sessions per preferred category
  std::vector<int32_t> brands;      // favourite brand per preferred category (-1: none there)
  double price_sensitivity = 0;
  double explore = 0;  // probability that a session ignores the preferences
};

class SynthTruth {
 public:
  explicit SynthTruth(const SynthOptions& options);  // validates the options
  ~SynthTruth();
  SynthTruth(SynthTruth&&) noexcept;
  SynthItem item(int64_t item) const;
  SynthUser user(int64_t user) const;
  double demand(int64_t day) const;  // seasonal multiplier of sessions on that day (mean about 1)
  // The product's life-cycle demand in [0, 1] on a day (0 before launch).
  double lifecycle(int64_t item, int64_t day) const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace aisle::data
