// The identity cache's keys: one per subject, whatever the fields hold.
#include "store/sqlite/identity_cache.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>

namespace siyu::store::sqlite {
namespace {

TEST(IdentityCacheTest, KeysTellEverySubjectApartAndRepeatForTheSame) {
  const IdentityCache cache;
  const WorkspaceId a(1), b(2);
  std::set<std::tuple<uint64_t, uint64_t>> seen;
  const auto distinct = [&](IdentityCache::Key k) {
    EXPECT_FALSE(k.empty());
    return seen.emplace(k.a, k.b).second;
  };
  EXPECT_TRUE(distinct(cache.key_of(a, "phone", "", "k1")));
  EXPECT_TRUE(distinct(cache.key_of(b, "phone", "", "k1"))) << "another workspace";
  EXPECT_TRUE(distinct(cache.key_of(a, "email", "", "k1"))) << "another type";
  EXPECT_TRUE(distinct(cache.key_of(a, "wechat_openid", "app", "k1")));
  // Fields that run together alike stay apart.
  EXPECT_TRUE(distinct(cache.key_of(a, "wechat_openid", "ap", "pk1")));
  EXPECT_TRUE(distinct(cache.key_of(a, "wechat_openi", "dapp", "k1")));
  EXPECT_TRUE(distinct(cache.key_of(a, "phone", "", std::string("k1\0", 3))));
  EXPECT_TRUE(distinct(cache.customer_key(a, 1)));
  EXPECT_TRUE(distinct(cache.customer_key(b, 1)));
  EXPECT_TRUE(distinct(cache.customer_key(a, 2)));

  EXPECT_EQ(cache.key_of(a, "phone", "", "k1"), cache.key_of(a, "phone", "", "k1"));
  EXPECT_EQ(cache.customer_key(a, 1), cache.customer_key(a, 1));
  const IdentityCache other;
  EXPECT_NE(other.key_of(a, "phone", "", "k1"), cache.key_of(a, "phone", "", "k1"))
      << "each cache draws its own secret";
}

TEST(IdentityCacheTest, StagedOwnersShowOnlyAfterCommitAndAnInvalidationDropsAll) {
  IdentityCache cache;
  const auto k = cache.key_of(WorkspaceId(1), "phone", "", "k1");
  cache.stage(k, 7);
  EXPECT_FALSE(cache.find(k));
  cache.commit();
  EXPECT_EQ(cache.find(k), 7);
  EXPECT_EQ(cache.find_all_shared({k, IdentityCache::Key{}}), (std::vector<int64_t>{7, 0}));
  const uint64_t epoch = cache.epoch_shared();
  cache.invalidate();
  cache.commit();
  EXPECT_FALSE(cache.find(k));
  EXPECT_FALSE(cache.unchanged_since(epoch));
}

}  // namespace
}  // namespace siyu::store::sqlite
