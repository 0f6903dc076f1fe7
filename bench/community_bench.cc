// Community operations at scale (issue #6): `groups` (50,000) groups with `memberships`
// (10,000,000) members, then `messages` (100,000,000) group messages ingested through
// moderation (ads with the built-in words, links, QR images, competitors, flooding and a
// 200-word custom list; about 1% of messages break a rule) into a durable SQLite store, with
// member activity, day, hour and topic aggregates counted in memory and written behind every
// 10 s of wall time, as the service's timer does, and once more at the end. Measured:
//   moderation alone   messages a second through folding, the rules and topic extraction
//                      (one thread, in memory)
//   ingest             messages a second end to end (CommunityService → store, batches of
//                      10,000, fsync per batch), until every figure is written
//   views              latency (median of 5) of the health list across all groups, the
//                      heatmap and hot topics across all groups, and one group's health
//                      (figures, heatmap and topics from its retained text) — 7-day window
// Side by side, on the same messages:
//   PostgreSQL (--pg)  the same tables and indexes (messages unique by time slot, group,
//                      time and msg_id, as in Siyu); each batch COPYed into a staging table
//                      and moved with one INSERT … SELECT per table (messages ON CONFLICT DO
//                      NOTHING, aggregates ON CONFLICT DO UPDATE); the views as SQL over the
//                      aggregates. Moderation runs in the client, as it would.
//   plain SQLite       the messages table alone (same indexes, no aggregates), and the views
//                      computed from the raw messages with GROUP BY.
// The groups and memberships are loaded with bulk SQL (they are not what is measured).
//
// usage: siyu_community_bench [--groups 50000] [--memberships 10000000]
//                             [--messages 100000000] [--days 30] [--dir /tmp] [--pg CONNINFO]
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "community/health.h"
#include "community/moderation.h"
#include "community/service.h"
#include "community/topics.h"
#include "core/text.h"
#include "core/time_format.h"
#include "pg.h"
#include "store/store.h"

using namespace siyu;

namespace {

using Steady = std::chrono::steady_clock;

double seconds_since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "community bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T ok(Result<T> r) {
  if (!r) die(r.status().to_string());
  return std::move(*r);
}

void ok_status(const Status& st) {
  if (!st.is_ok()) die(st.message());
}

struct Options {
  int64_t groups = 50'000;
  int64_t memberships = 10'000'000;
  int64_t messages = 100'000'000;
  int days = 30;
  std::string dir = "/tmp";
  std::string pg;
};

// Chat made of fragments, so texts vary the way real group chat does.
constexpr std::array<const char*, 24> kOpen = {"大家好", "请问", "今天", "刚刚", "有没有人", "姐妹们", "老师", "我觉得",
                                              "求推荐", "分享一下", "周末", "晚上", "早上好", "哈哈", "谢谢群主", "新人报到",
                                              "团购", "上次说的", "这款", "明天", "宝宝", "打卡", "想问下", "有人知道"};
constexpr std::array<const char*, 24> kTopic = {"护肤品", "面膜", "防晒霜", "精华液", "口红", "奶茶", "咖啡豆", "健身课",
                                               "早餐", "绘本", "英语课", "露营装备", "瑜伽垫", "跑步鞋", "洗面奶", "会员卡",
                                               "优惠券", "直播间", "新品", "拼团", "积分", "秒杀", "团长", "快递"};
constexpr std::array<const char*, 16> kClose = {"怎么样", "好用吗", "多少钱", "在哪买", "真的不错", "已下单", "求链接", "太香了",
                                               "有优惠吗", "什么时候到", "推荐给大家", "效果很好", "回购了", "哪个好", "想试试", "好看"};
constexpr std::array<const char*, 6> kBad = {"加 V 信领红包", "兼·职·日·结 私聊", "www.cheap-deal.cn 免费领",
                                            "用完美日記吧", "喜茶买一送一", "刷单返利，加vx"};

struct Message {
  int64_t group = 0;
  int64_t customer = 0;
  EpochMs at = 0;
  std::string text;
  bool qr = false;
};

