// The embedding planner: replicate what fits, shard the largest tables first, explicit modes
// obeyed, a clear error when even sharding does not fit, and readable lines.
#include "aisle/dist/embedding_plan.hpp"

#include <gtest/gtest.h>

#include "support/testing.hpp"

namespace aisle::dist {
namespace {

using testing::error_message;

// users: 1,000 x 100 B = 100,000 B; items: 3,000 x 10 B = 30,000 B; tags: 10 x 8 B = 80 B.
std::vector<TableSpec> tables() {
  return {{"users", 1000, 100, "25 f32"}, {"items", 3000, 10, "2 f32 + adagrad"}, {"tags", 10, 8, "2 f32"}};
}

std::vector<bool> placement(const EmbeddingPlan& p) {
  std::vector<bool> s;
  for (const TablePlacement& t : p.tables) s.push_back(t.sharded);
  return s;
}

TEST(EmbeddingPlan, AutoReplicatesWhatFits) {
  const EmbeddingPlan p = plan_embeddings(tables(), 4, 130080, EmbeddingMode::automatic);
  EXPECT_EQ(placement(p), (std::vector<bool>{false, false, false}));
  EXPECT_EQ(p.bytes_per_rank, 130080);
  EXPECT_EQ(p.tables[0].bytes_per_rank, 100000);
  EXPECT_FALSE(p.sharded("items"));
  EXPECT_NE(error_message([&] { p.sharded("nope"); }).find("no table named 'nope'"), std::string::npos);
}

TEST(EmbeddingPlan, AutoShardsTheLargestTablesFirstUntilTheRestFits) {
  // Sharding users over 4 ranks: 25,000 + 30,000 + 80.
  EmbeddingPlan p = plan_embeddings(tables(), 4, 130079, EmbeddingMode::automatic);
  EXPECT_EQ(placement(p), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(p.bytes_per_rank, 55080);
  // Then items: 25,000 + 7,500 + 80.
  p = plan_embeddings(tables(), 4, 55079, EmbeddingMode::automatic);
  EXPECT_EQ(placement(p), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(p.bytes_per_rank, 32580);
  // Uneven shards count the largest: ceil(1000 / 3) = 334 rows of users, 1000 items; 4 of 10 tags.
  p = plan_embeddings(tables(), 3, 44000, EmbeddingMode::automatic);
  EXPECT_EQ(placement(p), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(p.tables[0].bytes_per_rank, 33400);
  EXPECT_EQ(p.bytes_per_rank, 33400 + 10000 + 80);
  p = plan_embeddings(tables(), 3, 43450, EmbeddingMode::automatic);
  EXPECT_EQ(placement(p), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(p.tables[2].bytes_per_rank, 32);
}

TEST(EmbeddingPlan, AutoFailsClearlyWhenEvenShardingDoesNotFit) {
  const std::string e = error_message([] { plan_embeddings(tables(), 4, 32000, EmbeddingMode::automatic); });
  EXPECT_NE(e.find("the tables need 31.8 KiB per rank even sharded over 4 ranks"), std::string::npos) << e;
  EXPECT_NE(e.find("only 31.2 KiB per rank is available (dist.memory_per_rank_gib)"), std::string::npos) << e;
}

TEST(EmbeddingPlan, OneRankReplicatesAndDoesNotEnforceTheBudget) {
  const EmbeddingPlan p = plan_embeddings(tables(), 1, 10, EmbeddingMode::automatic);
  EXPECT_EQ(placement(p), (std::vector<bool>{false, false, false}));
  const EmbeddingPlan s = plan_embeddings(tables(), 1, 10, EmbeddingMode::sharded);
  EXPECT_EQ(placement(s), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(s.bytes_per_rank, 130080) << "sharded over one rank holds everything";
}

TEST(EmbeddingPlan, ExplicitModesAreObeyedAndSayWhenOverBudget) {
  const EmbeddingPlan r = plan_embeddings(tables(), 2, 1000, EmbeddingMode::replicated);
  EXPECT_EQ(placement(r), (std::vector<bool>{false, false, false}));
  EXPECT_NE(r.lines[0].find("OVER the budget"), std::string::npos) << r.lines[0];
  const EmbeddingPlan s = plan_embeddings(tables(), 2, 1 << 20, EmbeddingMode::sharded);
  EXPECT_EQ(placement(s), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(s.lines[0].find("OVER"), std::string::npos);
}

TEST(EmbeddingPlan, LinesNameEveryTable) {
  const EmbeddingPlan p = plan_embeddings(
      {{"user_factors", 52643, 768, "64 f32 + adam"}, {"item_factors", 40981, 768, "64 f32 + adam"}}, 4,
      int64_t{8} << 30, EmbeddingMode::automatic);
  ASSERT_EQ(p.lines.size(), 3u);
  EXPECT_EQ(p.lines[0], "embeddings (auto) over 4 ranks: 68.6 MiB per rank of 8.0 GiB");
  EXPECT_EQ(p.lines[1], "user_factors  52,643 x 64 f32 + adam: replicated, 38.6 MiB per rank");
  EXPECT_EQ(p.lines[2], "item_factors  40,981 x 64 f32 + adam: replicated, 30.0 MiB per rank");
  const EmbeddingPlan s = plan_embeddings({{"t", 10, 4, "1 f32"}}, 3, 100, EmbeddingMode::sharded);
  EXPECT_EQ(s.lines[1], "t  10 x 1 f32: sharded over 3 ranks (id % 3), 16 B per rank");
}

TEST(EmbeddingPlan, ParsesModesAndRejectsBadInput) {
  EXPECT_EQ(parse_embedding_mode("auto"), EmbeddingMode::automatic);
  EXPECT_EQ(parse_embedding_mode("replicated"), EmbeddingMode::replicated);
  EXPECT_EQ(parse_embedding_mode("sharded"), EmbeddingMode::sharded);
  EXPECT_NE(error_message([] { parse_embedding_mode("split"); }).find("'split' is not one of"), std::string::npos);
  EXPECT_NE(error_message([] { plan_embeddings(tables(), 0, 100, EmbeddingMode::automatic); }).find("world size 0"),
            std::string::npos);
  EXPECT_NE(error_message([] { plan_embeddings(tables(), 2, 0, EmbeddingMode::automatic); }).find("must be positive"),
            std::string::npos);
  EXPECT_NE(error_message([] { plan_embeddings({{"x", 5, 0, ""}}, 2, 10, EmbeddingMode::automatic); })
                .find("table 'x' has 5 rows of 0 bytes"),
            std::string::npos);
  EXPECT_GT(default_memory_per_rank(Device::cpu()), 0);
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
}

}  // namespace
}  // namespace aisle::dist
