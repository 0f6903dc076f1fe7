// API behaviour against the real HTTP server on a loopback port: authentication, roles,
// CSRF, bad input, events and orders, import/export with audit, and workspace isolation
// across every route of the OpenAPI document.
#include <algorithm>

#include "api/api_fixture.h"
#include "core/time_format.h"

namespace siyu::api {
namespace {

TEST_F(ApiTest, RequiresCredentials) {
  auto r = call("GET", "/v1/customers", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["error"]["code"], "unauthenticated");
  EXPECT_EQ(call("GET", "/v1/customers", "sk_wrong").status, 401);
  EXPECT_EQ(call("GET", "/healthz", "").status, 200);
  EXPECT_EQ(call("GET", "/v1/nope", key_a_).body["error"]["code"], "not_found");
}

TEST_F(ApiTest, CustomerLifecycleWithMaskingAndAuditedReveal) {
  auto made = call("POST", "/v1/customers", key_a_,
                   R"({"name":"张三丰","phone":"13812345678","city":"杭州","gender":"male"})");
  ASSERT_EQ(made.status, 201) << made.raw;
  const std::string id = std::to_string(made.body["id"].get<int>());
  EXPECT_EQ(made.body["phone"], "138****5678");
  // The analyst sees a masked name and may not reveal.
  auto seen = call("GET", "/v1/customers/" + id, analyst_a_);
  EXPECT_EQ(seen.body["name"], "张**");
  EXPECT_EQ(call("GET", "/v1/customers/" + id + "?reveal=true", analyst_a_).status, 403);
  auto revealed = call("GET", "/v1/customers/" + id + "?reveal=true", key_a_);
  EXPECT_EQ(revealed.body["phone"], "13812345678");
  auto audit = call("GET", "/v1/audit", key_a_);
  ASSERT_FALSE(audit.body["items"].empty());
  EXPECT_EQ(audit.body["items"][0]["action"], "customer.reveal");
  // Find by the last four digits, then by the full phone.
  EXPECT_EQ(call("GET", "/v1/customers?q=5678", key_a_).body["items"].size(), 1u);
  EXPECT_EQ(call("GET", "/v1/customers?q=13812345678", key_a_).body["items"][0]["id"].dump(), id);
  // Both orders page through every customer exactly once.
  for (int i = 0; i < 4; ++i) ASSERT_EQ(call("POST", "/v1/customers", key_a_, "{}").status, 201);
  for (const char* order : {"asc", "desc"}) {
    std::vector<int> ids;
    std::string cursor;
    for (int page = 0; page < 5; ++page) {
      auto r = call("GET", std::string("/v1/customers?limit=2&order=") + order + cursor, key_a_);
      for (const auto& c : r.body["items"]) ids.push_back(c["id"].get<int>());
      if (r.body["next_cursor"].is_null()) break;
      cursor = "&cursor=" + r.body["next_cursor"].get<std::string>();
    }
    std::vector<int> expected = {1, 2, 3, 4, 5};
    if (std::string(order) == "desc") std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(ids, expected) << order;
  }
  EXPECT_EQ(call("GET", "/v1/customers?order=up", key_a_).status, 400);
  EXPECT_EQ(call("GET", "/v1/customers?sort=created_at&cursor=3", key_a_).status, 400);
  auto patched = call("PATCH", "/v1/customers/" + id, key_a_, R"({"city":null,"name":"张三"})");
  EXPECT_EQ(patched.status, 200);
  EXPECT_EQ(patched.body["city"], "");
  EXPECT_EQ(call("DELETE", "/v1/customers/" + id, analyst_a_).status, 403);
  EXPECT_EQ(call("DELETE", "/v1/customers/" + id, key_a_).status, 204);
  EXPECT_EQ(call("GET", "/v1/customers/" + id, key_a_).status, 404);
}

TEST_F(ApiTest, BadInputGetsClearErrorsAndChangesNothing) {
  struct Case {
    std::string body;
    int status;
    std::string field;
  };
  const std::vector<Case> cases = {
      {R"({"name":)", 400, ""},
      {R"({"name":12})", 400, "name"},
      {R"({"nmae":"x"})", 400, "nmae"},
      {R"({"phone":"12345"})", 400, "phone"},
      {R"({"birthday":"2023-02-30"})", 400, "birthday"},
      {R"({"gender":"robot"})", 400, "gender"},
      {R"({"owner_staff_id":99})", 400, "owner_staff_id"},
      {"{\"name\":\"\xff\xfe\"}", 400, ""},
      {R"({"name":"a\u0000b"})", 400, "name"},
      {R"([1,2])", 400, ""},
      {"", 400, ""},
  };
  for (const auto& c : cases) {
    auto r = call("POST", "/v1/customers", key_a_, c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " → " << r.raw;
    ASSERT_TRUE(r.body.contains("error")) << r.raw;
    EXPECT_FALSE(r.body["error"]["message"].get<std::string>().empty());
    if (!c.field.empty()) {
      EXPECT_EQ(r.body["error"]["field"], c.field) << c.body;
    }
  }
  EXPECT_EQ(*store_->count_customers(a_), 0);
  const std::string big(9 * 1024 * 1024 + 10, ' ');
  EXPECT_EQ(call("POST", "/v1/events", key_a_, big).status, 413);
}

TEST_F(ApiTest, EventErrorsNameTheExactField) {
  const std::string batch = R"([
    {"type":"login","timestamp":1767319200000,"customer":{"id":1}},
    {"event_id":"b","type":"login","timestamp":1767319200000,"amount":"9","customer":{"id":1}},
    {"event_id":"c","type":"login","timestamp":"yesterday","customer":{"id":1}},
    {"event_id":"d","type":"login","timestamp":1767319200000,"customer":{"type":"phone","value":"12"}},
    {"event_id":"e","type":"login","timestamp":1767319200000,"customer":{"type":"wechat_openid","value":"o"}},
    {"event_id":"f","type":"login","timestamp":1767319200000,"channel":7,"customer":{"id":1}},
    {"event_id":"g","type":"login","timestamp":1767319200000,"customer":{"type":"fax","value":"1"}},
    {"event_id":"h","type":"login","timestamp":1767319200000,"customer":{"type":"email","value":" "}}
  ])";
  auto r = call("POST", "/v1/events", key_a_, batch);
  ASSERT_EQ(r.status, 400) << r.raw;
  const std::vector<std::string> want = {"events[0].event_id",        "events[1].amount",
                                         "events[2].timestamp",       "events[3].customer.value",
                                         "events[4].customer.app_id", "events[5].channel",
                                         "events[6].customer.type",   "events[7].customer.value"};
  // Every event is invalid: the call fails with the first problem's field.
  EXPECT_EQ(r.body["error"]["field"], want[0]) << r.raw;
  // With one valid event added, each invalid one is reported by position with its field.
  std::string with_valid = batch;
  with_valid.insert(
      with_valid.rfind(']'),
      R"(,{"event_id":"ok","type":"login","timestamp":1767319200000,"customer":{"type":"phone","value":"13900001111"}})");
  auto partial = call("POST", "/v1/events", key_a_, with_valid);
  ASSERT_EQ(partial.status, 200) << partial.raw;
  ASSERT_EQ(partial.body["errors"].size(), want.size()) << partial.raw;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(partial.body["errors"][i]["field"], want[i]) << partial.raw;
    EXPECT_EQ(partial.body["errors"][i]["message"].get<std::string>().rfind(want[i], 0), 0u)
        << partial.raw;
  }
}

