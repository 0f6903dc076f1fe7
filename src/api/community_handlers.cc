// Routes of community operations (社群): groups and their design, members and roles, join
// requests against thresholds, group messages, moderation, auto-replies, health and channel
// codes with their QR images.
#include <algorithm>
#include <set>

#include "api/request.h"
#include "community/health.h"
#include "community/moderation.h"
#include "community/qr_png.h"
#include "community/roles.h"
#include "community/service.h"
#include "community/threshold.h"
#include "community/topics.h"
#include "core/text.h"
#include "core/time_format.h"
#include "customer/identity.h"
#include "security/crypto.h"
#include "segment/evaluate.h"

namespace siyu::api {
namespace {

constexpr std::array<std::string_view, 3> kGroupKinds = {"traffic", "conversion", "organisational"};
constexpr std::array<std::string_view, 7> kMessageTypes = {"text", "image", "link", "file",
                                                           "voice", "video", "mini_program"};
constexpr size_t kMaxMessages = 10'000;
constexpr EpochMs kDayMs = 86'400'000;

Reply png_reply(std::string bytes, const std::string& name) {
  Reply r;
  r.raw = std::move(bytes);
  r.content_type = "image/png";
  r.headers.emplace_back("Content-Disposition", "inline; filename=\"" + name + ".png\"");
  return r;
}

Json opt_time(const std::optional<EpochMs>& t) { return t ? Json(format_timestamp(*t)) : Json(nullptr); }

class CommunityHandlers {
 public:
  explicit CommunityHandlers(Services& s) : s_(s), community_(*s.community) {}

  // ------------------------------------------------------------------ groups
  /// Every group with its health (from a snapshot at most 30 s old; see CommunityService).
  Result<Reply> list_groups(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto days, query_int(req, "days", 1, 90));
    SIYU_ASSIGN_OR_RETURN(auto snap, community_.health(who.workspace, static_cast<int>(days.value_or(7))));
    Json items = Json::array();
    for (size_t i = 0; i < snap->groups.size(); ++i) {
      Json g = group_json(snap->groups[i]);
      g["health"] = community::health_json(snap->figures[i]);
      items.push_back(std::move(g));
    }
    return json_reply({{"items", items},
                       {"total", community::health_json(snap->figures.back())},
                       {"window", window_json(snap->window, who)},
                       {"as_of", format_timestamp(snap->built_at)}});
  }

  Result<Reply> create_group(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    store::Group g;
    g.kind = "traffic";
    SIYU_RETURN_IF_ERROR(read_group(body, who, g, true));
    g.created_at = s_.clock.now_ms();
    SIYU_ASSIGN_OR_RETURN(store::Group made, s_.store.create_group(who.workspace, g));
    community_.groups_changed(who.workspace);
    SIYU_RETURN_IF_ERROR(audit(s_, who, "group.create", "group:" + std::to_string(made.id.value)));
    return json_reply(group_json(made), 201);
  }