/// Messages in time order over `days` days ending at `end`, senders drawn from each group's
/// members (a few members do most of the talking), peaks at noon and in the evening.
class MessageSource {
 public:
  MessageSource(const Options& o, EpochMs end, const std::vector<std::vector<int64_t>>& members)
      : o_(o), end_(end), members_(members), rng_(11) {}

  /// The next `n` messages (time advances evenly across the run).
  std::vector<Message> next(int64_t n) {
    std::vector<Message> out;
    out.reserve(static_cast<size_t>(n));
    const double span = static_cast<double>(o_.days) * 86'400'000.0;
    for (int64_t i = 0; i < n; ++i, ++made_) {
      Message m;
      m.group = 1 + static_cast<int64_t>(rng_() % static_cast<uint64_t>(o_.groups));
      const auto& list = members_[static_cast<size_t>(m.group)];
      if (list.empty()) continue;
      const auto pick = std::min<uint64_t>(list.size() - 1, static_cast<uint64_t>(std::exponential_distribution<double>(8.0 / static_cast<double>(list.size()))(rng_)));
      m.customer = list[pick];
      const double day_pos = static_cast<double>(made_) / static_cast<double>(o_.messages);
      const auto day_start = static_cast<EpochMs>(static_cast<double>(end_) - span + day_pos * span);
      // Hours in the workspace's day: mostly 8–23 with peaks at 12 and 20–22.
      static constexpr std::array<int, 24> kWeight = {1, 0, 0, 0, 0, 0, 1, 3, 6, 5, 4, 6, 9, 8, 4, 4, 5, 6, 7, 9, 12, 13, 9, 4};
      int hour = 0;
      int r = static_cast<int>(rng_() % 126);
      while (hour < 23 && r >= kWeight[static_cast<size_t>(hour)]) r -= kWeight[static_cast<size_t>(hour++)];
      const EpochMs midnight = (day_start + 8 * 3'600'000) / 86'400'000 * 86'400'000 - 8 * 3'600'000;
      m.at = std::min(end_ - 1, midnight + hour * 3'600'000 + static_cast<EpochMs>(rng_() % 3'600'000));
      if (rng_() % 100 == 0) {
        m.text = kBad[rng_() % kBad.size()];
      } else if (rng_() % 200 == 0) {
        m.qr = true;  // an image with a QR code
      } else {
        m.text = std::string(kOpen[rng_() % kOpen.size()]) + "，" + kTopic[rng_() % kTopic.size()] +
                 kClose[rng_() % kClose.size()];
      }
      out.push_back(std::move(m));
    }
    return out;
  }

 private:
  const Options& o_;
  EpochMs end_;
  const std::vector<std::vector<int64_t>>& members_;
  std::mt19937_64 rng_;
  int64_t made_ = 0;
};

std::vector<store::ModerationRule> rules() {
  std::vector<store::ModerationRule> out(6);
  const char* kinds[] = {"ads", "links", "qr_image", "competitors", "flood", "words"};
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].id = static_cast<int64_t>(i) + 1;
    out[i].name = kinds[i];
    out[i].kind = kinds[i];
    out[i].action = "warn";
  }
  out[3].words = {"完美日记", "喜茶", "奈雪", "瑞幸", "蜜雪冰城"};
  out[4].flood_messages = 10;
  out[4].flood_seconds = 10;
  for (int i = 0; i < 200; ++i) out[5].words.push_back("违禁词" + std::to_string(i));
  return out;
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) die(std::string(err ? err : "sqlite"));
}