TEST_F(ApiTest, EventsReportEachInvalidOneByPositionAndDeduplicate) {
  const std::string batch = R"([
    {"event_id":"e1","type":"login","timestamp":"2026-01-02T10:00:00+08:00","customer":{"type":"phone","value":"13900001111"}},
    {"event_id":"e2","type":"teleport","timestamp":"2026-01-02T10:00:00+08:00","customer":{"type":"phone","value":"13900001111"}},
    {"event_id":"e3","type":"order_paid","timestamp":1767319200000,"amount":1990,"customer":{"type":"wechat_openid","value":"o1","app_id":"wx1"}},
    {"event_id":"e4","type":"join_group","timestamp":"2026-01-02T10:00:00Z","customer":{"type":"phone","value":"13900001111"}},
    {"event_id":"e1","type":"login","timestamp":"2026-01-02T10:00:00+08:00","customer":{"type":"phone","value":"13900001111"}}
  ])";
  auto r = call("POST", "/v1/events", key_a_, batch);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["accepted"], 2);
  EXPECT_EQ(r.body["duplicates"], 1);
  ASSERT_EQ(r.body["errors"].size(), 2u);
  EXPECT_EQ(r.body["errors"][0]["index"], 1);
  EXPECT_EQ(r.body["errors"][0]["field"], "events[1].type");
  EXPECT_EQ(r.body["errors"][1]["field"], "events[3].properties.group_id");
  // NDJSON, resent: all duplicates.
  const std::string nd =
      R"({"event_id":"e1","type":"login","timestamp":"2026-01-02T10:00:00+08:00","customer":{"type":"phone","value":"13900001111"}})"
      "\n";
  auto again = call("POST", "/v1/events", key_a_, nd, "application/x-ndjson");
  EXPECT_EQ(again.body["duplicates"], 1);
  EXPECT_EQ(*store_->count_events(a_), 2);
  // A batch with nothing valid is refused as a whole.
  EXPECT_EQ(call("POST", "/v1/events", key_a_, R"([{"type":"login"}])").status, 400);
}