  /// Groups from CSV (header: name, kind, capacity, owner_staff_id, slogan, benefits, rules,
  /// welcome) or NDJSON; each row is validated like a created group and reported by position.
  Result<Reply> import_groups(const httplib::Request& req, const Principal& who) {
    if (req.body.size() > ingest::kMaxBatchBytes) {
      return Status(ErrorCode::kPayloadTooLarge, "import file is larger than 8 MiB");
    }
    SIYU_ASSIGN_OR_RETURN(auto rows, import_rows(req, 10'000, "groups"));
    int64_t created = 0;
    std::vector<ingest::ItemError> errors;
    for (size_t i = 0; i < rows.size(); ++i) {
      Json row = rows[i];
      store::Group g;
      g.kind = "traffic";
      g.created_at = s_.clock.now_ms();
      Status st = Status::ok();
      for (const char* k : {"capacity", "owner_staff_id"}) {
        if (!row.is_object() || !row.contains(k) || !row[k].is_string()) continue;
        if (row[k].get_ref<const std::string&>().empty()) {
          row.erase(k);
          continue;
        }
        auto v = parse_int(row[k].get_ref<const std::string&>(), k);
        if (!v) {
          st = v.status();
          break;
        }
        row[k] = *v;
      }
      if (st.is_ok()) st = read_group(row, who, g, true);
      if (st.is_ok()) st = s_.store.create_group(who.workspace, g).status();
      if (!st.is_ok()) {
        errors.push_back({i, Status(st.code(), "row " + std::to_string(i + 1) + ": " + st.message(), st.field())});
        continue;
      }
      ++created;
    }
    community_.groups_changed(who.workspace);
    SIYU_RETURN_IF_ERROR(audit(s_, who, "import.groups", "groups", {{"rows", rows.size()}, {"created", created}}));
    return json_reply({{"created", created}, {"rejected", errors.size()}, {"errors", errors_json(errors)}});
  }

  Result<Reply> get_group(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(store::Group g, s_.store.group(who.workspace, GroupId(id)));
    return json_reply(group_json(g));
  }

  Result<Reply> update_group(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    SIYU_ASSIGN_OR_RETURN(store::Group g, s_.store.group(who.workspace, GroupId(id)));
    SIYU_RETURN_IF_ERROR(read_group(body, who, g, false));
    SIYU_RETURN_IF_ERROR(s_.store.update_group(who.workspace, g));
    community_.groups_changed(who.workspace);
    SIYU_RETURN_IF_ERROR(audit(s_, who, "group.update", "group:" + std::to_string(id)));
    SIYU_ASSIGN_OR_RETURN(store::Group saved, s_.store.group(who.workspace, GroupId(id)));
    return json_reply(group_json(saved));
  }

  // ------------------------------------------------------------------ members
  Result<Reply> members(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_RETURN_IF_ERROR(s_.store.group(who.workspace, GroupId(id)).status());
    const bool past = req.get_param_value("past") == "1" || req.get_param_value("past") == "true";
    SIYU_RETURN_IF_ERROR(community_.settle(who.workspace));  // member activity written
    SIYU_ASSIGN_OR_RETURN(auto rows, s_.store.group_members(who.workspace, GroupId(id), past));
    const bool personal = allows(who.role, Permission::kReadPersonal);
    Json items = Json::array();
    for (const auto& m : rows) items.push_back(member_json(m, personal));
    return json_reply({{"items", items}});
  }

  Result<Reply> add_member(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    const auto customer = f.opt_int("customer_id", 1, INT64_MAX);
    const std::string source = f.opt_string("source", 60).value_or("staff");
    SIYU_RETURN_IF_ERROR(f.finish());
    if (!customer) return invalid("customer_id is required", "customer_id");
    SIYU_ASSIGN_OR_RETURN(bool listed, s_.store.is_blacklisted(who.workspace, CustomerId(*customer)));
    if (listed) return unprocessable("customer " + std::to_string(*customer) + " is on the blacklist", "customer_id");
    SIYU_ASSIGN_OR_RETURN(bool joined, s_.store.join_group(who.workspace, GroupId(id), CustomerId(*customer),
                                                           source, true, s_.clock.now_ms()));
    reindex(s_, who.workspace, {CustomerId(*customer)});
    community_.groups_changed(who.workspace);
    return json_reply({{"joined", joined}, {"group_id", id}, {"customer_id", *customer}}, joined ? 201 : 200);
  }

  Result<Reply> remove_member(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(int64_t customer, path_id(req, 2, "customer_id"));
    const bool quit = req.get_param_value("kind") == "quit";
    SIYU_RETURN_IF_ERROR(s_.store.leave_group(who.workspace, GroupId(id), CustomerId(customer), !quit,
                                              quit ? "member" : "staff", s_.clock.now_ms()));
    SIYU_RETURN_IF_ERROR(audit(s_, who, quit ? "group.quit" : "group.remove",
                               "group:" + std::to_string(id), {{"customer", customer}}));
    reindex(s_, who.workspace, {CustomerId(customer)});
    community_.groups_changed(who.workspace);
    return no_content();
  }

  Result<Reply> set_role(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(int64_t customer, path_id(req, 2, "customer_id"));
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    const Json* role = f.opt_any("role");
    SIYU_RETURN_IF_ERROR(f.finish());
    std::string value;
    if (role == nullptr) return invalid("role is required (null clears it)", "role");
    if (!role->is_null()) {
      if (!role->is_string() ||
          std::find(community::kRoles.begin(), community::kRoles.end(), role->get<std::string>()) ==
              community::kRoles.end()) {
        return invalid("role must be one of owner, admin, expert, core, favourite, supporter, lurker, violator",
                       "role");
      }
      value = role->get<std::string>();
    }
    SIYU_RETURN_IF_ERROR(s_.store.set_member_role(who.workspace, GroupId(id), CustomerId(customer), value,
                                                  who.actor, s_.clock.now_ms()));
    SIYU_RETURN_IF_ERROR(audit(s_, who, "group.role", "group:" + std::to_string(id),
                               {{"customer", customer}, {"role", value}}));
    return json_reply({{"group_id", id}, {"customer_id", customer}, {"role", value.empty() ? Json(nullptr) : Json(value)}});
  }

  Result<Reply> role_suggestions(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_RETURN_IF_ERROR(s_.store.group(who.workspace, GroupId(id)).status());
    SIYU_RETURN_IF_ERROR(community_.settle(who.workspace));  // member activity written
    SIYU_ASSIGN_OR_RETURN(auto rows, s_.store.group_members(who.workspace, GroupId(id), false));
    SIYU_ASSIGN_OR_RETURN(int offset, workspace_offset(s_, who.workspace));
    const auto suggestions = community::suggest_roles(rows, local_day(s_.clock.now_ms(), offset));
    Json items = Json::array();
    for (const auto& sg : suggestions) {
      auto m = std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.customer == sg.customer; });
      items.push_back({{"customer_id", sg.customer.value},
                       {"name", m != rows.end() ? m->name : ""},
                       {"current_role", m != rows.end() && !m->role.empty() ? Json(m->role) : Json(nullptr)},
                       {"role", sg.role},
                       {"role_name", std::string(community::role_name(sg.role))},
                       {"reason", sg.reason}});
    }
    return json_reply({{"items", items}});
  }

