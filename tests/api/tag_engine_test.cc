// The tag engine through the API: auto-tag rules over behaviour (applied in the background
// after ingestion, previewed before they are switched on, owning their tag), tag expiry, bulk
// tagging by CSV, the tag catalogue, lifecycle and RFM, and the enter/exit feed of segments.
#include <chrono>
#include <optional>
#include <set>

#include "api/api_fixture.h"
#include "core/time_format.h"
#include "rules/tag_engine.h"

namespace siyu::api {
namespace {

class TagEngineApiTest : public ApiTest {
 protected:
  const Clock& clock() const override { return clock_; }

  int64_t count(const std::string& expr) {
    auto r = call("POST", "/v1/segments:count", analyst_a_, R"({"expression":)" + expr + "}");
    EXPECT_EQ(r.status, 200) << expr << " → " << r.raw;
    return r.body["count"].get<int64_t>();
  }

  Json sweep() {
    auto r = call("POST", "/v1/rules:sweep", key_a_, "{}");
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body;
  }

  /// Posts one event of `type` for the customer with app_user_id `user`, `days_ago` days ago.
  void event(const std::string& id, const std::string& type, const std::string& user,
             int days_ago, int amount = 0) {
    const std::string ts = format_timestamp(clock_.now_ms() - int64_t{days_ago} * kMsPerDay);
    auto r = call("POST", "/v1/events", key_a_,
                  R"([{"event_id":")" + id + R"(","type":")" + type + R"(","timestamp":")" + ts +
                      R"(","customer":{"type":"app_user_id","value":")" + user +
                      R"("},"amount":)" + std::to_string(amount) + "}]");
    ASSERT_EQ(r.status, 200) << r.raw;
  }

  /// A store and workspace of a test's own, which the server's sweeper never sees.
  struct OwnStore {
    explicit OwnStore(const std::string& slug)
        : db(testing::open_test_store(dir)),
          ws(db->create_workspace({WorkspaceId(), slug, slug, "Asia/Shanghai", 0})->id) {}
    testing::TempDir dir;
    std::unique_ptr<store::Store> db;
    WorkspaceId ws;
  };

  /// `n` new customers of `ws` living in 北京, joined at `joined` (now when not given).
  std::vector<store::Customer> in_beijing(store::Store& db, WorkspaceId ws, int n,
                                          std::optional<EpochMs> joined = std::nullopt) {
    std::vector<store::Customer> people;
    for (int i = 0; i < n; ++i) {
      store::Customer c;
      c.workspace = ws;
      c.city = "北京";
      c.anonymous = false;
      c.created_at = c.updated_at = joined.value_or(clock_.now_ms());
      people.push_back(*db.create_customer(c, {}));
    }
    return people;
  }

  /// Saves a segment; returns its id.
  int64_t saved_segment(store::Store& db, WorkspaceId ws, const std::string& name,
                        const std::string& expression) {
    store::Segment seg;
    seg.name = name;
    seg.expression_json = expression;
    seg.created_by = "t";
    seg.created_at = clock_.now_ms();
    return db.create_segment(ws, seg)->id;
  }

  /// Saves the segment of customers living in 上海; returns its id.
  int64_t shanghai_segment(store::Store& db, WorkspaceId ws) {
    return saved_segment(db, ws, "上海", R"({"attr":"city","op":"eq","value":"上海"})");
  }

  ManualClock clock_{SystemClock::instance().now_ms()};
};

