// Analytics through the API: every route on a small workspace with known figures, validation
// naming the field, CSV exports audited and refused without the export permission, funnel
// drop-outs saved as a segment, and lifetime-value predictions usable in segments.
#include "api/api_fixture.h"
#include "core/time_format.h"

namespace siyu::api {
namespace {

class AnalyticsApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    // Three customers over three days; c1 and c2 buy, c1 twice; c3 only looks.
    std::string events = "[";
    const auto ev = [&](const char* id, const char* who, const char* type, const char* ts, const char* extra = "") {
      if (events.size() > 1) events += ",";
      events += std::string(R"({"event_id":")") + id + R"(","type":")" + type + R"(","timestamp":")" + ts +
                R"(","customer":{"type":"member_card","value":")" + who + "\"}" + extra + "}";
    };
    ev("e1", "M1", "view", "2026-03-01T10:00:00+08:00", R"(,"content":"话术A")");
    ev("e2", "M1", "share", "2026-03-01T11:00:00+08:00");
    ev("e3", "M1", "order_paid", "2026-03-01T12:00:00+08:00");
    ev("e4", "M2", "view", "2026-03-01T10:00:00+08:00", R"(,"content":"话术B")");
    ev("e5", "M2", "order_paid", "2026-03-02T10:00:00+08:00");
    ev("e6", "M3", "view", "2026-03-02T10:00:00+08:00");
    events += "]";
    auto r = call("POST", "/v1/events", key_a_, events);
    ASSERT_EQ(r.status, 200) << r.raw;
    ASSERT_EQ(r.body["accepted"], 6) << r.raw;
    const auto order = [&](const char* id, const char* who, int amount, const char* at) {
      const std::string body = std::string(R"({"order_id":")") + id + R"(","status":"paid","amount":)" +
                               std::to_string(amount) + R"(,"ordered_at":")" + at + R"(","paid_at":")" + at +
                               R"(","store":"徐汇店","customer":{"type":"member_card","value":")" + who + "\"}}";
      ASSERT_EQ(call("POST", "/v1/orders", key_a_, body).status, 201);
    };
    order("o1", "M1", 10000, "2026-03-01T12:00:00+08:00");
    order("o2", "M1", 5000, "2026-03-03T12:00:00+08:00");
    order("o3", "M2", 20000, "2026-03-02T10:00:00+08:00");
  }
  static constexpr const char* kPeriod = "from=2026-03-01&to=2026-03-03";
};

TEST_F(AnalyticsApiTest, SalesByDayWithComparison) {
  auto r = call("GET", std::string("/v1/analytics/sales?fresh=1&compare=1&") + kPeriod, key_a_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["total"]["gmv"], 35000);
  EXPECT_EQ(r.body["total"]["orders"], 3);
  EXPECT_EQ(r.body["total"]["buyers"], 2);
  EXPECT_EQ(r.body["total"]["visitors"], 3);
  EXPECT_EQ(r.body["total"]["converted"], 2);
  EXPECT_EQ(r.body["total"]["repeat_buyers"], 1);
  ASSERT_EQ(r.body["total"]["points"].size(), 3u);
  EXPECT_EQ(r.body["total"]["points"][1]["period"], "2026-03-02");
  EXPECT_EQ(r.body["total"]["points"][1]["gmv"], 20000);
  EXPECT_EQ(r.body["previous"]["gmv"], 0);
  auto by_store = call("GET", std::string("/v1/analytics/sales?by=store&") + kPeriod, key_a_);
  EXPECT_EQ(by_store.body["groups"][0]["key"], "徐汇店");
  // The other workspace sees nothing of it.
  EXPECT_EQ(call("GET", std::string("/v1/analytics/sales?fresh=1&") + kPeriod, key_b_).body["total"]["gmv"], 0);
  // Both snapshots are reported to operators.
  auto metrics = call("GET", "/metrics", "");
  EXPECT_NE(metrics.raw.find("siyu_analytics_snapshots 2"), std::string::npos) << metrics.raw;
  EXPECT_EQ(metrics.raw.find("siyu_analytics_snapshot_bytes 0\n"), std::string::npos);
}

TEST_F(AnalyticsApiTest, BadParametersNameTheirField) {
  const std::pair<std::string, std::string> cases[] = {
      {"/v1/analytics/sales?from=2026-13-01", "from"},
      {"/v1/analytics/sales?from=2026-03-05&to=2026-03-01", "from"},
      {"/v1/analytics/sales?grain=hour", "grain"},
      {"/v1/analytics/sales?by=shoe", "by"},
      {"/v1/analytics/sales?by=segment", "segments"},
      {"/v1/analytics/sales?segment=999", "segment"},
      {"/v1/analytics/sales?layer=boss", "layer"},
      {"/v1/analytics/retention?grain=day", "grain"},
      {"/v1/analytics/retention?periods=99", "periods"},
      {"/v1/analytics/acquisition?by=city", "by"},
  };
  for (const auto& [path, field] : cases) {
    auto r = call("GET", path, key_a_);
    EXPECT_EQ(r.status, r.body["error"]["code"] == "not_found" ? 404 : 400) << path << " " << r.raw;
    EXPECT_EQ(r.body["error"]["field"], field) << path << " " << r.raw;
  }
  auto f = call("POST", "/v1/analytics/funnel", key_a_, R"({"steps":[{"type":"view"},{"type":"x","where":{"colour":"red"}}]})");
  EXPECT_EQ(f.status, 400);
  EXPECT_EQ(f.body["error"]["field"], "steps[1].where.colour");
  auto one = call("POST", "/v1/analytics/funnel", key_a_, R"({"steps":[{"type":"view"}]})");
  EXPECT_EQ(one.body["error"]["field"], "steps");
}

TEST_F(AnalyticsApiTest, FunnelAndItsDropoutsAsASegment) {
  const std::string funnel = std::string(R"({"from":"2026-03-01","to":"2026-03-03","fresh":true,)") +
                             R"("steps":[{"type":"view"},{"type":"order_paid"},{"type":"share"}],"window_hours":48})";
  auto r = call("POST", "/v1/analytics/funnel", key_a_, funnel);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["total"]["steps"][0]["customers"], 3);
  EXPECT_EQ(r.body["total"]["steps"][1]["customers"], 2);
  EXPECT_EQ(r.body["total"]["steps"][2]["customers"], 0);  // M1 shared before paying
  auto any = call("POST", "/v1/analytics/funnel", key_a_,
                  funnel.substr(0, funnel.size() - 1) + R"(,"order":"any_order"})");
  EXPECT_EQ(any.body["total"]["steps"][2]["customers"], 1) << any.raw;
  // Those who viewed and never paid become a segment.
  std::string drop = funnel.substr(0, funnel.size() - 1) + R"(,"step":1,"name":"看了没买"})";
  auto d = call("POST", "/v1/analytics/funnel:dropouts", key_a_, drop);
  ASSERT_EQ(d.status, 201) << d.raw;
  EXPECT_EQ(d.body["customers"], 1);
  auto seg = call("GET", "/v1/segments/" + std::to_string(d.body["segment_id"].get<int64_t>()) + "/members", key_a_);
  EXPECT_EQ(seg.body["size"], 1) << seg.raw;
  EXPECT_EQ(call("POST", "/v1/analytics/funnel:dropouts", analyst_a_, drop).status, 403);
}

TEST_F(AnalyticsApiTest, CsvExportsAreAuditedAndNeedThePermission) {
  auto csv = client().Get(std::string("/v1/analytics/sales?format=csv&fresh=1&") + kPeriod, bearer(key_a_));
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->status, 200);
  EXPECT_NE(csv->get_header_value("Content-Type").find("text/csv"), std::string::npos);
  EXPECT_NE(csv->body.find("all,2026-03-02,20000,1,1"), std::string::npos) << csv->body;
  auto audit = call("GET", "/v1/audit", key_a_);
  bool found = false;
  for (const Json& e : audit.body["items"]) found |= e["action"] == "export.analytics" && e["target"] == "sales";
  EXPECT_TRUE(found) << audit.raw;
  const std::string staff = issue_api_key(*store_, a_, "t", store::Role::kStaff, 1)->second;
  EXPECT_EQ(call("GET", std::string("/v1/analytics/rfm?format=csv&") + kPeriod, staff).status, 403);
  EXPECT_EQ(call("GET", std::string("/v1/analytics/rfm?") + kPeriod, staff).status, 200);
  EXPECT_EQ(call("GET", std::string("/v1/analytics/rfm?format=csv&") + kPeriod, analyst_a_).status, 200);
}