  /// Someone asks to join: blacklist, capacity and the group's threshold decide, with the
  /// reason when refused. A price threshold takes the payment with the request and records it
  /// as a paid order once the join stands.
  Result<Reply> join_request(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    const auto customer_id = f.opt_int("customer_id", 1, INT64_MAX);
    const Json* payment = f.opt_any("payment");
    SIYU_RETURN_IF_ERROR(f.finish());
    if (!customer_id) return invalid("customer_id is required", "customer_id");
    const CustomerId customer(*customer_id);
    std::string order_id;
    int64_t paid = 0;
    if (payment != nullptr && !payment->is_null()) {
      if (!payment->is_object()) return invalid("payment must be an object", "payment");
      JsonFields p(*payment, "payment");
      order_id = p.req_string("order_id", 64);
      paid = p.opt_int("amount", 1, 100'000'000).value_or(0);
      SIYU_RETURN_IF_ERROR(p.finish());
      if (paid == 0) return invalid("payment.amount is required (cents)", "payment.amount");
    }
    SIYU_ASSIGN_OR_RETURN(store::Group g, s_.store.group(who.workspace, GroupId(id)));
    SIYU_ASSIGN_OR_RETURN(store::Customer c, s_.store.customer(who.workspace, customer));
    if (c.merged_into || c.erased_at) return not_found("customer " + std::to_string(*customer_id) + " not found");
    SIYU_ASSIGN_OR_RETURN(Json tj, parse_json(g.threshold_json));
    SIYU_ASSIGN_OR_RETURN(auto threshold, community::parse_threshold(tj, "threshold"));
    SIYU_ASSIGN_OR_RETURN(auto in, s_.store.groups_of(who.workspace, customer));
    if (std::find(in.begin(), in.end(), g.id) != in.end()) {
      return json_reply({{"admitted", true}, {"code", "already_member"}, {"group_id", id}});
    }
    community::JoinFacts facts;
    SIYU_ASSIGN_OR_RETURN(facts.blacklisted, s_.store.is_blacklisted(who.workspace, customer));
    facts.full = g.members >= g.capacity;
    facts.paid = paid;
    if (threshold.type == "identity") {
      SIYU_ASSIGN_OR_RETURN(segment::Expr e, expression_at(s_, who, threshold.segment, "threshold.segment"));
      SIYU_ASSIGN_OR_RETURN(const index::CustomerIndex* ix, s_.indexes.get(who.workspace));
      index::Bitmap one;
      one.add(static_cast<uint32_t>(customer.value));
      facts.identity_ok = ix->read([&](const index::IndexView& v) {
        return segment::evaluate(v, e, s_.clock.now_ms(), &one);
      }).contains(static_cast<uint32_t>(customer.value));
    }
    if (threshold.type == "action") {
      const EpochMs since = s_.clock.now_ms() - threshold.within_days * kDayMs;
      SIYU_ASSIGN_OR_RETURN(auto events, s_.store.events(who.workspace, customer, std::nullopt, 500));
      facts.action_done = std::any_of(events.begin(), events.end(), [&](const store::Event& e) {
        return e.type == threshold.event && e.ts >= since;
      });
    }
    const auto decision = community::decide_join(threshold, facts);
    if (!decision.admitted) {
      return json_reply({{"admitted", false}, {"code", decision.code}, {"reason", decision.reason}, {"group_id", id}});
    }
    const EpochMs now = s_.clock.now_ms();
    auto joined = s_.store.join_group(who.workspace, g.id, customer, "join_request", true, now);
    if (!joined && joined.status().code() == ErrorCode::kConflict) {
      return json_reply({{"admitted", false}, {"code", "full"}, {"reason", "the group is full"}, {"group_id", id}});
    }
    SIYU_RETURN_IF_ERROR(joined.status());
    if (threshold.type == "price") {
      std::vector<store::PendingOrder> orders(1);
      store::Order& o = orders[0].order;
      o.order_id = order_id;
      o.status = "paid";
      o.amount = paid;
      o.channel = "group_entry";
      o.items_json = Json::array({{{"sku", "group-" + std::to_string(id)}, {"name", "入群费 " + g.name},
                                   {"quantity", 1}, {"price", paid}}}).dump();
      o.ordered_at = now;
      o.paid_at = now;
      orders[0].customer = customer;
      SIYU_ASSIGN_OR_RETURN(auto results, s_.store.upsert_orders(who.workspace, orders, now));
      SIYU_RETURN_IF_ERROR(results[0].status);
    }
    reindex(s_, who.workspace, {customer});
    community_.groups_changed(who.workspace);
    return json_reply({{"admitted", true}, {"code", "admitted"}, {"group_id", id}}, 201);
  }

  Result<Reply> member_events(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(int limit, page_limit(req, 100, 1000));
    SIYU_ASSIGN_OR_RETURN(auto since, query_time(req, "since"));
    SIYU_ASSIGN_OR_RETURN(auto rows, s_.store.group_member_events(who.workspace, GroupId(id),
                                                                  since.value_or(0), limit));
    Json items = Json::array();
    for (const auto& e : rows) {
      items.push_back({{"customer_id", e.customer.value}, {"kind", e.kind}, {"source", e.source},
                       {"at", format_timestamp(e.at)}});
    }
    return json_reply({{"items", items}});
  }

  // ------------------------------------------------------------------ messages
  /// A batch of group messages (JSON array or NDJSON, at most 10,000): each is checked on its
  /// own, moderated, answered and stored; a repeat (same group, time and msg_id) is
  /// acknowledged and ignored.
  Result<Reply> post_messages(const httplib::Request& req, const Principal& who) {
    if (req.body.size() > ingest::kMaxBatchBytes) {
      return Status(ErrorCode::kPayloadTooLarge, "message batch is larger than 8 MiB");
    }
    SIYU_ASSIGN_OR_RETURN(auto items, ingest::split_batch(req.body, wants_ndjson(req), kMaxMessages, "messages"));
    SIYU_ASSIGN_OR_RETURN(auto groups, s_.store.groups(who.workspace));
    std::set<int64_t> known;
    for (const auto& g : groups) known.insert(g.id.value);
    const customer::IdentityCodec codec(s_.vault, who.workspace);
    std::vector<community::IncomingMessage> batch;
    std::vector<ingest::ItemError> errors;
    for (size_t i = 0; i < items.size(); ++i) {
      auto m = parse_message(items[i], "messages[" + std::to_string(i) + "]", known, codec, who);
      if (m) {
        batch.push_back(std::move(*m));
      } else {
        errors.push_back({i, m.status()});
      }
    }
    if (batch.empty()) {
      if (errors.empty()) return invalid("batch holds no messages");
      const Status& first = errors.front().status;
      return Status(first.code(), "no message was accepted; first problem: " + first.message(), first.field());
    }
    SIYU_ASSIGN_OR_RETURN(auto report, community_.ingest(who.workspace, std::move(batch)));
    if (!report.touched.empty()) reindex(s_, who.workspace, report.touched);
    return json_reply({{"accepted", report.stored},
                       {"duplicates", report.duplicates},
                       {"rejected", errors.size()},
                       {"violations", report.violations},
                       {"auto_replies", report.replies},
                       {"errors", errors_json(errors)}});
  }