TEST_F(TagEngineApiTest, RuleTagsFollowBehaviourSoonAfterIngestion) {
  event("a1", "order_paid", "u1", 10, 3000);
  event("a2", "order_paid", "u1", 100, 3000);  // outside the 90-day window
  event("b1", "login", "u2", 1);
  const std::string repeat = R"({"event":"order_paid","within_days":90,"count":{"gte":2}})";
  EXPECT_EQ(count(repeat), 0);
  // Preview before switching on: who would gain the tag.
  auto preview = call("POST", "/v1/rules:preview", analyst_a_,
                      R"({"tag":"复购","expression":{"event":"order_paid","within_days":365,"count":{"gte":2}}})");
  ASSERT_EQ(preview.status, 200) << preview.raw;
  EXPECT_EQ(preview.body["gain"], 1);
  EXPECT_EQ(preview.body["lose"], 0);
  auto rule = call("POST", "/v1/rules", key_a_,
                   R"({"name":"90天复购","tag":"复购","enabled":true,"expression":)" + repeat + "}");
  ASSERT_EQ(rule.status, 201) << rule.raw;
  EXPECT_EQ(sweep()["rules"], 1);
  EXPECT_EQ(count(R"({"tag":"复购"})"), 0);

  // A second order within the window: the background sweeper tags the customer.
  event("a3", "order_paid", "u1", 0, 2000);
  const auto start = std::chrono::steady_clock::now();
  while (count(R"({"tag":"复购"})") == 0 &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(20)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(count(R"({"tag":"复购"})"), 1);

  // The rule owns its tag: hand edits are refused while it is enabled.
  auto manual = call("POST", "/v1/customers/2/tags", key_a_, R"({"tag":"复购"})");
  EXPECT_EQ(manual.status, 409) << manual.raw;
  EXPECT_EQ(manual.body["error"]["field"], "tag");
  // 85 days later only the latest order is inside the 90-day window and the tag goes.
  clock_.advance(85 * kMsPerDay);
  sweep();
  EXPECT_EQ(count(R"({"tag":"复购"})"), 0);
  // Inactivity: no login in 30 days (u2 logged in 86 days ago now).
  EXPECT_EQ(count(R"({"and":[{"event":"login","within_days":30,"count":{"eq":0}},{"event":"login","within_days":90}]})"), 1);
  // Disabled, the tag may be edited by hand again; bad rules name their path.
  ASSERT_EQ(call("PATCH", "/v1/rules/" + std::to_string(rule.body["id"].get<int>()), key_a_,
                 R"({"enabled":false})").status, 200);
  EXPECT_EQ(call("POST", "/v1/customers/2/tags", key_a_, R"({"tag":"复购"})").status, 201);
  auto bad = call("POST", "/v1/rules", key_a_,
                  R"({"name":"x","tag":"y","expression":{"event":"login","within_days":400}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["error"]["field"], "expression.within_days");
  auto twice = call("POST", "/v1/rules", key_a_,
                    R"({"name":"again","tag":"复购","expression":{"tag":"vip"}})");
  EXPECT_EQ(twice.status, 409);
}

TEST_F(TagEngineApiTest, OneBatchOfSeveralTypesReachesTheRulesOfEachType) {
  for (const auto& [name, type] : {std::pair{"看过", "view"}, std::pair{"买过", "order_paid"}}) {
    auto rule =
        call("POST", "/v1/rules", key_a_,
             std::string(R"({"name":")") + name + R"(","tag":")" + name +
                 R"(","enabled":true,"expression":{"event":")" + type + R"(","within_days":1}})");
    ASSERT_EQ(rule.status, 201) << rule.raw;
  }
  // Known customers: a new one is re-checked by every rule, whatever its events.
  for (const char* user : {"u1", "u2", "u3"}) event(std::string("seed-") + user, "login", user, 0);
  EXPECT_EQ(sweep()["rules"], 2);
  // The sweeper takes the seeds' customers (touched in any way) 100 ms after them; the batch
  // must come later so that only its events touch them.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // One batch: u1 views, u2 pays, u3 both; only the background sweeper sees them.
  std::string batch = "[";
  const auto add = [&](const std::string& id, const std::string& type, const std::string& user) {
    batch += std::string(batch.size() > 1 ? "," : "") + R"({"event_id":")" + id + R"(","type":")" +
             type + R"(","timestamp":)" + std::to_string(clock_.now_ms()) +
             R"(,"customer":{"type":"app_user_id","value":")" + user + R"("}})";
  };
  add("v1", "view", "u1");
  add("p2", "order_paid", "u2");
  add("v3", "view", "u3");
  add("p3", "order_paid", "u3");
  batch += "]";
  ASSERT_EQ(call("POST", "/v1/events", key_a_, batch).status, 200);
  const auto start = std::chrono::steady_clock::now();
  while ((count(R"({"tag":"看过"})") < 2 || count(R"({"tag":"买过"})") < 2) &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(20)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(count(R"({"tag":"看过"})"), 2);
  EXPECT_EQ(count(R"({"tag":"买过"})"), 2);
  EXPECT_EQ(count(R"({"and":[{"tag":"看过"},{"tag":"买过"}]})"), 1);
}