TEST_F(ApiTest, OrdersAreIdempotentByOrderId) {
  const std::string order =
      R"({"order_id":"A-1","status":"paid","amount":2590,"ordered_at":"2026-03-01T12:00:00+08:00",
          "customer":{"type":"member_card","value":"M100"},"items":[{"sku":"T1","quantity":1,"price":2590}]})";
  EXPECT_EQ(call("POST", "/v1/orders", key_a_, order).status, 201);
  auto again = call("POST", "/v1/orders", key_a_, order);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["unchanged"], 1);
  std::string changed = order;
  changed.replace(changed.find("2590"), 4, "9999");
  EXPECT_EQ(call("POST", "/v1/orders", key_a_, changed).status, 409);
  auto got = call("GET", "/v1/orders/A-1", key_a_);
  EXPECT_EQ(got.body["amount"], 2590);
  EXPECT_EQ(call("GET", "/v1/orders/A-1", key_b_).status, 404);
}

TEST_F(ApiTest, CsvImportAndAuditedExportRoundTrip) {
  // GB18030 header "姓名" would be unusual; the columns are English, values Chinese, BOM'd.
  const std::string csv =
      "\xEF\xBB\xBFname,phone,city,member_card\r\n王芳,13700000001,上海,C1\r\n李娜,bad,北京,C2\r\n";
  auto r = call("POST", "/v1/import/customers", key_a_, csv, "text/csv");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["created"], 1);
  ASSERT_EQ(r.body["errors"].size(), 1u);
  EXPECT_EQ(r.body["errors"][0]["index"], 1);
  auto exported = call("GET", "/v1/export/customers", key_a_);
  ASSERT_EQ(exported.status, 200);
  EXPECT_EQ(exported.raw.rfind("\xEF\xBB\xBF" "id,name", 0), 0u);
  EXPECT_NE(exported.raw.find("13700000001"), std::string::npos);  // admin: personal data
  auto masked = call("GET", "/v1/export/customers", analyst_a_);
  EXPECT_EQ(masked.raw.find("13700000001"), std::string::npos);
  EXPECT_NE(masked.raw.find("137****0001"), std::string::npos);
  auto audit = call("GET", "/v1/audit", key_a_);
  int exports = 0;
  for (const auto& e : audit.body["items"]) exports += e["action"] == "export.customers";
  EXPECT_EQ(exports, 2);
}

TEST_F(ApiTest, ConsoleLoginSetsCookieNeedsCsrfAndIsRateLimited) {
  auto hash = security::hash_password("a long enough password");
  store::User u{UserId(), a_, "op@a.cn", "Op", store::Role::kOperator, *hash, false, 0};
  ASSERT_TRUE(store_->create_user(u).has_value());
  auto c = client();
  auto login = c.Post("/v1/auth/login",
                      R"({"workspace":"brand-a","email":"OP@a.cn","password":"a long enough password"})",
                      "application/json");
  ASSERT_EQ(login->status, 200) << login->body;
  const std::string cookie = login->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  const std::string session = cookie.substr(0, cookie.find(';'));
  const std::string csrf = parse_json(login->body)->at("csrf_token");
  httplib::Headers with_cookie = {{"Cookie", session}};
  EXPECT_EQ(c.Get("/v1/auth/me", with_cookie)->status, 200);
  EXPECT_EQ(c.Post("/v1/customers", with_cookie, R"({"name":"x"})", "application/json")->status, 403);
  with_cookie.emplace("X-CSRF-Token", csrf);
  EXPECT_EQ(c.Post("/v1/customers", with_cookie, R"({"name":"x"})", "application/json")->status, 201);
  // An operator may not manage keys.
  EXPECT_EQ(c.Get("/v1/keys", with_cookie)->status, 403);
  EXPECT_EQ(c.Post("/v1/auth/logout", with_cookie, "", "application/json")->status, 204);
  EXPECT_EQ(c.Get("/v1/auth/me", with_cookie)->status, 401);
  // Five wrong passwords, then even the right one is refused for a while.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(c.Post("/v1/auth/login", R"({"workspace":"brand-a","email":"op@a.cn","password":"wrong"})",
                     "application/json")->status, 401);
  }
  EXPECT_EQ(c.Post("/v1/auth/login",
                   R"({"workspace":"brand-a","email":"op@a.cn","password":"a long enough password"})",
                   "application/json")->status, 429);
}