  Result<Reply> list_messages(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(int limit, page_limit(req, 100, 1000));
    SIYU_ASSIGN_OR_RETURN(auto from, query_time(req, "from"));
    SIYU_ASSIGN_OR_RETURN(auto to, query_time(req, "to"));
    SIYU_RETURN_IF_ERROR(s_.store.group(who.workspace, GroupId(id)).status());
    SIYU_ASSIGN_OR_RETURN(auto rows, s_.store.group_messages(who.workspace, GroupId(id), from.value_or(0),
                                                             to.value_or(INT64_MAX), limit));
    Json items = Json::array();
    for (const auto& m : rows) {
      items.push_back({{"msg_id", m.msg_id},
                       {"customer_id", m.customer.valid() ? Json(m.customer.value) : Json(nullptr)},
                       {"sender", m.sender},
                       {"type", m.type},
                       {"text", m.text},
                       {"at", format_timestamp(m.at)},
                       {"reply_to", m.reply_to.empty() ? Json(nullptr) : Json(m.reply_to)},
                       {"violation", m.moderation ? Json(m.moderation->rule_name) : Json(nullptr)}});
    }
    return json_reply({{"items", items}});
  }

  // ------------------------------------------------------------------ health
  Result<Reply> group_health(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(store::Group g, s_.store.group(who.workspace, GroupId(id)));
    SIYU_ASSIGN_OR_RETURN(auto window, window_of(req, who));
    SIYU_RETURN_IF_ERROR(community_.settle(who.workspace));  // message figures written
    SIYU_ASSIGN_OR_RETURN(auto rows, s_.store.group_days(who.workspace, g.id,
                                                         community::first_day_needed(window), window.to_day));
    SIYU_ASSIGN_OR_RETURN(auto hours, s_.store.group_hours(who.workspace, g.id, window.from_day, window.to_day));
    SIYU_ASSIGN_OR_RETURN(int offset, workspace_offset(s_, who.workspace));
    // Topics of one group come from its retained message text.
    const EpochMs from = (window.from_day * 1440 - offset) * 60'000;
    const EpochMs to = ((window.to_day + 1) * 1440 - offset) * 60'000;
    SIYU_ASSIGN_OR_RETURN(auto texts, s_.store.group_messages(who.workspace, g.id, from, to, 20'000));
    std::map<std::string, int64_t> counts;
    const auto folder = community::TextFolder::shared();
    for (const auto& m : texts) {
      for (auto& t : community::extract_terms(*folder, m.text)) ++counts[t];
    }
    return json_reply({{"group", group_json(g)},
                       {"health", community::health_json(community::group_health(g, rows, window))},
                       {"days", days_json(rows, window)},
                       {"heatmap", community::heatmap_json(community::heatmap(hours))},
                       {"topics", topics_json(community::top_terms({counts.begin(), counts.end()}, 30))},
                       {"window", window_json(window, who)}});
  }

  /// Across every group: the total, the heatmap, hot topics and the daily series.
  Result<Reply> overview(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto days, query_int(req, "days", 1, 90));
    SIYU_ASSIGN_OR_RETURN(auto snap, community_.health(who.workspace, static_cast<int>(days.value_or(7))));
    const auto& window = snap->window;
    const auto& groups = snap->groups;
    const auto& health = snap->figures;
    SIYU_RETURN_IF_ERROR(community_.settle(who.workspace));  // message figures written
    SIYU_ASSIGN_OR_RETURN(auto rows, s_.store.group_days(who.workspace, GroupId(0), window.from_day, window.to_day));
    SIYU_ASSIGN_OR_RETURN(auto hours, s_.store.group_hours(who.workspace, std::nullopt, window.from_day, window.to_day));
    SIYU_ASSIGN_OR_RETURN(auto terms, s_.store.topics(who.workspace, window.from_day, window.to_day, 150));
    Json flagged = Json::array();
    for (size_t i = 0; i + 1 < health.size(); ++i) {
      if (health[i].flags.empty()) continue;
      Json item = community::health_json(health[i]);
      item["name"] = groups[i].name;
      flagged.push_back(std::move(item));
    }
    return json_reply({{"groups", groups.size()},
                       {"total", community::health_json(health.back())},
                       {"flagged", flagged},
                       {"days", days_json(rows, window)},
                       {"heatmap", community::heatmap_json(community::heatmap(hours))},
                       {"topics", topics_json(community::top_terms(std::move(terms), 30))},
                       {"window", window_json(window, who)}});
  }

  // ------------------------------------------------------------------ moderation
  Result<Reply> list_rules(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto rules, s_.store.moderation_rules(who.workspace));
    Json items = Json::array();
    for (const auto& r : rules) items.push_back(community::rule_json(r));
    return json_reply({{"items", items}, {"default_ad_words", community::default_ad_words()}});
  }

  Result<Reply> put_rule(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    SIYU_ASSIGN_OR_RETURN(auto rule, community::parse_rule(body));
    if (req.method == "PUT") {
      SIYU_ASSIGN_OR_RETURN(rule.id, path_id(req, 1, "id"));
    }
    rule.updated_at = s_.clock.now_ms();
    SIYU_ASSIGN_OR_RETURN(auto saved, s_.store.put_moderation_rule(who.workspace, rule));
    community_.rules_changed(who.workspace);
    SIYU_RETURN_IF_ERROR(audit(s_, who, "moderation.rule", "rule:" + std::to_string(saved.id), community::rule_json(saved)));
    return json_reply(community::rule_json(saved), req.method == "POST" ? 201 : 200);
  }

  Result<Reply> delete_rule(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_RETURN_IF_ERROR(s_.store.delete_moderation_rule(who.workspace, id));
    community_.rules_changed(who.workspace);
    SIYU_RETURN_IF_ERROR(audit(s_, who, "moderation.rule.delete", "rule:" + std::to_string(id)));
    return no_content();
  }