TEST_F(TagEngineApiTest, TagsExpireAndBulkCsvTagsByPhone) {
  for (const char* phone : {"13800000001", "13800000002", "13800000003"}) {
    ASSERT_EQ(call("POST", "/v1/customers", key_a_, std::string(R"({"phone":")") + phone + R"("})").status, 201);
  }
  const std::string tomorrow = format_timestamp(clock_.now_ms() + kMsPerDay);
  auto tagged = call("POST", "/v1/customers/1/tags", key_a_,
                     R"({"tag":"试用券","expires_at":")" + tomorrow + R"("})");
  ASSERT_EQ(tagged.status, 201) << tagged.raw;
  EXPECT_EQ(call("POST", "/v1/customers/1/tags", key_a_,
                 R"({"tag":"x","expires_at":"2001-01-01"})").status, 400);
  sweep();
  EXPECT_EQ(count(R"({"tag":"试用券"})"), 1);
  clock_.advance(2 * kMsPerDay);
  sweep();  // the background sweeper may have been first; either removes it
  EXPECT_EQ(count(R"({"tag":"试用券"})"), 0);
  auto timeline = call("GET", "/v1/customers/1/timeline", key_a_);
  EXPECT_NE(timeline.raw.find("expiry"), std::string::npos) << timeline.raw;

  const std::string csv = "phone\r\n138 0000 0001\r\n13800000003\r\n13999999999\r\n";
  auto bulk = call("POST", "/v1/tags:bulk?tag=%E8%80%81%E5%AE%A2&action=add", key_a_, csv, "text/csv");
  ASSERT_EQ(bulk.status, 200) << bulk.raw;
  EXPECT_EQ(bulk.body["matched"], 2);
  EXPECT_EQ(bulk.body["changed"], 2);
  EXPECT_EQ(bulk.body["unmatched_lines"], Json::array({4}));
  EXPECT_EQ(count(R"({"tag":"老客"})"), 2);
  EXPECT_EQ(call("POST", "/v1/tags:bulk?tag=a", key_a_, "shoe\r\n1\r\n", "text/csv").status, 400);
  auto removed = call("POST", "/v1/tags:bulk?tag=%E8%80%81%E5%AE%A2&action=remove", key_a_,
                      "customer_id\n3\n", "text/csv");
  EXPECT_EQ(removed.body["changed"], 1);
  EXPECT_EQ(count(R"({"tag":"老客"})"), 1);
}

TEST_F(TagEngineApiTest, CatalogueGroupsTagsAndCountsCustomers) {
  ASSERT_EQ(call("POST", "/v1/customers", key_a_, "{}").status, 201);
  auto group = call("POST", "/v1/tag-groups", key_a_, R"({"name":"兴趣","description":"品类偏好"})");
  ASSERT_EQ(group.status, 201) << group.raw;
  EXPECT_EQ(call("POST", "/v1/tag-groups", key_a_, R"({"name":"兴趣"})").status, 409);
  const int gid = group.body["id"];
  ASSERT_EQ(call("POST", "/v1/tags", key_a_, R"({"name":"茶饮","group_id":)" + std::to_string(gid) + "}").status, 201);
  EXPECT_EQ(call("POST", "/v1/tags", key_a_, R"({"name":"x","group_id":99})").status, 404);
  ASSERT_EQ(call("POST", "/v1/customers/1/tags", key_a_, R"({"tag":"茶饮"})").status, 201);
  ASSERT_EQ(call("POST", "/v1/customers/1/tags", key_a_, R"({"tag":"未分组"})").status, 201);
  auto tags = call("GET", "/v1/tags", analyst_a_);
  ASSERT_EQ(tags.status, 200);
  ASSERT_EQ(tags.body["items"].size(), 2U) << tags.raw;
  for (const auto& t : tags.body["items"]) {
    EXPECT_EQ(t["customers"], 1);
    EXPECT_EQ(t["group_id"].is_null(), t["name"] == "未分组");
  }
  // Deleting the group ungroups its tags; deleting a tag removes it everywhere.
  EXPECT_EQ(call("DELETE", "/v1/tag-groups/" + std::to_string(gid), key_a_).status, 204);
  auto gone = call("DELETE", "/v1/tags/%E8%8C%B6%E9%A5%AE", key_a_);
  EXPECT_EQ(gone.status, 200) << gone.raw;
  EXPECT_EQ(gone.body["removed_from"], 1);
  EXPECT_EQ(count(R"({"tag":"茶饮"})"), 0);
  EXPECT_EQ(call("DELETE", "/v1/tags/nothing", key_a_).status, 404);
}

TEST_F(TagEngineApiTest, LifecycleRfmAndTheSegmentChangeFeed) {
  // Three buyers: u1 bought 5 times lately (loyal), u2 twice (repeat), u3 once long ago.
  for (int i = 0; i < 5; ++i) {
    auto r = call("POST", "/v1/orders", key_a_,
                  R"({"order_id":"o1-)" + std::to_string(i) + R"(","customer":{"type":"app_user_id","value":"u1"},"amount":10000,"status":"paid","ordered_at":")" +
                      format_timestamp(clock_.now_ms() - (i + 1) * kMsPerDay) + R"("})");
    ASSERT_EQ(r.status, 201) << r.raw;
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(call("POST", "/v1/orders", key_a_,
                   R"({"order_id":"o2-)" + std::to_string(i) + R"(","customer":{"type":"app_user_id","value":"u2"},"amount":3000,"status":"paid","ordered_at":")" +
                       format_timestamp(clock_.now_ms() - 5 * kMsPerDay) + R"("})").status, 201);
  }
  ASSERT_EQ(call("POST", "/v1/orders", key_a_,
                 R"({"order_id":"o3","customer":{"type":"app_user_id","value":"u3"},"amount":500,"status":"paid","ordered_at":")" +
                     format_timestamp(clock_.now_ms() - 200 * kMsPerDay) + R"("})").status, 201);
  auto u1 = call("GET", "/v1/customers/1", key_a_);
  ASSERT_EQ(u1.status, 200);
  EXPECT_EQ(u1.body["derived"]["paid_orders"], 5) << u1.raw;
  EXPECT_EQ(u1.body["derived"]["spend"], 50000);
  // Three buyers: two spent less than u1, so M = 1 + ⌊5 × 2 / 3⌋ = 4.
  EXPECT_EQ(u1.body["derived"]["rfm"]["m"], 4);
  EXPECT_EQ(u1.body["derived"]["lifecycle"], "loyal");
  EXPECT_EQ(count(R"({"lifecycle":["loyal"]})"), 1);
  EXPECT_EQ(count(R"({"lifecycle":["new"]})"), 1);  // u3 joined today with one order
  EXPECT_EQ(count(R"({"rfm":{"r":[1]}})"), 1);
  EXPECT_EQ(count(R"({"attr":"spend","op":"range","from":6000,"to":50001})"), 2);

  // The feed: the first sweep is the baseline, later ones record who entered and left. (The
  // background sweeper may run any of these sweeps first; the feed is the same.)
  ASSERT_EQ(call("POST", "/v1/customers/1/tags", key_a_, R"({"tag":"vip"})").status, 201);
  auto seg = call("POST", "/v1/segments", key_a_, R"({"name":"VIP","expression":{"tag":"vip"}})");
  ASSERT_EQ(seg.status, 201);
  const std::string base = "/v1/segments/" + std::to_string(seg.body["id"].get<int>());
  sweep();
  EXPECT_EQ(call("GET", base + "/changes", analyst_a_).body["items"].size(), 0U);
  ASSERT_EQ(call("POST", "/v1/customers/2/tags", key_a_, R"({"tag":"vip"})").status, 201);
  ASSERT_EQ(call("DELETE", "/v1/customers/1/tags/vip", key_a_).status, 204);
  sweep();
  auto changes = call("GET", base + "/changes", analyst_a_);
  ASSERT_EQ(changes.body["items"].size(), 2U) << changes.raw;
  std::set<std::pair<int, std::string>> seen;
  for (const auto& c : changes.body["items"]) seen.insert({c["customer_id"].get<int>(), c["change"]});
  EXPECT_TRUE(seen.contains({2, "enter"}));
  EXPECT_TRUE(seen.contains({1, "exit"}));
  auto later = call("GET", base + "/changes?after=" + std::to_string(changes.body["next_after"].get<int64_t>()), analyst_a_);
  EXPECT_EQ(later.body["items"].size(), 0U);
  auto sizes = call("GET", base + "/sizes?days=7", analyst_a_);
  ASSERT_EQ(sizes.body["items"].size(), 1U) << sizes.raw;
  EXPECT_EQ(sizes.body["items"][0]["size"], 1);
}