TEST_F(ApiTest, NoRouteReadsOrChangesAnotherWorkspace) {
  // Workspace A gets one of everything, with ids B can't have (ids are dense per workspace).
  for (int i = 0; i < 4; ++i) ASSERT_EQ(call("POST", "/v1/customers", key_a_, "{}").status, 201);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(call("POST", "/v1/channels", key_a_,
                   R"({"kind":"brand","name":"x","code":"c)" + std::to_string(i) + R"("})").status, 201);
  }
  auto cust = call("POST", "/v1/customers", key_a_, R"({"name":"甲","phone":"13600000000"})");
  const std::string cid = std::to_string(cust.body["id"].get<int>());
  ASSERT_EQ(call("POST", "/v1/customers/" + cid + "/tags", key_a_, R"({"tag":"vip"})").status, 201);
  auto ch = call("POST", "/v1/channels", key_a_, R"({"kind":"store","name":"门店","code":"s1"})");
  const std::string chid = std::to_string(ch.body["id"].get<int>());
  ASSERT_EQ(call("POST", "/v1/orders", key_a_,
                 R"({"order_id":"X1","status":"paid","amount":100,"ordered_at":"2026-01-01T00:00:00Z","customer":{"id":)" + cid + "}}")
                .status, 201);
  auto user = call("POST", "/v1/users", key_a_, R"({"email":"s@a.cn","display_name":"S","role":"staff"})");
  const std::string uid = std::to_string(user.body["id"].get<int>());
  auto key = call("POST", "/v1/keys", key_a_, R"({"name":"k","role":"analyst"})");
  const std::string kid = std::to_string(key.body["id"].get<int>());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(call("POST", "/v1/segments", key_a_, R"({"name":"s)" + std::to_string(i) + R"(","expression":{"tag":"vip"}})").status, 201);
  }
  const std::string sid = "3";
  auto group = call("POST", "/v1/tag-groups", key_a_, R"({"name":"兴趣"})");
  ASSERT_EQ(group.status, 201) << group.raw;
  const std::string gid = std::to_string(group.body["id"].get<int>());
  auto rule = call("POST", "/v1/rules", key_a_,
                   R"({"name":"r","tag":"auto","expression":{"tag":"vip"},"enabled":true})");
  ASSERT_EQ(rule.status, 201) << rule.raw;
  const std::string rid = std::to_string(rule.body["id"].get<int>());
  const auto customers_before = *store_->count_customers(a_);

  // Every route of the API document, with A's ids but B's key.
  auto doc = call("GET", "/v1/openapi.json", "");
  ASSERT_EQ(doc.status, 200);
  int tried = 0;
  for (auto it = doc.body["paths"].begin(); it != doc.body["paths"].end(); ++it) {
    std::string path = it.key();
    if (path.rfind("/v1/", 0) != 0 || path == "/v1/openapi.json" || path == "/v1/auth/login") continue;
    const bool names_a_object = path.find('{') != std::string::npos;
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"/v1/customers/{id}", "/v1/customers/" + cid},
             {"/v1/channels/{id}", "/v1/channels/" + chid},
             {"/v1/users/{id}", "/v1/users/" + uid},
             {"/v1/keys/{id}", "/v1/keys/" + kid},
             {"/v1/segments/{id}", "/v1/segments/" + sid},
             {"/v1/orders/{order_id}", "/v1/orders/X1"},
             {"/v1/tag-groups/{id}", "/v1/tag-groups/" + gid},
             {"/v1/rules/{id}", "/v1/rules/" + rid},
             {"{tag}", "vip"}}) {
      if (auto p = path.find(from); p != std::string::npos) path.replace(p, from.size(), to);
    }
    for (auto m = it.value().begin(); m != it.value().end(); ++m) {
      std::string method = m.key();
      for (auto& ch2 : method) ch2 = static_cast<char>(std::toupper(ch2));
      const std::string body = path.find("/tags") != std::string::npos ? R"({"tag":"vip"})"
                               : path.find("/costs") != std::string::npos ? R"({"date":"2026-01-01","amount":1})"
                               : path.find("/users/") != std::string::npos ? R"({"role":"analyst"})"
                               : "{}";
      auto r = call(method, path, key_b_, body);
      ++tried;
      // B must never see A's objects: lists are B's own (empty), ids are unknown to B.
      if (names_a_object) {
        EXPECT_TRUE(r.status == 404 || r.status == 400 || r.status == 422) << method << " " << path << " → " << r.status << " " << r.raw;
      }
      EXPECT_EQ(r.raw.find("甲"), std::string::npos) << method << " " << path;
      EXPECT_EQ(r.raw.find("13600000000"), std::string::npos) << method << " " << path;
      EXPECT_EQ(r.raw.find("门店"), std::string::npos) << method << " " << path;
    }
  }
  EXPECT_GE(tried, 45);
  // A's data is unchanged.
  EXPECT_EQ(call("GET", "/v1/rules/" + rid, key_a_).body["tag"], "auto");
  EXPECT_EQ(call("GET", "/v1/tag-groups", key_a_).body["items"].size(), 1U);
  EXPECT_EQ(*store_->count_customers(a_), customers_before);
  auto still = call("GET", "/v1/customers/" + cid, key_a_);
  EXPECT_EQ(still.body["tags"], Json::array({"auto", "vip"}));  // "auto" by A's own rule
  EXPECT_EQ(still.body["name"], "甲");
  const Json keys = call("GET", "/v1/keys", key_a_).body["items"];
  for (const auto& k : keys) {
    EXPECT_EQ(k["revoked_at"], nullptr);
  }
  EXPECT_FALSE(store_->user(a_, UserId(std::stoi(uid)))->disabled);
  EXPECT_EQ(store_->user(a_, UserId(std::stoi(uid)))->role, store::Role::kStaff);
}

