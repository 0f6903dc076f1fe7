// One flush of the WAL acknowledges every commit counted before it; a failed flush fails every
// later one.
#include "store/sqlite/wal_sync.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>
#include <vector>

#include "store/store.h"
#include "support/temp_dir.h"

namespace siyu::store::sqlite {
namespace {

TEST(WalSyncTest, OneFlushCoversEveryCommitCountedBeforeIt) {
  testing::TempDir dir;
  const std::string wal = dir.str() + "/db-wal";
  std::ofstream(wal) << "frames";
  WalSync sync(wal, true);
  EXPECT_EQ(sync.committed(), 1u);
  EXPECT_EQ(sync.committed(), 2u);
  ASSERT_TRUE(sync.sync_through(1).is_ok());
  EXPECT_EQ(sync.flushes(), 1u);
  // The flush for commit 1 began after commit 2 was counted: it covered both.
  ASSERT_TRUE(sync.sync_through(2).is_ok());
  EXPECT_EQ(sync.flushes(), 1u);
  EXPECT_EQ(sync.committed(), 3u);
  ASSERT_TRUE(sync.sync_through(3).is_ok());
  EXPECT_EQ(sync.flushes(), 2u);
  // A WAL replaced under the same name is opened again and flushed.
  std::filesystem::remove(wal);
  std::ofstream(wal) << "new frames";
  sync.committed();
  ASSERT_TRUE(sync.sync_through(4).is_ok());
  EXPECT_EQ(sync.flushes(), 3u);
}

TEST(WalSyncTest, AFailedFlushFailsEveryLaterOne) {
  testing::TempDir dir;
  std::ofstream(dir.str() + "/file") << "not a directory";
  WalSync sync(dir.str() + "/file/db-wal", true);
  sync.committed();
  EXPECT_FALSE(sync.sync_through(1).is_ok());
  sync.committed();
  EXPECT_FALSE(sync.sync_through(2).is_ok());
  EXPECT_EQ(sync.flushes(), 0u);
}

TEST(WalSyncTest, AStoreThatIsNotDurableNeverFlushes) {
  WalSync sync("/nonexistent/dir/db-wal", false);
  sync.committed();
  EXPECT_TRUE(sync.sync_through(1).is_ok());
  EXPECT_EQ(sync.flushes(), 0u);
}

TEST(WalSyncTest, ADurableStoreAcknowledgesWritesThroughSharedFlushes) {
  for (const bool durable : {true, false}) {
    testing::TempDir dir;
    StoreConfig cfg;
    cfg.data_dir = dir.str();
    cfg.durable = durable;
    auto st = open_store(cfg);
    ASSERT_TRUE(st.has_value());
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          const std::string slug = "w" + std::to_string(t) + "-" + std::to_string(i);
          EXPECT_TRUE((*st)->create_workspace({WorkspaceId(), slug, slug, "Asia/Shanghai", 0}));
        }
      });
    }
    for (auto& w : writers) w.join();
    const StoreStats stats = (*st)->stats();
    EXPECT_GE(stats.commits, 1);
    if (durable) {
      EXPECT_GE(stats.disk_flushes, 1);
      EXPECT_LE(stats.disk_flushes, stats.commits);
    } else {
      EXPECT_EQ(stats.disk_flushes, 0);
    }
  }
}

}  // namespace
}  // namespace siyu::store::sqlite