TEST_F(TagEngineApiTest, BehaviourFiltersByADeclaredEventProperty) {
  const auto view = [&](const std::string& id, const std::string& user, int days_ago, const std::string& tags) {
    const std::string ts = format_timestamp(clock_.now_ms() - int64_t{days_ago} * kMsPerDay);
    auto r = call("POST", "/v1/events", key_a_,
                  R"([{"event_id":")" + id + R"(","type":"view","timestamp":")" + ts +
                      R"(","customer":{"type":"app_user_id","value":")" + user +
                      R"("},"properties":{"content_tags":)" + tags + "}}]");
    ASSERT_EQ(r.status, 200) << r.raw;
  };
  view("v1", "u1", 1, R"(["护肤","彩妆"])");
  view("v2", "u1", 3, R"("护肤")");
  view("v3", "u2", 2, R"(["护肤"])");
  view("v4", "u2", 20, R"(["护肤"])");  // outside 14 days
  view("v5", "u3", 1, R"(["彩妆"])");
  const std::string skincare =
      R"({"expression":{"event":"view","where":{"content_tags":"护肤"},"within_days":14,"count":{"gte":2}}})";
  auto undeclared = call("POST", "/v1/segments:count", analyst_a_, skincare);
  EXPECT_EQ(undeclared.status, 400);
  EXPECT_EQ(undeclared.body["error"]["field"], "expression.where.content_tags") << undeclared.raw;
  EXPECT_EQ(call("POST", "/v1/event-properties", analyst_a_, R"({"name":"content_tags"})").status, 403);
  EXPECT_EQ(call("POST", "/v1/event-properties", key_a_, R"({"name":"Content Tags"})").status, 400);
  // Declaring indexes the events already stored.
  auto declared = call("POST", "/v1/event-properties", key_a_, R"({"name":"content_tags","label":"内容标签"})");
  ASSERT_EQ(declared.status, 201) << declared.raw;
  EXPECT_EQ(call("GET", "/v1/event-properties", analyst_a_).body["items"].size(), 1U);
  auto r = call("POST", "/v1/segments:count", analyst_a_, skincare);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["count"], 1);  // u1
  // And the ones that arrive later.
  view("v6", "u2", 0, R"(["护肤"])");
  EXPECT_EQ(call("POST", "/v1/segments:count", analyst_a_, skincare).body["count"], 2);
  EXPECT_EQ(count(R"({"event":"view","where":{"content_tags":"彩妆"},"within_days":14})"), 2);
  EXPECT_EQ(count(R"({"event":"view","within_days":14,"count":{"gte":2}})"), 2);
  // Another workspace has declared nothing.
  EXPECT_EQ(call("GET", "/v1/event-properties", key_b_).body["items"].size(), 0U);
}