/// Groups and memberships written straight into the store's file (setup, not measured).
std::vector<std::vector<int64_t>> load_members(const std::string& file, WorkspaceId ws, const Options& o,
                                               EpochMs joined) {
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) die("open " + file);
  exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; BEGIN");
  sqlite3_stmt* g = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO groups (workspace_id, id, name, kind, capacity, created_at, members) VALUES (?,?,?,?,500,?,?)", -1, &g, nullptr);
  sqlite3_stmt* m = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO group_members (workspace_id, group_id, customer_id, source, joined_at) VALUES (?,?,?,'bench',?)", -1, &m, nullptr);
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(o.groups) + 1);
  const int64_t per_group = o.memberships / o.groups;
  const int64_t customers = std::max<int64_t>(1, o.memberships / 5);  // five groups each on average
  std::mt19937_64 rng(5);
  for (int64_t id = 1; id <= o.groups; ++id) {
    auto& list = members[static_cast<size_t>(id)];
    while (static_cast<int64_t>(list.size()) < per_group) list.push_back(1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(customers)));
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    const std::string name = "群" + std::to_string(id);
    sqlite3_bind_int64(g, 1, ws.value);
    sqlite3_bind_int64(g, 2, id);
    sqlite3_bind_text(g, 3, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(g, 4, "traffic", -1, SQLITE_STATIC);
    sqlite3_bind_int64(g, 5, joined);
    sqlite3_bind_int64(g, 6, static_cast<int64_t>(list.size()));
    if (sqlite3_step(g) != SQLITE_DONE) die(sqlite3_errmsg(db));
    sqlite3_reset(g);
    for (int64_t c : list) {
      sqlite3_bind_int64(m, 1, ws.value);
      sqlite3_bind_int64(m, 2, id);
      sqlite3_bind_int64(m, 3, c);
      sqlite3_bind_int64(m, 4, joined);
      if (sqlite3_step(m) != SQLITE_DONE) die(sqlite3_errmsg(db));
      sqlite3_reset(m);
    }
  }
  sqlite3_finalize(g);
  sqlite3_finalize(m);
  exec(db, "COMMIT");
  sqlite3_close(db);
  return members;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F>
double median_ms(F&& f, int runs = 5) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t = Steady::now();
    f();
    ms.push_back(seconds_since(t) * 1000);
  }
  return median(ms);
}

