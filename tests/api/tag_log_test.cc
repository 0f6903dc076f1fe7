// The tag log (docs/design/tag-log.md) with an applier that moves two customers a step: after
// every random operation — bulk and single adds and removes, expiries, merges, erases, deleted
// tags, restarts with changes pending — each live customer's tags, tag history, the holders
// the index reads, the customer list filtered by each tag and the facts the index refreshes
// from equal a plain reference kept in operation order.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/json.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace siyu::store {
namespace {

constexpr EpochMs kStart = 1'780'000'000'000;
constexpr int kCustomers = 24;
const char* const kTags[] = {"vip", "护肤", "lapsed", "new"};

/// A tag as the reference holds it: who added it, when, and its expiry.
struct Held {
  std::string by;
  EpochMs at = 0;
  std::optional<EpochMs> expires_at;
  bool operator==(const Held&) const = default;
};

class TagLogTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    open();
    ws_ = store_->create_workspace({WorkspaceId(), "brand", "B", "Asia/Shanghai", 0})->id;
    other_ = store_->create_workspace({WorkspaceId(), "other", "O", "Asia/Shanghai", 0})->id;
    for (int n = 0; n < kCustomers; ++n) {
      Identity i;
      i.type = "app_user_id";
      i.key = "u" + std::to_string(n);
      Customer c;
      c.workspace = ws_;
      c.created_at = c.updated_at = kStart;
      auto made = store_->create_customer(c, {i});
      ASSERT_TRUE(made.has_value()) << made.error().to_string();
      live_.push_back(made->id);
      identity_of_[made->id.value] = i;
    }
    // A customer of another workspace, named in this one's operations: never tagged.
    Customer c;
    c.workspace = other_;
    c.created_at = c.updated_at = kStart;
    foreign_ = store_->create_customer(c, {})->id;
  }

  /// The parameter: whether the applier runs in the background (else only readers, merges,
  /// erases, expiries and restarts apply the log).
  void open() {
    StoreConfig cfg;
    cfg.data_dir = dir_.str();
    cfg.durable = false;
    cfg.tag_apply_step = 2;
    cfg.apply_tags_in_background = GetParam();
    auto opened = open_store(cfg);
    ASSERT_TRUE(opened.has_value()) << opened.error().to_string();
    store_ = std::move(opened).value();
  }

  std::vector<CustomerId> some_customers() {
    std::vector<CustomerId> out;
    std::vector<CustomerId> pool = live_;
    pool.insert(pool.end(), gone_.begin(), gone_.end());
    pool.push_back(foreign_);
    for (CustomerId id : pool) {
      if (rng_() % 3 == 0) out.push_back(id);
    }
    if (!out.empty() && rng_() % 4 == 0) out.push_back(out.front());  // named twice
    std::shuffle(out.begin(), out.end(), rng_);
    return out;
  }

  bool is_live(CustomerId id) const {
    return std::find(live_.begin(), live_.end(), id) != live_.end();
  }

  std::string random_tag() { return kTags[rng_() % std::size(kTags)]; }

  void tag_many() {
    const auto ids = some_customers();
    const std::string tag = random_tag();
    const bool remove = rng_() % 3 == 0;
    std::optional<EpochMs> expires;
    if (!remove && rng_() % 2 == 0) expires = now_ + static_cast<EpochMs>(rng_() % 5) * 1000;
    auto changed = store_->bulk_tag(ws_, ids, tag, remove, "op", now_, expires);
    ASSERT_TRUE(changed.has_value()) << changed.error().to_string();
    int64_t expected = 0;
    std::set<int64_t> seen;
    for (CustomerId id : ids) {
      if (!is_live(id) || !seen.insert(id.value).second) continue;
      expected += remove ? untag(id, tag, "op") : tag_one(id, tag, "op", expires);
    }
    EXPECT_EQ(*changed, expected) << "changed count of a bulk " << (remove ? "remove" : "add");
  }

  void tag_single() {
    const CustomerId id = live_[rng_() % live_.size()];
    const std::string tag = random_tag();
    if (rng_() % 2 == 0) {
      Tag t{id, tag, "single", now_, std::nullopt};
      ASSERT_TRUE(store_->add_tag(ws_, t).is_ok());
      tag_one(id, tag, "single", std::nullopt);
    } else {
      ASSERT_TRUE(store_->remove_tag(ws_, id, tag, "single", now_).is_ok());
      untag(id, tag, "single");
    }
  }

  void expire() {
    auto gone = store_->expire_tags(ws_, now_);
    ASSERT_TRUE(gone.has_value()) << gone.error().to_string();
    std::vector<int64_t> expected;
    for (auto& [customer, tags] : held_) {
      for (auto it = tags.begin(); it != tags.end();) {
        if (it->second.expires_at && *it->second.expires_at <= now_) {
          history_[customer].emplace_back(now_, it->first, "remove");
          expected.push_back(customer);
          it = tags.erase(it);
        } else {
          ++it;
        }
      }
    }
    std::vector<int64_t> got;
    for (CustomerId id : *gone) got.push_back(id.value);
    std::sort(got.begin(), got.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(got, expected) << "expired";
  }

  void merge_two() {
    if (live_.size() < 3) return;
    const CustomerId a = live_[rng_() % live_.size()];
    const CustomerId b = live_[rng_() % live_.size()];
    if (a == b) return;
    auto outcome = store_->identify(ws_, {identity_of_[a.value], identity_of_[b.value]}, now_);
    ASSERT_TRUE(outcome.has_value()) << outcome.error().to_string();
    ASSERT_EQ(outcome->merged.size(), 1u);
    const int64_t survivor = outcome->customer.value;
    const int64_t loser = outcome->merged[0].value;
    for (auto& [tag, h] : held_[loser]) held_[survivor].try_emplace(tag, h);
    held_.erase(loser);
    auto& moved = history_[loser];
    history_[survivor].insert(history_[survivor].end(), moved.begin(), moved.end());
    history_.erase(loser);
    bury(CustomerId(loser));
  }

  void erase_one() {
    if (live_.size() < 3) return;
    const CustomerId id = live_[rng_() % live_.size()];
    ASSERT_TRUE(store_->erase_customer(ws_, id, now_).is_ok());
    held_.erase(id.value);
    history_.erase(id.value);
    bury(id);
  }

  void delete_a_tag() {
    const std::string tag = random_tag();
    auto gone = store_->delete_tag(ws_, tag, "op", now_);
    bool any = false;
    for (auto& [customer, tags] : held_) {
      if (tags.erase(tag) > 0) {
        history_[customer].emplace_back(now_, tag, "remove");
        any = true;
      }
    }
    if (any) {
      ASSERT_TRUE(gone.has_value()) << gone.error().to_string();
    }
  }

  /// The reference's add: true when the customer gained the tag.
  bool tag_one(CustomerId id, const std::string& tag, const std::string& by,
               std::optional<EpochMs> expires) {
    auto [it, fresh] = held_[id.value].try_emplace(tag, Held{by, now_, expires});
    if (!fresh) {
      it->second.expires_at = expires;
      return false;
    }
    history_[id.value].emplace_back(now_, tag, "add");
    return true;
  }

  bool untag(CustomerId id, const std::string& tag, const std::string&) {
    if (held_[id.value].erase(tag) == 0) return false;
    history_[id.value].emplace_back(now_, tag, "remove");
    return true;
  }

  void bury(CustomerId id) {
    live_.erase(std::find(live_.begin(), live_.end(), id));
    gone_.push_back(id);
  }

  /// Every live customer's tags and history, and each tag's holders, against the reference.
  void check(const std::string& after) {
    // The holders first, before any reader: they must not need the log applied.
    // Merged-away and erased customers keep no tags and no history.
    for (CustomerId id : gone_) {
      auto tags = store_->tags(ws_, id);
      ASSERT_TRUE(tags.has_value()) << tags.error().to_string();
      ASSERT_TRUE(tags->empty()) << "tags of gone customer " << id.value << " after " << after;
      auto items = store_->timeline(ws_, id, std::nullopt, 1000);
      ASSERT_TRUE(items.has_value()) << items.error().to_string();
      for (const TimelineItem& item : *items) {
        ASSERT_NE(item.kind, "tag")
            << "history of gone customer " << id.value << " after " << after;
      }
    }
    std::vector<CustomerId> everyone = live_;
    everyone.insert(everyone.end(), gone_.begin(), gone_.end());
    everyone.push_back(foreign_);
    for (const char* tag : kTags) {
      auto holders = store_->tagged_among(ws_, tag, everyone);
      ASSERT_TRUE(holders.has_value()) << holders.error().to_string();
      std::vector<int64_t> got, expected;
      for (CustomerId id : *holders) got.push_back(id.value);
      for (CustomerId id : live_) {
        if (held_[id.value].contains(tag)) expected.push_back(id.value);
      }
      ASSERT_EQ(got, expected) << "holders of " << tag << " after " << after;
      // The customer list filtered by the tag, with the log pending or not.
      CustomerFilter filter;
      filter.tag = tag;
      filter.ascending = true;
      filter.limit = 1000;
      auto listed = store_->customers(ws_, filter);
      ASSERT_TRUE(listed.has_value()) << listed.error().to_string();
      got.clear();
      for (const Customer& c : *listed) got.push_back(c.id.value);
      ASSERT_EQ(got, expected) << "customers listed by " << tag << " after " << after;
    }
    // The facts the index reads: each live customer's tags, in order.
    auto facts = store_->customer_facts(ws_, everyone, 0, false);
    ASSERT_TRUE(facts.has_value()) << facts.error().to_string();
    std::map<int64_t, std::vector<std::string>> facts_tags;
    for (const CustomerFacts& f : facts->facts) facts_tags[f.id.value] = f.tags;
    for (CustomerId id : live_) {
      std::vector<std::string> expected;
      for (const auto& [tag, held] : held_[id.value]) expected.push_back(tag);
      ASSERT_EQ(facts_tags[id.value], expected)
          << "facts of customer " << id.value << " after " << after;
    }
    for (CustomerId id : gone_) {
      ASSERT_TRUE(facts_tags[id.value].empty())
          << "facts of gone customer " << id.value << " after " << after;
    }
    for (CustomerId id : live_) {
      auto tags = store_->tags(ws_, id);
      ASSERT_TRUE(tags.has_value()) << tags.error().to_string();
      std::map<std::string, Held> got;
      for (const Tag& t : *tags) got[t.tag] = Held{t.added_by, t.added_at, t.expires_at};
      ASSERT_EQ(got, held_[id.value]) << "tags of customer " << id.value << " after " << after;
      auto items = store_->timeline(ws_, id, std::nullopt, 1000);
      ASSERT_TRUE(items.has_value()) << items.error().to_string();
      History history;
      for (const TimelineItem& item : *items) {
        if (item.kind != "tag") continue;
        history.emplace_back(item.at, item.title,
                             Json::parse(item.detail_json).value("action", ""));
      }
      // A merge interleaves two histories, and one operation may leave two items of a tag at
      // one time: compare in (time, tag, action) order.
      std::sort(history.begin(), history.end());
      History expected = history_[id.value];
      std::sort(expected.begin(), expected.end());
      ASSERT_EQ(history, expected) << "history of customer " << id.value << " after " << after;
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  WorkspaceId ws_, other_;
  CustomerId foreign_;
  std::vector<CustomerId> live_, gone_;
  std::map<int64_t, Identity> identity_of_;
  std::map<int64_t, std::map<std::string, Held>> held_;
  using History = std::vector<std::tuple<EpochMs, std::string, std::string>>;  // at, tag, action
  std::map<int64_t, History> history_;
  EpochMs now_ = kStart;
  std::mt19937_64 rng_{20261129};
};

TEST_P(TagLogTest, EveryCustomersTagsHistoryAndHoldersEqualAReference) {
  for (int step = 0; step < 400; ++step) {
    now_ += 700;
    const auto roll = rng_() % 100;
    // What is not tagging itself meets changes pending in the log.
    if (roll >= 65) tag_many();
    if (HasFatalFailure()) return;
    std::string what;
    if (roll < 45) {
      what = "bulk tagging";
      tag_many();
    } else if (roll < 65) {
      what = "a single tag change";
      tag_single();
    } else if (roll < 75) {
      what = "an expiry sweep";
      expire();
    } else if (roll < 80) {
      what = "a merge";
      merge_two();
    } else if (roll < 83) {
      what = "an erase";
      erase_one();
    } else if (roll < 86) {
      what = "a deleted tag";
      delete_a_tag();
    } else if (roll < 92) {
      what = "a restart";
      store_.reset();
      open();
    } else {
      what = "bulk tagging (unchecked)";
      tag_many();
      continue;  // several operations pile up in the log before the next check
    }
    if (HasFatalFailure()) return;
    check(what + " at step " + std::to_string(step));
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Applier, TagLogTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "InBackground" : "OnDemand";
                         });

}  // namespace
}  // namespace siyu::store