TEST_F(TagEngineApiTest, SweepsAfterWritesRecheckOnlyTheTouchedCustomers) {
  OwnStore own_store("brand-c");
  store::Store* own = own_store.db.get();
  const WorkspaceId ws = own_store.ws;
  index::IndexRegistry indexes(*own, clock_);
  rules::TagEngine engine(*own, indexes, clock_);
  std::vector<store::Customer> people = in_beijing(*own, ws, 2);
  ASSERT_TRUE(indexes.get(ws).has_value());
  const int64_t id = shanghai_segment(*own, ws);
  ASSERT_TRUE(engine.sweep(ws).has_value());  // the baseline
  // Both move to Shanghai and the index knows, but the engine hears only of the second.
  for (auto& c : people) {
    c.city = "上海";
    ASSERT_TRUE(own->update_customer(c).is_ok());
  }
  ASSERT_TRUE(indexes.refresh(ws, {people[0].id, people[1].id}).is_ok());
  index::Bitmap touched;
  touched.add(static_cast<uint32_t>(people[1].id.value));
  auto partial = engine.sweep(ws, &touched);
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->entered, 1);
  auto changes = *own->segment_changes(ws, id, 0, 10);
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_EQ(changes[0].customer, people[1].id);
  // A full sweep (hourly, or on demand) checks everyone.
  auto full = engine.sweep(ws);
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->entered, 1);
  changes = *own->segment_changes(ws, id, changes.back().seq, 10);
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_EQ(changes[0].customer, people[0].id);
  EXPECT_EQ(engine.sweep(ws)->entered, 0);
}