TEST_F(ApiTest, KeysShowWhenTheyWereLastUsed) {
  const Json before = call("GET", "/v1/keys", key_a_).body["items"];
  ASSERT_EQ(before.size(), 2u);
  // The admin key was just used to list; the analyst key never was.
  EXPECT_FALSE(before[0]["last_used_at"].is_null());
  EXPECT_TRUE(before[1]["last_used_at"].is_null());
  (void)call("GET", "/v1/customers", analyst_a_);
  EXPECT_FALSE(call("GET", "/v1/keys", key_a_).body["items"][1]["last_used_at"].is_null());
}

TEST_F(ApiTest, OverviewCountsLayersNewCustomersAndSales) {
  ASSERT_EQ(call("POST", "/v1/customers", key_a_, R"({"name":"a"})").status, 201);
  const std::string now = format_timestamp(SystemClock::instance().now_ms());
  const std::string events = R"([{"event_id":"f1","type":"follow","timestamp":")" + now +
                             R"(","customer":{"type":"app_user_id","value":"u1"}}])";
  ASSERT_EQ(call("POST", "/v1/events", key_a_, events).status, 200);
  const std::string orders = R"([{"order_id":"o1","status":"paid","amount":1000,"ordered_at":")" + now +
                             R"(","customer":{"type":"app_user_id","value":"u1"}},{"order_id":"o2","status":"refunded","amount":500,"ordered_at":")" +
                             now + R"(","guest":true},{"order_id":"o3","status":"created","amount":700,"ordered_at":")" + now +
                             R"(","guest":true}])";
  ASSERT_EQ(call("POST", "/v1/orders", key_a_, orders).status, 200);
  auto o = call("GET", "/v1/overview?days=7", analyst_a_);
  ASSERT_EQ(o.status, 200) << o.raw;
  EXPECT_EQ(o.body["layers"]["fan"], 1);
  EXPECT_EQ(o.body["layers"]["none"], 1);
  int64_t fresh = 0;
  for (const auto& d : o.body["new_customers"]) fresh += d["customers"].get<int64_t>();
  EXPECT_EQ(fresh, 2);
  EXPECT_EQ(o.body["orders"], 2);        // created orders are not sales
  EXPECT_EQ(o.body["gmv"], 1000);        // the refunded one nets to zero
  EXPECT_EQ(o.body["buyers"], 1);        // guests are not buyers
  EXPECT_EQ(o.body["average_order_value"], 500);
  EXPECT_EQ(call("GET", "/v1/overview?days=0", key_a_).status, 400);
  // The orders behind the figure: the period's orders, not older ones.
  ASSERT_EQ(call("POST", "/v1/orders", key_a_,
                 R"({"order_id":"old","status":"paid","amount":1,"ordered_at":"2020-01-01T00:00:00Z","guest":true})")
                .status, 201);
  auto behind = call("GET", "/v1/orders?ordered_from=" + o.body["from"].get<std::string>(), key_a_);
  EXPECT_EQ(behind.body["items"].size(), 3u);
  EXPECT_EQ(call("GET", "/v1/orders", key_a_).body["items"].size(), 4u);
}