TEST_F(AnalyticsApiTest, EveryDashboardAnswers) {
  for (const char* path : {"/v1/analytics/buyers", "/v1/analytics/retention", "/v1/analytics/layers",
                           "/v1/analytics/acquisition", "/v1/analytics/rfm", "/v1/analytics/ltv"}) {
    auto r = call("GET", std::string(path) + "?fresh=1&" + kPeriod, key_a_);
    EXPECT_EQ(r.status, 200) << path << " " << r.raw;
  }
  auto buyers = call("GET", std::string("/v1/analytics/buyers?") + kPeriod, key_a_);
  EXPECT_EQ(buyers.body["buyers"], 2);
  auto retention = call("GET", "/v1/analytics/retention?from=2026-02-23&to=2026-03-03&first_event=view&return_event=order_paid", key_a_);
  // 2026-03-01 is a Sunday: M1 and M2 start the week of 02-23, M3 the week of 03-02.
  ASSERT_EQ(retention.body["cohorts"].size(), 2u) << retention.raw;
  EXPECT_EQ(retention.body["cohorts"][0]["size"], 2);
  EXPECT_EQ(retention.body["cohorts"][1]["size"], 1);
  EXPECT_EQ(retention.body["cohorts"][0]["returned"][0], 1);  // M1 that Sunday
  EXPECT_EQ(retention.body["cohorts"][0]["returned"][1], 1);  // M2 on Monday, the next week
  auto ab = call("POST", "/v1/analytics/ab-test", key_a_,
                 R"({"from":"2026-03-01","to":"2026-03-03","variant_a":"话术A","variant_b":"话术B","exposure_event":"view","conversion_event":"order_paid","window_hours":48})");
  ASSERT_EQ(ab.status, 200) << ab.raw;
  EXPECT_EQ(ab.body["a"]["exposed"], 1);
  EXPECT_EQ(ab.body["a"]["converted"], 1);
  EXPECT_FALSE(ab.body["significant"].get<bool>());
}

TEST_F(AnalyticsApiTest, RefitPredictsAndSegmentsUseThePredictions) {
  auto fit = call("POST", "/v1/analytics/ltv:refit", key_a_);
  ASSERT_EQ(fit.status, 200) << fit.raw;
  EXPECT_EQ(fit.body["model"]["predictions"], 2);
  auto ltv = call("GET", "/v1/analytics/ltv", key_a_);
  int64_t binned = 0;
  for (const Json& b : ltv.body["value_distribution"]) binned += b["customers"].get<int64_t>();
  EXPECT_EQ(binned, 2) << ltv.raw;
  auto count = call("POST", "/v1/segments:count", key_a_, R"({"expression":{"attr":"p_alive","op":"range","from":0,"to":101}})");
  ASSERT_EQ(count.status, 200) << count.raw;
  EXPECT_EQ(count.body["count"], 2);
  auto bad = call("POST", "/v1/segments:count", key_a_, R"({"expression":{"attr":"p_alive","op":"range","from":"x"}})");
  EXPECT_EQ(bad.body["error"]["field"], "expression.from");
}

}  // namespace
}  // namespace siyu::api
