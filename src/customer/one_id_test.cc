// One-ID and store behaviour: merges keep everything, repeats change nothing, erase removes
// personal data, events and orders are idempotent, layers follow facts.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <thread>
#include <tuple>

#include "core/clock.h"
#include "customer/customer_service.h"
#include "support/temp_dir.h"
#include "support/test_store.h"

namespace siyu::customer {
namespace {

class OneIdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(security::init().is_ok());
    store_ = testing::open_test_store(dir_);
    ws_ = store_->create_workspace({WorkspaceId(), "a", "A", "Asia/Shanghai", 0})->id;
    other_ = store_->create_workspace({WorkspaceId(), "b", "B", "Asia/Shanghai", 0})->id;
    service_ = std::make_unique<CustomerService>(*store_, vault_, clock_);
  }

  Json ident(const std::string& type, const std::string& value, const std::string& app = "") {
    Json j = {{"type", type}, {"value", value}};
    if (!app.empty()) j["app_id"] = app;
    return j;
  }

  store::PendingEvent event_for(const std::string& id, const std::string& type,
                                const store::Identity& who, EpochMs ts) {
    store::PendingEvent p;
    p.event.event_id = id;
    p.event.type = type;
    p.event.ts = ts;
    p.identity = who;
    return p;
  }

  testing::TempDir dir_;
  security::Vault vault_ = security::Vault::from_key({});
  ManualClock clock_{1'790'000'000'000};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<CustomerService> service_;
  WorkspaceId ws_, other_;
  const View admin_{true, true};
};

TEST_F(OneIdTest, IdentifyMergesAndSurvivorKeepsEverything) {
  const IdentityCodec codec(vault_, ws_);
  auto phone = *codec.make("phone", "13800138000", "", "p");
  auto openid = *codec.make("wechat_openid", "o_1", "wx_app", "o");
  // Two customers known by different identities, each with an event, an order and a tag.
  std::vector<store::PendingEvent> batch = {event_for("e1", "login", phone, 1000),
                                            event_for("e2", "view", openid, 2000)};
  auto ingested = store_->ingest_events(ws_, batch, clock_.now_ms());
  ASSERT_TRUE(ingested.has_value());
  EXPECT_EQ(ingested->created.size(), 2U);
  const CustomerId a = batch[0].event.customer, b = batch[1].event.customer;
  ASSERT_NE(a, b);
  std::vector<store::PendingOrder> orders(1);
  orders[0].customer = b;
  orders[0].order = {"o-1", CustomerId(), "paid", 990, 0, "CNY", "s", "", "", "[]", 3000, 3000,
                     std::nullopt, 0};
  ASSERT_TRUE(store_->upsert_orders(ws_, orders, 4000).has_value());
  ASSERT_TRUE(store_->add_tag(ws_, {b, "vip", "test", 5000, std::nullopt}).is_ok());

  Json body = {{"identities", {ident("phone", "+86 138-0013-8000"), ident("wechat_openid", "o_1", "wx_app")}}};
  auto out = service_->identify(ws_, body, admin_);
  ASSERT_TRUE(out.has_value()) << out.error().to_string();
  EXPECT_EQ((*out)["customer"]["id"], a.value);
  EXPECT_EQ((*out)["merged"], Json::array({b.value}));
  EXPECT_EQ((*out)["customer"]["tags"], Json::array({"vip"}));
  EXPECT_EQ((*out)["customer"]["identities"].size(), 2u);
  EXPECT_EQ(store_->events(ws_, a, std::nullopt, 10)->size(), 2u);
  EXPECT_EQ(store_->customer_orders(ws_, a, 10)->size(), 1u);
  EXPECT_EQ(store_->merges(ws_, a)->size(), 1u);
  EXPECT_EQ(*store_->customer(ws_, b)->merged_into, a);

  // Repeating the call changes nothing.
  auto again = service_->identify(ws_, body, admin_);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE((*again)["merged"].empty());
  EXPECT_EQ((*again)["identities_added"], 0);
  EXPECT_EQ(store_->merges(ws_, a)->size(), 1u);

  // A later event for the merged-away id lands on the survivor.
  std::vector<store::PendingEvent> later(1);
  later[0].event.event_id = "e3";
  later[0].event.type = "login";
  later[0].event.ts = 6000;
  later[0].customer = b;
  ASSERT_TRUE(store_->ingest_events(ws_, later, 7000).has_value());
  EXPECT_EQ(later[0].event.customer, a);
  EXPECT_EQ(store_->events(ws_, a, std::nullopt, 10)->size(), 3u);
  // So does one named by an identity that was the merged-away customer's (the writer's
  // identity cache must not remember the old owner).
  std::vector<store::PendingEvent> by_identity = {event_for("e4", "view", openid, 8000)};
  ASSERT_TRUE(store_->ingest_events(ws_, by_identity, 9000).has_value());
  EXPECT_EQ(by_identity[0].event.customer, a);
  // Reading the merged-away id answers with the survivor.
  auto got = service_->get(ws_, b, admin_);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ((*got)["id"], a.value);
}