std::string sql_text(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '\\') out += "\\\\";
    else if (ch == '\t') out += "\\t";
    else if (ch == '\n') out += "\\n";
    else out.push_back(ch);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--groups") o.groups = std::stoll(v);
    else if (k == "--memberships") o.memberships = std::stoll(v);
    else if (k == "--messages") o.messages = std::stoll(v);
    else if (k == "--days") o.days = std::stoi(v);
    else if (k == "--dir") o.dir = v;
    else if (k == "--pg") o.pg = v;
    else die("unknown option " + k);
  }
  const EpochMs end = SystemClock::instance().now_ms();
  const int offset = 480;
  const int64_t today = local_day(end, offset);
  const community::HealthWindow window{today - 6, today};
  const auto folder = community::TextFolder::shared();
  constexpr int64_t kBatch = 10'000;

  // ---------------------------------------------------------------- moderation alone
  double moderation_rate = 0;
  {
    std::vector<std::vector<int64_t>> few(101);
    for (size_t g = 1; g < few.size(); ++g) {
      for (int64_t c = 1; c <= 200; ++c) few[g].push_back(static_cast<int64_t>(g) * 1000 + c);
    }
    Options small = o;
    small.groups = 100;
    small.messages = 1'000'000;
    MessageSource src(small, end, few);
    auto msgs = src.next(small.messages);
    community::Moderator mod(rules(), folder);
    int64_t hits = 0, terms = 0;
    std::map<std::string, int64_t> by_rule;
    const auto t = Steady::now();
    for (const auto& m : msgs) {
      terms += static_cast<int64_t>(community::extract_terms(*folder, m.text).size());
      if (auto v = mod.check({GroupId(m.group), CustomerId(m.customer), m.qr ? "image" : "text", m.text, m.qr, m.at})) {
        ++hits;
        ++by_rule[v->rule_name];
      }
    }
    moderation_rate = static_cast<double>(msgs.size()) / seconds_since(t);
    std::fprintf(stderr, "moderation alone: %.0f msg/s (%lld violations, %lld terms)\n", moderation_rate,
                 static_cast<long long>(hits), static_cast<long long>(terms));
    for (const auto& [rule, n] : by_rule) std::fprintf(stderr, "  %s: %lld\n", rule.c_str(), static_cast<long long>(n));
  }

  // ---------------------------------------------------------------- Siyu on SQLite
  const std::string data = o.dir + "/siyu-community-" + std::to_string(::getpid());
  std::filesystem::create_directories(data);
  WorkspaceId ws;
  {
    store::StoreConfig cfg;
    cfg.data_dir = data;
    auto st = ok(store::open_store(cfg));
    ws = ok(st->create_workspace({WorkspaceId(), "bench", "bench", "Asia/Shanghai", 0})).id;
  }
  const auto setup = Steady::now();
  const auto members = load_members(data + "/siyu.db", ws, o, end - (o.days + 30) * 86'400'000LL);
  std::fprintf(stderr, "setup: %lld groups, %lld memberships in %.1f s\n", static_cast<long long>(o.groups),
               static_cast<long long>(o.memberships), seconds_since(setup));
  store::StoreConfig cfg;
  cfg.data_dir = data;
  auto st = ok(store::open_store(cfg));
  for (auto r : rules()) {
    r.id = 0;
    ok(st->put_moderation_rule(ws, r));
  }
  ManualClock clock(end);
  community::CommunityService service(*st, clock);
  MessageSource source(o, end, members);
  int64_t stored = 0, violations = 0;
  const auto ingest = Steady::now();
  auto written = ingest;
  double ingest_s = 0, settle_s = 0;
  for (int64_t done = 0; done < o.messages; done += kBatch) {
    auto msgs = source.next(std::min(kBatch, o.messages - done));
    std::vector<community::IncomingMessage> batch;
    batch.reserve(msgs.size());
    for (const auto& m : msgs) {
      community::IncomingMessage in;
      in.message.group = GroupId(m.group);
      in.message.customer = CustomerId(m.customer);
      in.message.msg_id = "m" + std::to_string(done + static_cast<int64_t>(batch.size()));
      in.message.type = m.qr ? "image" : "text";
      in.message.text = m.text;
      in.message.at = m.at;
      in.qr = m.qr;
      batch.push_back(std::move(in));
    }
    const auto r = ok(service.ingest(ws, std::move(batch)));
    stored += r.stored;
    violations += r.violations;
    if (seconds_since(written) >= 10) {  // the service's timer writes figures every 10 s
      const auto settling = Steady::now();
      ok_status(service.settle(ws));
      settle_s += seconds_since(settling);
      written = Steady::now();
    }
    if ((done / kBatch) % 500 == 499) {
      std::fprintf(stderr, "  %lld messages, %.0f msg/s\n", static_cast<long long>(done + kBatch),
                   static_cast<double>(done + kBatch) / seconds_since(ingest));
    }
  }
  const auto settling = Steady::now();
  ok_status(service.settle(ws));
  settle_s += seconds_since(settling);
  ingest_s = seconds_since(ingest);
  std::fprintf(stderr,
               "siyu ingest: %lld stored, %lld violations in %.1f s = %.0f msg/s (figure writes %.1f s)\n",
               static_cast<long long>(stored), static_cast<long long>(violations), ingest_s,
               static_cast<double>(stored) / ingest_s, settle_s);

  // Views, as the API computes them.
  // The list is served from a snapshot the service keeps warm; building one is the cost the
  // background thread pays every 15 s while someone looks at the list.
  const double list_build_ms = median_ms([&] {
    service.groups_changed(ws);
    auto snap = ok(service.health(ws, 7));
    if (snap->figures.size() != static_cast<size_t>(o.groups) + 1) die("health list");
  });
  const double list_ms = median_ms([&] { (void)ok(service.health(ws, 7)); });
  const double heat_ms = median_ms([&] {
    auto hours = ok(st->group_hours(ws, std::nullopt, window.from_day, window.to_day));
    (void)community::heatmap(hours);
  });
  const double topics_ms = median_ms([&] {
    auto terms = ok(st->topics(ws, window.from_day, window.to_day, 150));
    (void)community::top_terms(std::move(terms), 30);
  });
  const EpochMs from = (window.from_day * 1440 - offset) * 60'000;
  const double group_ms = median_ms([&] {
    const GroupId g(1 + static_cast<int64_t>(std::rand() % static_cast<int>(o.groups)));
    auto group = ok(st->group(ws, g));
    auto rows = ok(st->group_days(ws, g, community::first_day_needed(window), window.to_day));
    auto hours = ok(st->group_hours(ws, g, window.from_day, window.to_day));
    auto texts = ok(st->group_messages(ws, g, from, end + 1, 20'000));
    std::map<std::string, int64_t> counts;
    for (const auto& m : texts) {
      for (auto& t : community::extract_terms(*folder, m.text)) ++counts[t];
    }
    (void)community::group_health(group, rows, window);
    (void)community::heatmap(hours);
    (void)community::top_terms({counts.begin(), counts.end()}, 30);
  });
  const auto db_bytes = std::filesystem::file_size(data + "/siyu.db");
  std::fprintf(stderr, "siyu views: list %.2f ms (snapshot build %.0f ms), heatmap %.1f ms, topics %.1f ms, one group %.1f ms; db %.2f GB\n",
               list_ms, list_build_ms, heat_ms, topics_ms, group_ms, static_cast<double>(db_bytes) / 1e9);

  // ---------------------------------------------------------------- plain SQLite (raw messages)
  double plain_ingest_rate = 0, plain_list_ms = 0, plain_heat_ms = 0;
  {
    const std::string file = data + "/plain.db";
    sqlite3* db = nullptr;
    if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) die("open plain");
    exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL");
    exec(db, "CREATE TABLE messages (id INTEGER PRIMARY KEY, group_id INTEGER, msg_id TEXT, customer_id INTEGER, "
             "type TEXT, text TEXT, at INTEGER); CREATE UNIQUE INDEX m_slot ON messages(at/600000, group_id, at, msg_id); "
             "CREATE INDEX m_at ON messages(at)");
    sqlite3_stmt* ins = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO messages (group_id, msg_id, customer_id, type, text, at) VALUES (?,?,?,?,?,?)", -1, &ins, nullptr);
    MessageSource again(o, end, members);
    const auto t = Steady::now();
    for (int64_t done = 0; done < o.messages; done += kBatch) {
      auto msgs = again.next(std::min(kBatch, o.messages - done));
      exec(db, "BEGIN");
      int64_t i = 0;
      for (const auto& m : msgs) {
        const std::string id = "m" + std::to_string(done + i++);
        sqlite3_bind_int64(ins, 1, m.group);
        sqlite3_bind_text(ins, 2, id.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ins, 3, m.customer);
        sqlite3_bind_text(ins, 4, m.qr ? "image" : "text", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, m.text.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ins, 6, m.at);
        if (sqlite3_step(ins) != SQLITE_DONE) die(sqlite3_errmsg(db));
        sqlite3_reset(ins);
      }
      exec(db, "COMMIT");
    }
    plain_ingest_rate = static_cast<double>(o.messages) / seconds_since(t);
    sqlite3_finalize(ins);
    const std::string since = std::to_string(from);
    plain_list_ms = median_ms([&] {
      exec(db, "SELECT group_id, count(*), count(DISTINCT customer_id) FROM messages WHERE at >= " + since +
                   " GROUP BY group_id");
    }, 3);
    plain_heat_ms = median_ms([&] {
      exec(db, "SELECT ((at/3600000 + 8) % 24), count(*) FROM messages WHERE at >= " + since + " GROUP BY 1");
    }, 3);
    sqlite3_close(db);
    std::fprintf(stderr, "plain sqlite: ingest %.0f msg/s (no moderation, no aggregates); list from raw %.0f ms, heatmap from raw %.0f ms\n",
                 plain_ingest_rate, plain_list_ms, plain_heat_ms);
  }

  // ---------------------------------------------------------------- PostgreSQL
  double pg_rate = 0, pg_list_ms = 0, pg_heat_ms = 0, pg_topics_ms = 0;
  if (!o.pg.empty()) {
    bench::Pg pg(o.pg);
    pg.exec("DROP TABLE IF EXISTS messages, stage, group_days, group_hours, topic_days, group_members, groups");
    pg.exec("CREATE TABLE groups (id bigint PRIMARY KEY, name text, capacity int, members int)");
    pg.exec("CREATE TABLE group_members (group_id bigint, customer_id bigint, messages bigint DEFAULT 0, "
            "last_active_day int DEFAULT -1, PRIMARY KEY (group_id, customer_id))");
    pg.exec("CREATE TABLE messages (id bigserial PRIMARY KEY, group_id bigint, msg_id text, customer_id bigint, "
            "type text, text text, at bigint, verdict text)");
    pg.exec("CREATE UNIQUE INDEX m_slot ON messages((at/600000), group_id, at, msg_id)");
    pg.exec("CREATE TABLE group_days (group_id bigint, day int, messages bigint, violations bigint, "
            "PRIMARY KEY (day, group_id))");
    pg.exec("CREATE TABLE group_hours (group_id bigint, day int, hour int, messages bigint, PRIMARY KEY (group_id, day, hour))");
    pg.exec("CREATE TABLE topic_days (day int, term text, n bigint, PRIMARY KEY (day, term))");
    pg.copy_begin("COPY groups FROM STDIN");
    std::string buf;
    for (int64_t g = 1; g <= o.groups; ++g) {
      buf += std::to_string(g) + "\t群" + std::to_string(g) + "\t500\t" + std::to_string(members[static_cast<size_t>(g)].size()) + "\n";
    }
    pg.put(buf);
    pg.copy_end();
    pg.copy_begin("COPY group_members (group_id, customer_id) FROM STDIN");
    buf.clear();
    for (int64_t g = 1; g <= o.groups; ++g) {
      for (int64_t c : members[static_cast<size_t>(g)]) {
        buf += std::to_string(g) + "\t" + std::to_string(c) + "\n";
        if (buf.size() > (1 << 20)) {
          pg.put(buf);
          buf.clear();
        }
      }
    }
    pg.put(buf);
    pg.copy_end();
    pg.exec("CREATE UNLOGGED TABLE stage (group_id bigint, msg_id text, customer_id bigint, type text, text text, "
            "at bigint, day int, hour int, verdict text, terms text[])");
    community::Moderator mod(rules(), folder);
    MessageSource again(o, end, members);
    const auto t = Steady::now();
    for (int64_t done = 0; done < o.messages; done += kBatch) {
      auto msgs = again.next(std::min(kBatch, o.messages - done));
      pg.exec("BEGIN");
      pg.exec("TRUNCATE stage");
      pg.copy_begin("COPY stage FROM STDIN");
      buf.clear();
      int64_t i = 0;
      for (const auto& m : msgs) {
        auto verdict = mod.check({GroupId(m.group), CustomerId(m.customer), m.qr ? "image" : "text", m.text, m.qr, m.at});
        const auto terms = community::extract_terms(*folder, m.text);
        const int64_t day = local_day(m.at, offset);
        const int hour = static_cast<int>(((m.at / 60'000 + offset) % 1440) / 60);
        std::string arr = "{";
        for (size_t k = 0; k < terms.size(); ++k) arr += (k ? "," : "") + terms[k];
        arr += "}";
        buf += std::to_string(m.group) + "\tm" + std::to_string(done + i++) + "\t" + std::to_string(m.customer) + "\t" +
               (m.qr ? "image" : "text") + "\t" + sql_text(m.text) + "\t" + std::to_string(m.at) + "\t" +
               std::to_string(day) + "\t" + std::to_string(hour) + "\t" + (verdict ? verdict->rule_name : "") + "\t" + arr + "\n";
      }
      pg.put(buf);
      pg.copy_end();
      pg.exec("INSERT INTO messages (group_id, msg_id, customer_id, type, text, at, verdict) SELECT group_id, msg_id, "
              "customer_id, type, text, at, verdict FROM stage ON CONFLICT DO NOTHING");
      pg.exec("INSERT INTO group_days SELECT group_id, day, count(*), count(*) FILTER (WHERE verdict <> '') FROM stage "
              "GROUP BY group_id, day ON CONFLICT (day, group_id) DO UPDATE SET messages = group_days.messages + "
              "excluded.messages, violations = group_days.violations + excluded.violations");
      pg.exec("INSERT INTO group_hours SELECT group_id, day, hour, count(*) FROM stage GROUP BY 1, 2, 3 ON CONFLICT "
              "(group_id, day, hour) DO UPDATE SET messages = group_hours.messages + excluded.messages");
      pg.exec("INSERT INTO topic_days SELECT day, term, count(*) FROM stage, unnest(terms) AS term GROUP BY 1, 2 "
              "ON CONFLICT (day, term) DO UPDATE SET n = topic_days.n + excluded.n");
      pg.exec("UPDATE group_members gm SET messages = gm.messages + s.n, last_active_day = greatest(gm.last_active_day, s.d) "
              "FROM (SELECT group_id, customer_id, count(*) AS n, max(day) AS d FROM stage GROUP BY 1, 2) s "
              "WHERE gm.group_id = s.group_id AND gm.customer_id = s.customer_id");
      pg.exec("COMMIT");
    }
    pg_rate = static_cast<double>(o.messages) / seconds_since(t);
    const std::string d0 = std::to_string(window.from_day), d1 = std::to_string(window.to_day);
    pg_list_ms = median_ms([&] {
      pg.exec("SELECT g.id, g.members, coalesce(sum(d.messages), 0) FROM groups g LEFT JOIN group_days d ON "
              "d.group_id = g.id AND d.day BETWEEN " + d0 + " AND " + d1 + " GROUP BY g.id, g.members");
    });
    pg_heat_ms = median_ms([&] {
      pg.exec("SELECT day, hour, sum(messages) FROM group_hours WHERE day BETWEEN " + d0 + " AND " + d1 + " GROUP BY 1, 2");
    });
    pg_topics_ms = median_ms([&] {
      pg.exec("SELECT term, sum(n) AS t FROM topic_days WHERE day BETWEEN " + d0 + " AND " + d1 +
              " GROUP BY term ORDER BY t DESC LIMIT 150");
    });
    std::fprintf(stderr, "postgres: ingest %.0f msg/s; list %.1f ms, heatmap %.1f ms, topics %.1f ms\n", pg_rate,
                 pg_list_ms, pg_heat_ms, pg_topics_ms);
  }
  std::error_code ec;
  std::filesystem::remove_all(data, ec);

  std::printf("{\"groups\":%lld,\"memberships\":%lld,\"messages\":%lld,\"moderation_msg_per_s\":%.0f,"
              "\"siyu_ingest_msg_per_s\":%.0f,\"siyu_list_ms\":%.2f,\"siyu_list_build_ms\":%.0f,\"siyu_heatmap_ms\":%.1f,"
              "\"siyu_topics_ms\":%.1f,\"siyu_group_ms\":%.1f,\"siyu_db_gb\":%.2f,"
              "\"plain_sqlite_insert_msg_per_s\":%.0f,\"plain_sqlite_list_ms\":%.0f,\"plain_sqlite_heatmap_ms\":%.0f,"
              "\"pg_ingest_msg_per_s\":%.0f,\"pg_list_ms\":%.1f,\"pg_heatmap_ms\":%.1f,\"pg_topics_ms\":%.1f}\n",
              static_cast<long long>(o.groups), static_cast<long long>(o.memberships),
              static_cast<long long>(o.messages), moderation_rate, static_cast<double>(stored) / ingest_s, list_ms,
              list_build_ms, heat_ms, topics_ms, group_ms, static_cast<double>(db_bytes) / 1e9, plain_ingest_rate, plain_list_ms,
              plain_heat_ms, pg_rate, pg_list_ms, pg_heat_ms, pg_topics_ms);
  return 0;
}
