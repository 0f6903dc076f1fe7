// The ten segment queries of issue #4's benchmark, as segment JSON and as the SQL each database
// side runs; shared by the segment and rebuild benchmarks.
#pragma once

#include "core/ids.h"

namespace siyu::bench {

/// The instant the queries' windows end: 2026-11-27 12:00 in Beijing.
constexpr EpochMs kNow = 1'795'752'000'000;

struct Query {
  const char* name;
  const char* expression;  // segment JSON
  const char* sql;         // SQLite and PostgreSQL with the customer_tags table
  const char* pg_array;    // PostgreSQL with tags as text[] (nullptr: same as sql)
};

// $SINCE is the first instant of the 90-day window (today and the 89 days before it, Beijing).
inline const Query kQueries[] = {
    {"one popular tag", R"({"tag":"t0"})",
     "SELECT count(*) FROM customer_tags WHERE tag='t0'",
     "SELECT count(*) FROM customers WHERE tags @> ARRAY['t0']"},
    {"one rare tag", R"({"tag":"t150"})",
     "SELECT count(*) FROM customer_tags WHERE tag='t150'",
     "SELECT count(*) FROM customers WHERE tags @> ARRAY['t150']"},
    {"layer in two", R"({"layer":["friend","member"]})",
     "SELECT count(*) FROM customers WHERE layer IN ('friend','member')", nullptr},
    {"tag and city", R"({"and":[{"tag":"t1"},{"attr":"city","op":"eq","value":"上海"}]})",
     "SELECT count(*) FROM customers c JOIN customer_tags t ON t.customer_id=c.id AND "
     "t.tag='t1' WHERE c.city='上海'",
     "SELECT count(*) FROM customers WHERE tags @> ARRAY['t1'] AND city='上海'"},
    {"two tags or", R"({"or":[{"tag":"t2"},{"tag":"t3"}]})",
     "SELECT count(DISTINCT customer_id) FROM customer_tags WHERE tag IN ('t2','t3')",
     "SELECT count(*) FROM customers WHERE tags && ARRAY['t2','t3']"},
    {"not a tag", R"({"not":{"tag":"t0"}})",
     "SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM customer_tags t WHERE "
     "t.tag='t0' AND t.customer_id=c.id)",
     "SELECT count(*) FROM customers WHERE NOT tags @> ARRAY['t0']"},
    {"custom fields: age, vip, level",
     R"({"and":[{"attr":"custom.age","op":"range","from":25,"to":35},{"attr":"custom.vip","op":"eq","value":true},{"attr":"custom.level","op":"in","values":["gold","platinum"]}]})",
     "SELECT count(*) FROM customers WHERE age >= 25 AND age < 35 AND vip AND level IN "
     "('gold','platinum')",
     nullptr},
    {"joined in a quarter and layer",
     R"({"and":[{"attr":"created_at","op":"range","from":1780200000000,"to":1787976000000},{"layer":["member"]}]})",
     "SELECT count(*) FROM customers WHERE created_at >= 1780200000000 AND created_at < "
     "1787976000000 AND layer='member'",
     nullptr},
    {"behaviour: 2+ orders in 90 days",
     R"({"event":"order_paid","within_days":90,"count":{"gte":2}})",
     "SELECT count(*) FROM (SELECT customer_id FROM events WHERE type='order_paid' AND ts >= "
     "$SINCE GROUP BY customer_id HAVING count(*) >= 2) x",
     nullptr},
    {"nested, eight terms",
     R"({"and":[{"or":[{"tag":"t1"},{"tag":"t5"},{"tag":"t20"}]},{"layer":["community","friend","member"]},{"not":{"tag":"t2"}},{"attr":"custom.age","op":"range","from":20,"to":40},{"attr":"city","op":"in","values":["上海","杭州"]},{"event":"order_paid","within_days":90}]})",
     "SELECT count(*) FROM customers c WHERE EXISTS (SELECT 1 FROM customer_tags t WHERE "
     "t.customer_id=c.id AND t.tag IN ('t1','t5','t20')) AND c.layer IN "
     "('community','friend','member') AND NOT EXISTS (SELECT 1 FROM customer_tags t WHERE "
     "t.customer_id=c.id AND t.tag='t2') AND c.age >= 20 AND c.age < 40 AND c.city IN "
     "('上海','杭州') AND EXISTS (SELECT 1 FROM events e WHERE e.customer_id=c.id AND "
     "e.type='order_paid' AND e.ts >= $SINCE)",
     "SELECT count(*) FROM customers c WHERE c.tags && ARRAY['t1','t5','t20'] AND c.layer IN "
     "('community','friend','member') AND NOT c.tags @> ARRAY['t2'] AND c.age >= 20 AND "
     "c.age < 40 AND c.city IN ('上海','杭州') AND EXISTS (SELECT 1 FROM events e WHERE "
     "e.customer_id=c.id AND e.type='order_paid' AND e.ts >= $SINCE)"},
};

}  // namespace siyu::bench