TEST_F(ApiTest, SegmentCountsStayExactThroughEveryKindOfWrite) {
  auto count = [&](const std::string& expr) {
    auto r = call("POST", "/v1/segments:count", analyst_a_, R"({"expression":)" + expr + "}");
    EXPECT_EQ(r.status, 200) << expr << " → " << r.raw;
    return r.body["count"].get<int64_t>();
  };
  // Built before any customer exists, then kept up to date by the writes below.
  EXPECT_EQ(count(R"({"layer":["none"]})"), 0);
  for (const char* city : {"上海", "上饶", "北京"}) {
    ASSERT_EQ(call("POST", "/v1/customers", key_a_, std::string(R"({"city":")") + city + R"(","phone":"1390000000)" +
                   std::to_string(std::string(city) == "上海" ? 1 : std::string(city) == "上饶" ? 2 : 3) + R"("})").status, 201);
  }
  EXPECT_EQ(count(R"({"attr":"city","op":"prefix","value":"上"})"), 2);
  ASSERT_EQ(call("POST", "/v1/customers/1/tags", key_a_, R"({"tag":"vip"})").status, 201);
  ASSERT_EQ(call("POST", "/v1/customers/2/tags", key_a_, R"({"tag":"vip"})").status, 201);
  EXPECT_EQ(count(R"({"tag":"vip"})"), 2);
  ASSERT_EQ(call("DELETE", "/v1/customers/2/tags/vip", key_a_).status, 204);
  EXPECT_EQ(count(R"({"tag":"vip"})"), 1);
  // An event from an unknown identity creates a customer; a group join moves the layer.
  const std::string now = format_timestamp(SystemClock::instance().now_ms());
  ASSERT_EQ(call("POST", "/v1/events", key_a_, R"([{"event_id":"j1","type":"join_group","timestamp":")" + now +
                 R"(","customer":{"type":"app_user_id","value":"u9"},"properties":{"group_id":7}},{"event_id":"j2","type":"join_group","timestamp":")" +
                 now + R"(","customer":{"id":3},"properties":{"group_id":7}}])").status, 200);
  EXPECT_EQ(count(R"({"layer":["community"]})"), 2);
  EXPECT_EQ(count(R"({"and":[{"layer":["community"]},{"attr":"city","op":"eq","value":"北京"}]})"), 1);
  // Merging customer 3 (北京, community) into customer 1 leaves one live customer of the two.
  auto merged = call("POST", "/v1/identify", key_a_,
                     R"({"identities":[{"type":"phone","value":"13900000001"},{"type":"phone","value":"13900000003"}]})");
  ASSERT_EQ(merged.status, 200) << merged.raw;
  EXPECT_EQ(count(R"({"attr":"city","op":"eq","value":"北京"})"), 0);
  EXPECT_EQ(count(R"({"and":[{"tag":"vip"},{"layer":["community"]}]})"), 1);
  ASSERT_EQ(call("PATCH", "/v1/customers/2", key_a_, R"({"city":"杭州"})").status, 200);
  EXPECT_EQ(count(R"({"attr":"city","op":"prefix","value":"上"})"), 1);
  ASSERT_EQ(call("DELETE", "/v1/customers/2", key_a_).status, 204);
  EXPECT_EQ(count(R"({"not":{"tag":"nothing"}})"), *store_->count_customers(a_));
  // Workspace B sees only its own customers; bad expressions name their path.
  auto other = call("POST", "/v1/segments:count", key_b_, R"({"expression":{"not":{"tag":"x"}}})");
  EXPECT_EQ(other.body["count"], 0);
  auto bad = call("POST", "/v1/segments:count", key_a_, R"({"expression":{"and":[{"tag":"a"},{"layer":["boss"]}]}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["error"]["field"], "expression.and[1].layer[0]");
}