TEST_F(TagEngineApiTest, CustomersWhoOnlyHadEventsAreRecheckedWhereTheirTypesAreRead) {
  OwnStore own_store("brand-e");
  store::Store* own = own_store.db.get();
  const WorkspaceId ws = own_store.ws;
  index::IndexRegistry indexes(*own, clock_);
  rules::TagEngine engine(*own, indexes, clock_);
  const std::vector<store::Customer> people =
      in_beijing(*own, ws, 2, clock_.now_ms() - 200 * kMsPerDay);  // churned by now
  ASSERT_TRUE(indexes.get(ws).has_value());
  const int64_t viewers = saved_segment(*own, ws, "viewers", R"({"event":"view","within_days":1})");
  const int64_t buyers = saved_segment(*own, ws, "buyers", R"({"event":"order_paid","within_days":1})");
  const int64_t active = saved_segment(*own, ws, "active", R"({"lifecycle":["active"]})");
  ASSERT_TRUE(engine.sweep(ws).has_value());  // the baseline
  // The first customer views and buys, but the engine hears only of the view.
  std::vector<store::PendingEvent> batch(2);
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].event.event_id = "e" + std::to_string(i);
    batch[i].event.type = i == 0 ? "view" : "order_paid";
    batch[i].event.ts = clock_.now_ms();
    batch[i].customer = people[0].id;
  }
  ASSERT_TRUE(own->ingest_events(ws, batch, clock_.now_ms()).has_value());
  ASSERT_TRUE(indexes.refresh(ws, {people[0].id}).is_ok());
  rules::Touched touched;
  const std::vector<uint32_t> viewer = {static_cast<uint32_t>(people[0].id.value)};
  touched.add_events("view", viewer);
  const auto entered = [&](int64_t segment) { return own->segment_changes(ws, segment, 0, 10)->size(); };
  ASSERT_TRUE(engine.sweep_touched(ws, touched).has_value());
  EXPECT_EQ(entered(viewers), 1U);
  EXPECT_EQ(entered(buyers), 0U);  // reads order_paid only: nothing to re-check
  EXPECT_EQ(entered(active), 1U);  // the last activity moved, whatever its type
  // Touched in any way, a customer is re-checked everywhere.
  index::Bitmap any;
  any.add(static_cast<uint32_t>(people[0].id.value));
  rules::Touched changed;
  changed.add_any(any);
  ASSERT_TRUE(engine.sweep_touched(ws, changed).has_value());
  EXPECT_EQ(entered(buyers), 1U);
}

TEST_F(TagEngineApiTest, AMembersBitmapNowAndThenAndTheFeedAfterItRestoreTheMembers) {
  OwnStore own_store("brand-d");
  store::Store* own = own_store.db.get();
  const WorkspaceId ws = own_store.ws;
  index::IndexRegistry indexes(*own, clock_);
  std::vector<store::Customer> people = in_beijing(*own, ws, 3);
  ASSERT_TRUE(indexes.get(ws).has_value());
  const int64_t id = shanghai_segment(*own, ws);
  const auto move = [&](size_t who, const std::string& city) {
    people[who].city = city;
    ASSERT_TRUE(own->update_customer(people[who]).is_ok());
    ASSERT_TRUE(indexes.refresh(ws, {people[who].id}).is_ok());
  };
  {
    rules::TagEngine engine(*own, indexes, clock_);
    ASSERT_TRUE(engine.sweep(ws).has_value());  // the baseline, with its members bitmap
    move(0, "上海");
    EXPECT_EQ(engine.sweep(ws)->entered, 1);
    move(1, "上海");
    move(0, "北京");
    auto second = engine.sweep(ws);
    EXPECT_EQ(second->entered, 1);
    EXPECT_EQ(second->exited, 1);
    // Within a minute of the baseline the bitmap stays; the three changes are after it.
    EXPECT_EQ(own->segment_members(ws, id)->since.size(), 3U);
  }
  // Started again, an engine restores the members from both and finds nothing new.
  rules::TagEngine again(*own, indexes, clock_);
  auto restored = again.sweep(ws);
  EXPECT_EQ(restored->entered, 0);
  EXPECT_EQ(restored->exited, 0);
  move(2, "上海");
  clock_.advance(61'000);  // a minute on, the sweep stores the members again
  auto third = again.sweep(ws);
  EXPECT_EQ(third->entered, 1);
  EXPECT_EQ(third->exited, 0);
  const auto stored = *own->segment_members(ws, id);
  EXPECT_TRUE(stored.since.empty());
  const index::Bitmap members = index::from_bytes(stored.blob);
  EXPECT_EQ(members.cardinality(), 2U);
  EXPECT_TRUE(members.contains(static_cast<uint32_t>(people[1].id.value)));
  EXPECT_TRUE(members.contains(static_cast<uint32_t>(people[2].id.value)));
  EXPECT_EQ(own->segment_changes(ws, id, 0, 10)->size(), 4U);
}

}  // namespace
}  // namespace siyu::api