  Result<Reply> moderation_log(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int limit, page_limit(req, 50, 500));
    SIYU_ASSIGN_OR_RETURN(auto before, query_int(req, "before", 1, INT64_MAX));
    SIYU_ASSIGN_OR_RETURN(auto rows, s_.store.moderation_log(who.workspace, before.value_or(0), limit));
    Json items = Json::array();
    for (const auto& e : rows) {
      items.push_back({{"id", e.id},
                       {"group_id", e.group.value},
                       {"customer_id", e.customer.value},
                       {"rule_id", e.rule_id},
                       {"rule", e.rule_name},
                       {"action", e.action},
                       {"msg_id", e.msg_id},
                       {"message", e.excerpt},
                       {"matched", e.matched},
                       {"at", format_timestamp(e.at)}});
    }
    Json next = static_cast<int>(rows.size()) == limit && !rows.empty() ? Json(rows.back().id) : Json(nullptr);
    return json_reply({{"items", items}, {"next_cursor", next}});
  }

  Result<Reply> blacklist(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto rows, s_.store.blacklist(who.workspace));
    Json items = Json::array();
    for (const auto& b : rows) {
      items.push_back({{"customer_id", b.customer.value}, {"reason", b.reason}, {"by", b.by},
                       {"at", format_timestamp(b.at)}});
    }
    return json_reply({{"items", items}});
  }

  Result<Reply> set_blacklisted(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t customer, path_id(req, 1, "customer_id"));
    const bool listed = req.method == "PUT";
    std::string reason = "set by staff";
    if (listed && !req.body.empty()) {
      SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
      JsonFields f(body, "");
      reason = f.opt_string("reason", 200).value_or(reason);
      SIYU_RETURN_IF_ERROR(f.finish());
    }
    SIYU_RETURN_IF_ERROR(s_.store.set_blacklisted(who.workspace, CustomerId(customer), listed, reason,
                                                  who.actor, s_.clock.now_ms()));
    SIYU_RETURN_IF_ERROR(audit(s_, who, listed ? "blacklist.add" : "blacklist.remove",
                               "customer:" + std::to_string(customer), {{"reason", reason}}));
    reindex(s_, who.workspace, {CustomerId(customer)});
    return no_content();
  }

  // ------------------------------------------------------------------ auto-replies
  Result<Reply> list_replies(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto rows, s_.store.auto_replies(who.workspace));
    Json items = Json::array();
    for (const auto& r : rows) items.push_back(community::auto_reply_json(r));
    return json_reply({{"items", items}});
  }

  Result<Reply> put_reply(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    SIYU_ASSIGN_OR_RETURN(auto reply, community::parse_auto_reply(body));
    if (req.method == "PUT") {
      SIYU_ASSIGN_OR_RETURN(reply.id, path_id(req, 1, "id"));
    }
    if (reply.group.valid()) SIYU_RETURN_IF_ERROR(s_.store.group(who.workspace, reply.group).status());
    reply.updated_at = s_.clock.now_ms();
    SIYU_ASSIGN_OR_RETURN(auto saved, s_.store.put_auto_reply(who.workspace, reply));
    community_.rules_changed(who.workspace);
    return json_reply(community::auto_reply_json(saved), req.method == "POST" ? 201 : 200);
  }

  Result<Reply> delete_reply(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_RETURN_IF_ERROR(s_.store.delete_auto_reply(who.workspace, id));
    community_.rules_changed(who.workspace);
    return no_content();
  }

  // ------------------------------------------------------------------ channel codes
  Result<Reply> list_codes(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto codes, s_.store.group_codes(who.workspace));
    SIYU_ASSIGN_OR_RETURN(auto groups, s_.store.groups(who.workspace));
    Json items = Json::array();
    for (const auto& c : codes) items.push_back(code_json(c, groups));
    return json_reply({{"items", items}});
  }

  Result<Reply> create_code(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    store::GroupCode code;
    SIYU_RETURN_IF_ERROR(read_code(body, who, code, true));
    code.token = random_token();
    code.created_at = s_.clock.now_ms();
    SIYU_ASSIGN_OR_RETURN(auto made, s_.store.create_group_code(who.workspace, code));
    SIYU_RETURN_IF_ERROR(audit(s_, who, "group_code.create", "group_code:" + std::to_string(made.id)));
    SIYU_ASSIGN_OR_RETURN(auto groups, s_.store.groups(who.workspace));
    return json_reply(code_json(made, groups), 201);
  }

  Result<Reply> update_code(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    SIYU_ASSIGN_OR_RETURN(auto code, s_.store.group_code(who.workspace, id));
    SIYU_RETURN_IF_ERROR(read_code(body, who, code, false));
    SIYU_RETURN_IF_ERROR(s_.store.update_group_code(who.workspace, code));
    SIYU_ASSIGN_OR_RETURN(auto groups, s_.store.groups(who.workspace));
    return json_reply(code_json(code, groups));
  }

  Result<Reply> code_qr(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(auto code, s_.store.group_code(who.workspace, id));
    SIYU_ASSIGN_OR_RETURN(auto scale, query_int(req, "scale", 2, 40));
    SIYU_ASSIGN_OR_RETURN(std::string png, community::qr_png(code_url(req, code), static_cast<int>(scale.value_or(10))));
    return png_reply(std::move(png), "group-code-" + std::to_string(id));
  }

  /// A join through the code: the customer lands in the first group of the series with room.
  Result<Reply> code_join(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    const auto customer = f.opt_int("customer_id", 1, INT64_MAX);
    SIYU_RETURN_IF_ERROR(f.finish());
    if (!customer) return invalid("customer_id is required", "customer_id");
    SIYU_ASSIGN_OR_RETURN(bool listed, s_.store.is_blacklisted(who.workspace, CustomerId(*customer)));
    if (listed) return unprocessable("customer " + std::to_string(*customer) + " is on the blacklist", "customer_id");
    SIYU_ASSIGN_OR_RETURN(auto joined, s_.store.join_by_code(who.workspace, id, CustomerId(*customer), s_.clock.now_ms()));
    reindex(s_, who.workspace, {CustomerId(*customer)});
    community_.groups_changed(who.workspace);
    return json_reply({{"group", group_json(joined.group)},
                       {"opened_group", joined.opened},
                       {"already_member", joined.already_member}},
                      joined.already_member ? 200 : 201);
  }

  /// The public landing of a code (no login): the group a scan leads to now.
  Result<Reply> code_landing(const httplib::Request& req, const Principal&) {
    const std::string token = req.matches[1];
    SIYU_ASSIGN_OR_RETURN(auto found, s_.store.group_code_by_token(token));
    const auto& [ws, code] = found;
    SIYU_ASSIGN_OR_RETURN(auto open, s_.store.scan_group_code(ws, code.id));
    Json group = nullptr;
    if (open) group = {{"id", open->id.value}, {"name", open->name}, {"members", open->members}, {"capacity", open->capacity}};
    return json_reply({{"code", code.name}, {"group", group}, {"opens_new_group", !open.has_value()}});
  }

  // ------------------------------------------------------------------ settings
  Result<Reply> get_settings(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int days, community_.text_retention_days(who.workspace));
    return json_reply({{"text_retention_days", days}});
  }

  Result<Reply> put_settings(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    const auto days = f.opt_int("text_retention_days", 1, 3650);
    SIYU_RETURN_IF_ERROR(f.finish());
    if (!days) return invalid("text_retention_days is required", "text_retention_days");
    SIYU_RETURN_IF_ERROR(s_.store.put_setting(who.workspace, "community.text_retention_days",
                                              std::to_string(*days), s_.clock.now_ms()));
    SIYU_RETURN_IF_ERROR(audit(s_, who, "settings.community", "workspace", {{"text_retention_days", *days}}));
    return json_reply({{"text_retention_days", *days}});
  }

 private:
  /// ?days=N (1–90, default 7) ending today in the workspace's zone.
  Result<community::HealthWindow> window_of(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto days, query_int(req, "days", 1, 90));
    SIYU_ASSIGN_OR_RETURN(int offset, workspace_offset(s_, who.workspace));
    const int64_t today = local_day(s_.clock.now_ms(), offset);
    return community::HealthWindow{today - days.value_or(7) + 1, today};
  }

  Json window_json(const community::HealthWindow& w, const Principal&) {
    return {{"from", format_day(w.from_day)}, {"to", format_day(w.to_day)}};
  }

  static std::string format_day(int64_t day) { return format_timestamp(day * kDayMs).substr(0, 10); }

  static Json days_json(const std::vector<store::GroupDay>& rows, const community::HealthWindow& w) {
    std::map<int64_t, store::GroupDay> by_day;
    for (int64_t d = w.from_day; d <= w.to_day; ++d) by_day[d].day = d;
    for (const auto& r : rows) {
      auto it = by_day.find(r.day);
      if (it == by_day.end()) continue;
      it->second.messages += r.messages;
      it->second.active_members += r.active_members;
      it->second.joins += r.joins;
      it->second.quits += r.quits;
      it->second.removals += r.removals;
      it->second.violations += r.violations;
    }
    Json out = Json::array();
    for (const auto& [day, d] : by_day) {
      out.push_back({{"day", format_day(day)}, {"messages", d.messages}, {"active_members", d.active_members},
                     {"joins", d.joins}, {"quits", d.quits}, {"removals", d.removals}, {"violations", d.violations}});
    }
    return out;
  }

  static Json topics_json(const std::vector<std::pair<std::string, int64_t>>& terms) {
    Json out = Json::array();
    for (const auto& [t, n] : terms) out.push_back({{"term", t}, {"count", n}});
    return out;
  }

  static Json group_json(const store::Group& g) {
    return {{"id", g.id.value},
            {"name", g.name},
            {"kind", g.kind},
            {"owner_staff_id", g.owner_staff ? Json(g.owner_staff->value) : Json(nullptr)},
            {"capacity", g.capacity},
            {"members", g.members},
            {"slogan", g.slogan},
            {"benefits", g.benefits},
            {"rules", g.rules},
            {"threshold", parse_json(g.threshold_json).value_or(Json{{"type", "none"}})},
            {"welcome", g.welcome},
            {"code_id", g.code_id > 0 ? Json(g.code_id) : Json(nullptr)},
            {"series_no", g.series_no > 0 ? Json(g.series_no) : Json(nullptr)},
            {"created_at", format_timestamp(g.created_at)}};
  }

  Json member_json(const store::GroupMember& m, bool personal) {
    return {{"customer_id", m.customer.value},
            {"name", personal ? m.name : customer::mask_name(m.name)},
            {"role", m.role.empty() ? Json(nullptr) : Json(m.role)},
            {"role_name", m.role.empty() ? Json(nullptr) : Json(std::string(community::role_name(m.role)))},
            {"role_by", m.role_by},
            {"source", m.source},
            {"joined_at", format_timestamp(m.joined_at)},
            {"left_at", opt_time(m.left_at)},
            {"leave_kind", m.leave_kind.empty() ? Json(nullptr) : Json(m.leave_kind)},
            {"messages", m.messages},
            {"replies_drawn", m.replies_drawn},
            {"active_days", m.active_days},
            {"last_active", m.last_active_day >= 0 ? Json(format_day(m.last_active_day)) : Json(nullptr)},
            {"violations", m.violations}};
  }

  /// Reads group fields (all on create; the given ones on update).
  Status read_group(const Json& body, const Principal& who, store::Group& g, bool create) {
    if (!body.is_object()) return invalid("body must be a JSON object");
    JsonFields f(body, "");
    if (create) {
      g.name = std::string(trim(f.req_string("name", 60)));
    } else if (auto name = f.opt_string("name", 60)) {
      g.name = std::string(trim(*name));
    }
    if (auto kind = f.opt_enum("kind", kGroupKinds)) g.kind = *kind;
    if (f.is_null("owner_staff_id")) {
      f.allow("owner_staff_id");
      g.owner_staff.reset();
    } else if (auto owner = f.opt_int("owner_staff_id", 1, INT64_MAX)) {
      g.owner_staff = UserId(*owner);
    }
    if (auto cap = f.opt_int("capacity", 2, 500)) g.capacity = static_cast<int>(*cap);
    if (auto v = f.opt_string("slogan", 200)) g.slogan = *v;
    if (auto v = f.opt_string("benefits", 2000)) g.benefits = *v;
    if (auto v = f.opt_string("rules", 2000)) g.rules = *v;
    if (auto v = f.opt_string("welcome", 1000)) g.welcome = *v;
    const Json* threshold = f.opt_any("threshold");
    SIYU_RETURN_IF_ERROR(f.finish());
    if (g.name.empty()) return invalid("name must not be empty", "name");
    if (g.owner_staff) {
      auto u = s_.store.user(who.workspace, *g.owner_staff);
      if (!u) return invalid("owner_staff_id names no staff user of this workspace", "owner_staff_id");
    }
    if (threshold != nullptr) {
      SIYU_ASSIGN_OR_RETURN(std::string json, checked_threshold(*threshold, who));
      g.threshold_json = std::move(json);
    }
    return Status::ok();
  }

  /// A threshold read and, for identity, its segment expression validated in the workspace.
  Result<std::string> checked_threshold(const Json& j, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto t, community::parse_threshold(j, "threshold"));
    if (t.type == "identity") {
      SIYU_RETURN_IF_ERROR(expression_at(s_, who, t.segment, "threshold.segment").status());
    }
    return community::threshold_json(t).dump();
  }

  Status read_code(const Json& body, const Principal& who, store::GroupCode& c, bool create) {
    if (!body.is_object()) return invalid("body must be a JSON object");
    JsonFields f(body, "");
    if (create) {
      c.name = std::string(trim(f.req_string("name", 60)));
    } else if (auto name = f.opt_string("name", 60)) {
      c.name = std::string(trim(*name));
    }
    if (auto v = f.opt_string("group_name", 60)) c.group_name = *v;
    if (auto kind = f.opt_enum("kind", kGroupKinds)) c.kind = *kind;
    if (auto cap = f.opt_int("capacity", 2, 500)) c.capacity = static_cast<int>(*cap);
    if (auto owner = f.opt_int("owner_staff_id", 1, INT64_MAX)) c.owner_staff = UserId(*owner);
    if (auto channel = f.opt_int("channel_id", 1, INT64_MAX)) c.channel = ChannelId(*channel);
    if (auto v = f.opt_string("welcome", 1000)) c.welcome = *v;
    const Json* threshold = f.opt_any("threshold");
    SIYU_RETURN_IF_ERROR(f.finish());
    if (c.name.empty()) return invalid("name must not be empty", "name");
    if (c.group_name.find("{n}") == std::string::npos) {
      return invalid("group_name must contain {n}, the number of the group in the series", "group_name");
    }
    if (c.channel) SIYU_RETURN_IF_ERROR(s_.store.channel(who.workspace, *c.channel).status());
    if (c.owner_staff && !s_.store.user(who.workspace, *c.owner_staff)) {
      return invalid("owner_staff_id names no staff user of this workspace", "owner_staff_id");
    }
    if (threshold != nullptr) {
      SIYU_ASSIGN_OR_RETURN(std::string json, checked_threshold(*threshold, who));
      c.threshold_json = std::move(json);
    }
    return Status::ok();
  }

  static std::string random_token() { return security::random_hex(12); }

  static std::string code_url(const httplib::Request& req, const store::GroupCode& c) {
    std::string host = req.get_header_value("Host");
    if (host.empty()) host = "127.0.0.1:8080";
    return "http://" + host + "/v1/public/group-codes/" + c.token;
  }

  Json code_json(const store::GroupCode& c, const std::vector<store::Group>& groups) {
    Json series = Json::array();
    int64_t members = 0;
    for (const auto& g : groups) {
      if (g.code_id != c.id) continue;
      series.push_back({{"id", g.id.value}, {"name", g.name}, {"members", g.members}, {"capacity", g.capacity}});
      members += g.members;
    }
    return {{"id", c.id},
            {"name", c.name},
            {"token", c.token},
            {"channel_id", c.channel ? Json(c.channel->value) : Json(nullptr)},
            {"group_name", c.group_name},
            {"kind", c.kind},
            {"capacity", c.capacity},
            {"owner_staff_id", c.owner_staff ? Json(c.owner_staff->value) : Json(nullptr)},
            {"welcome", c.welcome},
            {"threshold", parse_json(c.threshold_json).value_or(Json{{"type", "none"}})},
            {"scans", c.scans},
            {"members", members},
            {"groups", series},
            {"created_at", format_timestamp(c.created_at)}};
  }

  Result<community::IncomingMessage> parse_message(const Json& j, const std::string& path,
                                                   const std::set<int64_t>& known,
                                                   const customer::IdentityCodec& codec,
                                                   const Principal& who) {
    if (!j.is_object()) return invalid(path + " must be an object", path);
    JsonFields f(j, path);
    community::IncomingMessage in;
    store::GroupMessage& m = in.message;
    const auto group = f.opt_int("group_id", 1, INT64_MAX);
    m.msg_id = f.req_string("msg_id", 128);
    const auto customer = f.opt_int("customer_id", 1, INT64_MAX);
    const auto external = f.opt_string("external_userid", 128);
    const auto staff = f.opt_string("staff", 128);
    m.type = f.opt_enum("type", kMessageTypes).value_or("text");
    m.text = f.opt_string("text", 4000).value_or("");
    const auto at = f.opt_any("at");
    m.reply_to = f.opt_string("reply_to", 128).value_or("");
    in.qr = f.opt_bool("qr").value_or(false);
    SIYU_RETURN_IF_ERROR(f.finish());
    if (!group) return invalid(path + ".group_id is required", path + ".group_id");
    if (!known.contains(*group)) {
      return Status(ErrorCode::kNotFound, path + ".group_id: group " + std::to_string(*group) + " does not exist",
                    path + ".group_id");
    }
    m.group = GroupId(*group);
    if (at == nullptr) return invalid(path + ".at is required", path + ".at");
    SIYU_ASSIGN_OR_RETURN(m.at, ingest::read_time(*at, path + ".at"));
    if (m.at > s_.clock.now_ms() + kDayMs) return invalid(path + ".at is more than a day ahead", path + ".at");
    const int senders = (customer ? 1 : 0) + (external ? 1 : 0) + (staff ? 1 : 0);
    if (senders != 1) {
      return invalid(path + ": give exactly one sender: customer_id, external_userid or staff", path + ".customer_id");
    }
    if (customer) m.customer = CustomerId(*customer);
    if (staff) m.sender = *staff;
    if (external) {
      m.sender = *external;
      SIYU_ASSIGN_OR_RETURN(auto id, codec.make("wecom_external_userid", *external, "", path + ".external_userid"));
      SIYU_ASSIGN_OR_RETURN(auto found, s_.store.find_identity(who.workspace, id.type, id.app_id, id.key));
      if (found) m.customer = found->customer;
    }
    return in;
  }

  Services& s_;
  community::CommunityService& community_;
};

}  // namespace