TEST_F(OneIdTest, IdentityFirstSeenInAnEventIsSealedAtRest) {
  const IdentityCodec codec(vault_, ws_);
  std::vector<store::PendingEvent> batch = {
      event_for("e1", "login", *codec.make("phone", "13700001234", "", "p"), 1)};
  ASSERT_TRUE(store_->ingest_events(ws_, batch, 10).has_value());
  auto ids = store_->identities(ws_, batch[0].event.customer);
  ASSERT_EQ(ids->size(), 1u);
  EXPECT_EQ((*ids)[0].sealed.find("13700001234"), std::string::npos);
  EXPECT_EQ(*codec.unseal((*ids)[0].sealed, "phone"), "13700001234");
}

TEST_F(OneIdTest, CustomerFirstSeenInAnEventIsStoredLikeAnEmptyAnonymousOne) {
  const IdentityCodec codec(vault_, ws_);
  std::vector<store::PendingEvent> batch = {
      event_for("e1", "login", *codec.make("wechat_unionid", "u-new", "", "p"), 1)};
  ASSERT_TRUE(store_->ingest_events(ws_, batch, 10).has_value());
  store::Customer empty;
  empty.workspace = ws_;
  empty.anonymous = true;
  empty.created_at = empty.updated_at = 10;
  const auto created = store_->create_customer(empty, {});
  ASSERT_TRUE(created.has_value());
  const auto from_event = store_->customer(ws_, batch[0].event.customer);
  const auto from_create = store_->customer(ws_, created->id);
  ASSERT_TRUE(from_event.has_value() && from_create.has_value());
  const auto stored = [](const store::Customer& c) {
    return std::tuple(c.name, c.gender, c.birthday, c.city, c.phone_sealed, c.phone_masked,
                      c.email_sealed, c.email_masked, c.custom_json, c.owner_staff, c.channel,
                      c.campaign, c.content, c.referrer_staff, c.referrer_partner, c.layer,
                      c.anonymous, c.merged_into, c.erased_at, c.created_at, c.updated_at);
  };
  EXPECT_NE(from_event->id, from_create->id);
  EXPECT_TRUE(stored(*from_event) == stored(*from_create));
  EXPECT_TRUE(from_event->anonymous);
}