TEST_F(ApiTest, SegmentsSelectByCustomFieldsButNeverByPersonalOnes) {
  auto count = [&](const std::string& expr) {
    auto r = call("POST", "/v1/segments:count", analyst_a_, R"({"expression":)" + expr + "}");
    EXPECT_EQ(r.status, 200) << expr << " → " << r.raw;
    return r.body.value("count", int64_t{-1});
  };
  for (const char* def : {R"({"name":"level","type":"string"})", R"({"name":"age","type":"number"})",
                          R"({"name":"opt_in","type":"boolean"})", R"({"name":"since","type":"date"})",
                          R"({"name":"id_card","type":"string","personal":true})"}) {
    ASSERT_EQ(call("POST", "/v1/fields", key_a_, def).status, 201) << def;
  }
  ASSERT_EQ(call("POST", "/v1/customers", key_a_,
                 R"({"name":"甲","custom":{"level":"gold","age":31,"opt_in":true,"since":"2024-03-01","id_card":"110101"}})").status, 201);
  ASSERT_EQ(call("POST", "/v1/customers", key_a_, R"({"name":"乙","custom":{"level":"silver","age":45.5}})").status, 201);
  EXPECT_EQ(count(R"({"attr":"custom.level","op":"eq","value":"gold"})"), 1);
  EXPECT_EQ(count(R"({"attr":"custom.age","op":"range","from":30,"to":50})"), 2);
  EXPECT_EQ(count(R"({"attr":"custom.age","op":"eq","value":45.5})"), 1);
  EXPECT_EQ(count(R"({"attr":"custom.opt_in","op":"ne","value":true})"), 1);
  EXPECT_EQ(count(R"({"attr":"custom.since","op":"range","to":"2024-03-02"})"), 1);
  // An update moves the customer between values; the index follows.
  ASSERT_EQ(call("PATCH", "/v1/customers/2", key_a_, R"({"custom":{"level":"gold"}})").status, 200);
  EXPECT_EQ(count(R"({"attr":"custom.level","op":"eq","value":"gold"})"), 2);
  auto personal = call("POST", "/v1/segments:count", key_a_,
                       R"({"expression":{"attr":"custom.id_card","op":"exists"}})");
  EXPECT_EQ(personal.status, 400);
  EXPECT_NE(personal.raw.find("personal"), std::string::npos);
  auto wrong_type = call("POST", "/v1/segments:count", key_a_,
                         R"({"expression":{"attr":"custom.age","op":"eq","value":"old"}})");
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_EQ(wrong_type.body["error"]["field"], "expression.value");
  auto unknown = call("POST", "/v1/segments:count", key_a_,
                      R"({"expression":{"attr":"custom.shoe","op":"exists"}})");
  EXPECT_EQ(unknown.body["error"]["field"], "expression.attr");
}