std::vector<Route> community_routes(Services& s) {
  auto h = std::make_shared<CommunityHandlers>(s);
  using H = CommunityHandlers;
  using P = Permission;
  auto bind = [h](Result<Reply> (H::*fn)(const httplib::Request&, const Principal&)) {
    return [h, fn](const httplib::Request& req, const Principal& who) { return ((*h).*fn)(req, who); };
  };
  return {
      {"GET", "/v1/groups", P::kRead, "list groups with health", bind(&H::list_groups)},
      {"POST", "/v1/groups", P::kManageCommunity, "create groups", bind(&H::create_group)},
      {"POST", "/v1/import/groups", P::kManageCommunity, "import groups", bind(&H::import_groups)},
      {"GET", "/v1/groups/{id}", P::kRead, "read groups", bind(&H::get_group)},
      {"PATCH", "/v1/groups/{id}", P::kManageCommunity, "edit groups", bind(&H::update_group)},
      {"GET", "/v1/groups/{id}/members", P::kRead, "list group members", bind(&H::members)},
      {"POST", "/v1/groups/{id}/members", P::kManageCommunity, "add group members", bind(&H::add_member)},
      {"DELETE", "/v1/groups/{id}/members/{customer_id}", P::kManageCommunity, "remove group members",
       bind(&H::remove_member)},
      {"PUT", "/v1/groups/{id}/members/{customer_id}/role", P::kManageCommunity, "set member roles",
       bind(&H::set_role)},
      {"GET", "/v1/groups/{id}/role-suggestions", P::kRead, "suggest member roles", bind(&H::role_suggestions)},
      {"POST", "/v1/groups/{id}/join-requests", P::kManageCommunity, "decide join requests",
       bind(&H::join_request)},
      {"GET", "/v1/groups/{id}/member-events", P::kRead, "list joins and leaves", bind(&H::member_events)},
      {"GET", "/v1/groups/{id}/messages", P::kRead, "list group messages", bind(&H::list_messages)},
      {"GET", "/v1/groups/{id}/health", P::kRead, "read group health", bind(&H::group_health)},
      {"POST", "/v1/group-messages", P::kIngest, "ingest group messages", bind(&H::post_messages)},
      {"GET", "/v1/community/overview", P::kRead, "read community health", bind(&H::overview)},
      {"GET", "/v1/community/settings", P::kRead, "read community settings", bind(&H::get_settings)},
      {"PUT", "/v1/community/settings", P::kManageCommunity, "edit community settings", bind(&H::put_settings)},
      {"GET", "/v1/moderation/rules", P::kRead, "list moderation rules", bind(&H::list_rules)},
      {"POST", "/v1/moderation/rules", P::kManageCommunity, "create moderation rules", bind(&H::put_rule)},
      {"PUT", "/v1/moderation/rules/{id}", P::kManageCommunity, "replace moderation rules", bind(&H::put_rule)},
      {"DELETE", "/v1/moderation/rules/{id}", P::kManageCommunity, "delete moderation rules",
       bind(&H::delete_rule)},
      {"GET", "/v1/moderation/log", P::kRead, "read the moderation log", bind(&H::moderation_log)},
      {"GET", "/v1/moderation/blacklist", P::kRead, "read the blacklist", bind(&H::blacklist)},
      {"PUT", "/v1/moderation/blacklist/{customer_id}", P::kManageCommunity, "blacklist customers",
       bind(&H::set_blacklisted)},
      {"DELETE", "/v1/moderation/blacklist/{customer_id}", P::kManageCommunity, "lift blacklist entries",
       bind(&H::set_blacklisted)},
      {"GET", "/v1/auto-replies", P::kRead, "list auto-replies", bind(&H::list_replies)},
      {"POST", "/v1/auto-replies", P::kManageCommunity, "create auto-replies", bind(&H::put_reply)},
      {"PUT", "/v1/auto-replies/{id}", P::kManageCommunity, "replace auto-replies", bind(&H::put_reply)},
      {"DELETE", "/v1/auto-replies/{id}", P::kManageCommunity, "delete auto-replies", bind(&H::delete_reply)},
      {"GET", "/v1/group-codes", P::kRead, "list channel codes", bind(&H::list_codes)},
      {"POST", "/v1/group-codes", P::kManageCommunity, "create channel codes", bind(&H::create_code)},
      {"PATCH", "/v1/group-codes/{id}", P::kManageCommunity, "edit channel codes", bind(&H::update_code)},
      {"GET", "/v1/group-codes/{id}/qr.png", P::kRead, "channel code QR images", bind(&H::code_qr)},
      {"POST", "/v1/group-codes/{id}/joins", P::kManageCommunity, "join through channel codes",
       bind(&H::code_join)},
      {"GET", "/v1/public/group-codes/{token}", std::nullopt, "channel code landing", bind(&H::code_landing)},
  };
}

}  // namespace siyu::api