TEST_F(OneIdTest, ConcurrentWritersAreCommittedTogetherAndAFailureChangesNothingElse) {
  const IdentityCodec codec(vault_, ws_);
  std::vector<std::thread> writers;
  std::atomic<int> conflicts{0};
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int b = 0; b < 25; ++b) {
        std::vector<store::PendingEvent> batch;
        for (int i = 0; i < 20; ++i) {
          const std::string id = std::to_string(t) + "-" + std::to_string(b) + "-" + std::to_string(i);
          batch.push_back(event_for(id, "view", *codec.make("app_user_id", "u" + std::to_string(i), "", "u"), 1));
        }
        ASSERT_TRUE(store_->ingest_events(ws_, batch, 2).has_value());
        // A write that fails (duplicate slug) in the same groups as the ingests.
        if (store_->create_workspace({WorkspaceId(), "a", "again", "Asia/Shanghai", 0}).error().code() ==
            ErrorCode::kConflict) {
          ++conflicts;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(*store_->count_events(ws_), 4 * 25 * 20);
  EXPECT_EQ(conflicts.load(), 100);
  EXPECT_EQ(store_->workspaces()->size(), 2u);
  int64_t per_customer = 0;
  for (int i = 0; i < 20; ++i) {
    auto owner = store_->find_identity(ws_, "app_user_id", "", "u" + std::to_string(i));
    per_customer += static_cast<int64_t>(store_->events(ws_, (*owner)->customer, std::nullopt, 1000)->size());
  }
  EXPECT_EQ(per_customer, 2000);  // exactly 20 customers, none created twice
  EXPECT_EQ(*store_->count_customers(ws_), 20);
}

TEST_F(OneIdTest, EventsNeverLandOnAMergedAwayCustomerWhileMergesRun) {
  const IdentityCodec codec(vault_, ws_);
  const auto person = [&](int i) { return *codec.make("app_user_id", "m" + std::to_string(i), "", "m"); };
  constexpr int kPeople = 40;
  std::vector<store::PendingEvent> first;
  for (int i = 0; i < kPeople; ++i) first.push_back(event_for("first-" + std::to_string(i), "view", person(i), 1));
  ASSERT_TRUE(store_->ingest_events(ws_, first, 2).has_value());
  // One thread ingests events of everybody, by identity or id (the writer's cache knows them
  // all), while another merges them pairwise, each merge dropping the cached owners.
  std::thread ingesting([&] {
    std::mt19937 rng(3);
    for (int b = 0; b < 300; ++b) {
      std::vector<store::PendingEvent> batch;
      for (int i = 0; i < 10; ++i) {
        const int who = static_cast<int>(rng() % kPeople);
        batch.push_back(event_for("b" + std::to_string(b) + "-" + std::to_string(i), "view", person(who), 3));
        if (i % 2 == 1) {  // named by customer id instead (the first events made ids 1…kPeople)
          batch.back().identity.reset();
          batch.back().customer = CustomerId(1 + who);
        }
      }
      ASSERT_TRUE(store_->ingest_events(ws_, batch, 4).has_value());
    }
  });
  for (int i = 0; i + 1 < kPeople; i += 2) {
    Json body = {{"identities", Json::array({ident("app_user_id", "m" + std::to_string(i)),
                                             ident("app_user_id", "m" + std::to_string(i + 1))})}};
    ASSERT_TRUE(service_->identify(ws_, body, admin_).has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ingesting.join();
  int64_t on_live = 0;
  for (int64_t id = 1; id <= kPeople; ++id) {
    auto c = store_->customer(ws_, CustomerId(id));
    ASSERT_TRUE(c.has_value());
    const auto events = static_cast<int64_t>(store_->events(ws_, CustomerId(id), std::nullopt, 10'000)->size());
    if (c->merged_into) {
      EXPECT_EQ(events, 0) << "customer " << id << " was merged away";
    } else {
      on_live += events;
    }
  }
  EXPECT_EQ(on_live, kPeople + 300 * 10);
}

TEST_F(OneIdTest, ListPagesByJoiningTimeMatchAPlainSort) {
  // Joining times out of id order, with ties.
  std::vector<std::pair<store::Customer, std::vector<store::Identity>>> batch;
  std::mt19937 rng(7);
  for (int i = 0; i < 40; ++i) {
    store::Customer c;
    c.created_at = c.updated_at = 1000 + static_cast<EpochMs>(rng() % 15);
    batch.emplace_back(c, std::vector<store::Identity>{});
  }
  auto ids = store_->create_customers(ws_, batch);
  ASSERT_TRUE(ids.has_value());
  std::vector<std::pair<EpochMs, int64_t>> expected;
  for (size_t i = 0; i < ids->size(); ++i) expected.emplace_back(batch[i].first.created_at, (*ids)[i].value);
  for (bool ascending : {true, false}) {
    auto want = expected;
    std::sort(want.begin(), want.end());
    if (!ascending) std::reverse(want.begin(), want.end());
    store::CustomerFilter f;
    f.by_created = true;
    f.ascending = ascending;
    f.limit = 7;
    std::vector<std::pair<EpochMs, int64_t>> got;
    for (int page = 0; page < 20; ++page) {
      auto rows = store_->customers(ws_, f);
      ASSERT_TRUE(rows.has_value());
      for (const auto& c : *rows) got.emplace_back(c.created_at, c.id.value);
      if (static_cast<int>(rows->size()) < f.limit) break;
      f.continue_after(rows->back());
    }
    EXPECT_EQ(got, want) << (ascending ? "ascending" : "descending");
  }
}

TEST_F(OneIdTest, DuplicateEventIdIsStoredOnce) {
  const IdentityCodec codec(vault_, ws_);
  auto who = *codec.make("app_user_id", "u1", "", "u");
  std::vector<store::PendingEvent> batch = {event_for("dup", "login", who, 1),
                                            event_for("dup", "login", who, 1)};
  auto r = store_->ingest_events(ws_, batch, 10);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcomes[0], store::IngestOutcome::kStored);
  EXPECT_EQ(r->outcomes[1], store::IngestOutcome::kDuplicate);
  EXPECT_EQ(*store_->count_events(ws_), 1);
  // Event ids are per workspace.
  auto other = store_->ingest_events(other_, batch, 10);
  EXPECT_EQ(other->outcomes[0], store::IngestOutcome::kStored);
}

TEST_F(OneIdTest, PhoneIsSealedAndMaskedUnlessRevealed) {
  auto made = service_->create(ws_, {{"name", "王小明"}, {"phone", "13812345678"}}, View{false, false});
  ASSERT_TRUE(made.has_value()) << made.error().to_string();
  EXPECT_EQ((*made)["phone"], "138****5678");
  EXPECT_EQ((*made)["name"], "王**");
  const CustomerId id((*made)["id"].get<int64_t>());
  auto row = store_->customer(ws_, id);
  EXPECT_EQ(row->phone_sealed.find("13812345678"), std::string::npos);
  EXPECT_EQ((*service_->get(ws_, id, admin_))["phone"], "13812345678");
  EXPECT_EQ((*service_->get(ws_, id, admin_))["identities"][0]["value"], "13812345678");
  EXPECT_EQ((*service_->get(ws_, id, View{true, false}))["identities"][0]["value"], "138****5678");
  // The same phone can't be given to a second customer, but it can in another workspace.
  EXPECT_EQ(service_->create(ws_, {{"phone", "138 1234 5678"}}, admin_).error().code(),
            ErrorCode::kConflict);
  EXPECT_TRUE(service_->create(other_, {{"phone", "13812345678"}}, admin_).has_value());
}

TEST_F(OneIdTest, EraseRemovesIdentitiesAndPersonalFields) {
  auto made = service_->create(ws_, {{"name", "李四"}, {"phone", "13900000000"}, {"city", "上海"}}, admin_);
  const CustomerId id((*made)["id"].get<int64_t>());
  ASSERT_TRUE(service_->erase(ws_, id).is_ok());
  EXPECT_TRUE(store_->identities(ws_, id)->empty());
  auto row = store_->customer(ws_, id);
  EXPECT_TRUE(row->name.empty());
  EXPECT_TRUE(row->phone_sealed.empty());
  EXPECT_TRUE(row->erased_at.has_value());
  EXPECT_EQ(service_->get(ws_, id, admin_).error().code(), ErrorCode::kNotFound);
  // The phone is free again.
  EXPECT_TRUE(service_->create(ws_, {{"phone", "13900000000"}}, admin_).has_value());
}

TEST_F(OneIdTest, LayerFollowsRelationshipFacts) {
  const IdentityCodec codec(vault_, ws_);
  auto who = *codec.make("member_card", "M1", "", "m");
  auto with_relation = [&](const std::string& id, const std::string& type, store::RelationChange rc, EpochMs ts) {
    auto p = event_for(id, type, who, ts);
    p.relation = rc;
    return p;
  };
  std::vector<store::PendingEvent> batch = {
      with_relation("f", "follow", {"follow", "mp", true}, 1),
      with_relation("g", "join_group", {"group", "7", true}, 2)};
  ASSERT_TRUE(store_->ingest_events(ws_, batch, 10).has_value());
  const CustomerId c = batch[0].event.customer;
  EXPECT_EQ(store_->customer(ws_, c)->layer, "community");
  std::vector<store::PendingEvent> leave = {with_relation("l", "leave_group", {"group", "7", false}, 3)};
  ASSERT_TRUE(store_->ingest_events(ws_, leave, 10).has_value());
  EXPECT_EQ(store_->customer(ws_, c)->layer, "fan");
  // Two paid orders make a repeat buyer: member.
  std::vector<store::PendingOrder> orders(2);
  for (int i = 0; i < 2; ++i) {
    orders[static_cast<size_t>(i)].customer = c;
    orders[static_cast<size_t>(i)].order = {"o" + std::to_string(i), CustomerId(), "paid", 100, 0,
                                            "CNY", "", "", "", "[]", 4 + i, 4 + i, std::nullopt, 0};
  }
  ASSERT_TRUE(store_->upsert_orders(ws_, orders, 10).has_value());
  EXPECT_EQ(store_->customer(ws_, c)->layer, "member");
  auto timeline = store_->timeline(ws_, c, std::nullopt, 50);
  int layer_rows = 0;
  for (const auto& t : *timeline) layer_rows += t.kind == "layer";
  EXPECT_EQ(layer_rows, 4);  // none→fan→community→fan→member
}

TEST_F(OneIdTest, OrderUpsertIsIdempotentAndOnlyStatusMayChange) {
  auto made = service_->create(ws_, {{"name", "A"}}, admin_);
  const CustomerId c((*made)["id"].get<int64_t>());
  std::vector<store::PendingOrder> orders(1);
  orders[0].customer = c;
  orders[0].order = {"o1", CustomerId(), "paid", 500, 0, "CNY", "", "", "", "[]", 1, 1, std::nullopt, 0};
  EXPECT_EQ((*store_->upsert_orders(ws_, orders, 2))[0].outcome, store::OrderOutcome::kCreated);
  EXPECT_EQ((*store_->upsert_orders(ws_, orders, 3))[0].outcome, store::OrderOutcome::kUnchanged);
  orders[0].order.status = "refunded";
  orders[0].order.refund_amount = 500;
  orders[0].order.refunded_at = 5;
  EXPECT_EQ((*store_->upsert_orders(ws_, orders, 6))[0].outcome, store::OrderOutcome::kUpdated);
  orders[0].order.amount = 999;
  EXPECT_EQ((*store_->upsert_orders(ws_, orders, 7))[0].status.code(), ErrorCode::kConflict);
  EXPECT_EQ(store_->order(ws_, "o1")->amount, 500);
  EXPECT_EQ(store_->order(other_, "o1").error().code(), ErrorCode::kNotFound);
}

TEST_F(OneIdTest, CustomFieldsAreTypedAndPersonalOnesSealed) {
  ASSERT_TRUE(service_->define_field(ws_, {{"name", "shoe_size"}, {"type", "number"}}).is_ok());
  ASSERT_TRUE(service_->define_field(ws_, {{"name", "id_card"}, {"type", "string"}, {"personal", true}}).is_ok());
  EXPECT_EQ(service_->create(ws_, {{"custom", {{"shoe_size", "big"}}}}, admin_).error().field(), "custom.shoe_size");
  EXPECT_EQ(service_->create(ws_, {{"custom", {{"nope", 1}}}}, admin_).error().field(), "custom.nope");
  auto made = service_->create(ws_, {{"custom", {{"shoe_size", 38}, {"id_card", "110101199001011234"}}}}, View{true, false});
  ASSERT_TRUE(made.has_value()) << made.error().to_string();
  EXPECT_EQ((*made)["custom"]["id_card"], "****");
  const CustomerId id((*made)["id"].get<int64_t>());
  EXPECT_EQ(store_->customer(ws_, id)->custom_json.find("110101"), std::string::npos);
  EXPECT_EQ((*service_->get(ws_, id, admin_))["custom"]["id_card"], "110101199001011234");
}

// On random batches in two workspaces (whose customer ids overlap) with merges between them,
// every customer's events must be exactly those a plain list of what was ingested says, newest
// first, also when read from a point in time.
TEST_F(OneIdTest, CustomerEventsMatchAReferenceThroughMerges) {
  std::mt19937 rng(7);
  struct Seen {
    std::string id;
    EpochMs ts;
  };
  const WorkspaceId spaces[] = {ws_, other_};
  // Per workspace: phone number -> customer, and customer -> its events.
  std::map<int64_t, std::map<int, CustomerId>> owner;
  std::map<int64_t, std::map<int64_t, std::vector<Seen>>> expected;
  const auto check = [&](WorkspaceId ws) {
    for (const auto& [cust, seen] : expected[ws.value]) {
      std::vector<Seen> want = seen;
      std::sort(want.begin(), want.end(), [](const Seen& a, const Seen& b) {
        return a.ts != b.ts ? a.ts > b.ts : a.id > b.id;  // ids grow with arrival (seq)
      });
      auto got = store_->events(ws, CustomerId(cust), std::nullopt, 1000);
      ASSERT_TRUE(got.has_value());
      ASSERT_EQ(got->size(), want.size()) << "customer " << cust;
      for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ((*got)[i].event_id, want[i].id);
      const EpochMs before = want.empty() ? 0 : want[want.size() / 2].ts;
      auto older = store_->events(ws, CustomerId(cust), before, 1000);
      const auto older_want = static_cast<size_t>(std::count_if(
          want.begin(), want.end(), [&](const Seen& e) { return e.ts < before; }));
      EXPECT_EQ(older->size(), older_want) << "customer " << cust << " before " << before;
    }
  };
  int next_event = 0;
  for (int round = 0; round < 60; ++round) {
    const WorkspaceId ws = spaces[rng() % 2];
    const IdentityCodec codec(vault_, ws);
    std::vector<store::PendingEvent> batch;
    std::vector<int> phones;
    const int size = 1 + static_cast<int>(rng() % 7);
    for (int i = 0; i < size; ++i) {
      const int phone = static_cast<int>(rng() % 12);
      char id[16];
      std::snprintf(id, sizeof id, "e%06d", next_event++);
      batch.push_back(event_for(id, "view", *codec.make("phone", "1380000" + std::to_string(1000 + phone), "", "p"),
                                static_cast<EpochMs>(rng() % 50) * 1000));
      phones.push_back(phone);
    }
    ASSERT_TRUE(store_->ingest_events(ws, batch, clock_.now_ms()).has_value());
    for (size_t i = 0; i < batch.size(); ++i) {
      owner[ws.value][phones[i]] = batch[i].event.customer;
      expected[ws.value][batch[i].event.customer.value].push_back(
          {batch[i].event.event_id, batch[i].event.ts});
    }
    if (round % 9 == 8) {
      // Two phones of this workspace become one person.
      auto& phones_of = owner[ws.value];
      auto a = phones_of.begin();
      auto b = std::next(a, static_cast<std::ptrdiff_t>(1 + rng() % (phones_of.size() - 1)));
      if (a->second == b->second) continue;
      Json body = {{"identities", {ident("phone", "1380000" + std::to_string(1000 + a->first)),
                                   ident("phone", "1380000" + std::to_string(1000 + b->first))}}};
      auto out = service_->identify(ws, body, admin_);
      ASSERT_TRUE(out.has_value()) << out.error().to_string();
      const CustomerId survivor((*out)["customer"]["id"].get<int64_t>());
      for (const auto& merged : (*out)["merged"]) {
        const int64_t loser = merged.get<int64_t>();
        auto& moved = expected[ws.value][loser];
        auto& kept = expected[ws.value][survivor.value];
        kept.insert(kept.end(), moved.begin(), moved.end());
        expected[ws.value].erase(loser);
        for (auto& [phone, cust] : phones_of) {
          if (cust.value == loser) cust = survivor;
        }
      }
    }
    check(ws);
  }
  check(ws_);
  check(other_);
}

}  // namespace
}  // namespace siyu::customer