TEST_F(ApiTest, SavedSegmentsListExportAndTagTheirMembers) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(call("POST", "/v1/customers", key_a_, std::string(R"({"city":")") + (i < 3 ? "上海" : "北京") + R"("})").status, 201);
  }
  auto made = call("POST", "/v1/segments", key_a_, R"({"name":"上海客户","expression":{"attr":"city","op":"eq","value":"上海"}})");
  ASSERT_EQ(made.status, 201) << made.raw;
  EXPECT_EQ(made.body["size"], 3);
  const std::string id = std::to_string(made.body["id"].get<int>());
  EXPECT_EQ(call("POST", "/v1/segments", key_a_, R"({"name":"上海客户","expression":{"tag":"x"}})").status, 409);
  auto bad = call("POST", "/v1/segments", key_a_, R"({"name":"b","expression":{"or":[{"attr":"city","op":"range"}]}})");
  EXPECT_EQ(bad.body["error"]["field"], "expression.or[0].op");
  // Members page by page.
  auto page1 = call("GET", "/v1/segments/" + id + "/members?limit=2", key_a_);
  ASSERT_EQ(page1.body["items"].size(), 2u);
  auto page2 = call("GET", "/v1/segments/" + id + "/members?limit=2&cursor=" + page1.body["next_cursor"].get<std::string>(), key_a_);
  ASSERT_EQ(page2.body["items"].size(), 1u);
  EXPECT_TRUE(page2.body["next_cursor"].is_null());
  // Export is audited; its rows are the members.
  auto csv = call("GET", "/v1/segments/" + id + "/export", analyst_a_);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(std::count(csv.raw.begin(), csv.raw.end(), '\n'), 4);  // header + 3
  EXPECT_EQ(call("GET", "/v1/audit", key_a_).body["items"][0]["action"], "export.segment");
  // Tag every member, and the tag counts them.
  auto tagged = call("POST", "/v1/segments/" + id + "/tags", key_a_, R"({"tag":"上海会员"})");
  EXPECT_EQ(tagged.body["changed"], 3);
  auto count = call("POST", "/v1/segments:count", key_a_, R"({"expression":{"tag":"上海会员"}})");
  EXPECT_EQ(count.body["count"], 3);
  EXPECT_EQ(call("DELETE", "/v1/segments/" + id + "/tags", key_a_, R"({"tag":"上海会员"})").body["changed"], 3);
  EXPECT_EQ(call("POST", "/v1/segments:count", key_a_, R"({"expression":{"tag":"上海会员"}})").body["count"], 0);
  // A segment may use another; a loop between them is refused with its path.
  auto nested = call("POST", "/v1/segments", key_a_,
                     R"({"name":"上海且有标签","expression":{"and":[{"segment":)" + id + R"(},{"not":{"tag":"none"}}]}})");
  ASSERT_EQ(nested.status, 201) << nested.raw;
  EXPECT_EQ(nested.body["size"], 3);
  const std::string nid = std::to_string(nested.body["id"].get<int>());
  auto loop = call("PATCH", "/v1/segments/" + id, key_a_, R"({"expression":{"segment":)" + nid + "}}");
  EXPECT_EQ(loop.status, 400);
  EXPECT_EQ(loop.body["error"]["field"], "expression.segment");
  EXPECT_NE(loop.body["error"]["message"].get<std::string>().find("cycle"), std::string::npos);
  EXPECT_EQ(call("POST", "/v1/segments:count", key_a_, R"({"expression":{"segment":999}})").status, 400);
  EXPECT_EQ(call("POST", "/v1/segments:count", key_b_, R"({"expression":{"segment":)" + id + "}}").status, 400);
  EXPECT_EQ(call("DELETE", "/v1/segments/" + nid, key_a_).status, 204);
  // Edit, then delete.
  auto edited = call("PATCH", "/v1/segments/" + id, key_a_, R"({"expression":{"not":{"attr":"city","op":"eq","value":"上海"}}})");
  EXPECT_EQ(edited.body["size"], 2);
  EXPECT_EQ(call("GET", "/v1/segments/" + id, key_b_).status, 404);
  EXPECT_EQ(call("DELETE", "/v1/segments/" + id, analyst_a_).status, 403);
  EXPECT_EQ(call("DELETE", "/v1/segments/" + id, key_a_).status, 204);
  EXPECT_EQ(call("GET", "/v1/segments/" + id, key_a_).status, 404);
}

TEST_F(ApiTest, OpenApiDescribesMetricsAndHealth) {
  auto doc = call("GET", "/v1/openapi.json", "");
  EXPECT_TRUE(doc.body["paths"].contains("/v1/identify"));
  EXPECT_TRUE(doc.body["paths"]["/v1/customers/{id}"].contains("patch"));
  (void)call("GET", "/v1/customers", key_a_);
  auto metrics = call("GET", "/metrics", "");
  EXPECT_NE(metrics.raw.find("siyu_http_requests_total{route=\"GET /v1/customers\",status=\"200\"} 1"),
            std::string::npos)
      << metrics.raw;
  EXPECT_NE(metrics.raw.find("siyu_store_commits_total"), std::string::npos);
  EXPECT_NE(metrics.raw.find("siyu_store_tag_log_rows "), std::string::npos);
}

}  // namespace
}  // namespace siyu::api
