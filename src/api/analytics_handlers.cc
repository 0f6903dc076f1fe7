// Routes of the analytics engine (/v1/analytics/...): sales, buyer profile, funnels and their
// drop-outs, retention, layer progression, acquisition and A/B tests, the RFM grid and
// lifetime value. Every table is also a CSV download (format=csv, audited).
//
// Shared parameters: from and to (YYYY-MM-DD in the workspace's time zone, both included;
// the last 30 days by default), compare (also the previous period of the same length),
// filters segment (a saved segment id), layer and channel (a channel id), by (a breakdown)
// and segments (saved segment ids, for by=segment). POST routes take them in the body.
#include <algorithm>
#include <map>

#include "analytics/acquisition.h"
#include "analytics/engine.h"
#include "analytics/funnel.h"
#include "analytics/layers.h"
#include "analytics/retention.h"
#include "analytics/rfm_grid.h"
#include "analytics/sales.h"
#include "api/request.h"
#include "core/text.h"
#include "core/time_format.h"
#include "io/csv.h"
#include "segment/evaluate.h"

namespace siyu::api {
namespace {

using analytics::CustomerMask;
using analytics::Dataset;
using analytics::Dimension;
using analytics::Period;

constexpr int kMaxDays = 3660;
/// The index's names of the lifetime-value predictions (segment attributes).
constexpr std::string_view kPredictedValue = "predicted_value";
constexpr std::string_view kPAlive = "p_alive";

/// A CSV table: a header row and data rows.
struct Table {
  io::CsvRow header;
  std::vector<io::CsvRow> rows;
};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// The parameters every analytics route shares, read from the query string or a JSON body.
class Params {
 public:
  explicit Params(const httplib::Request& req) {
    for (const auto& [k, v] : req.params) values_[k] = v;
  }
  explicit Params(const Json& body) {
    for (const auto& [k, v] : body.items()) {
      if (v.is_string()) values_[k] = v.get<std::string>();
      else if (v.is_number() || v.is_boolean()) values_[k] = v.dump();
      else if (v.is_array()) {
        std::string joined;
        for (const Json& x : v) joined += (joined.empty() ? "" : ",") + (x.is_string() ? x.get<std::string>() : x.dump());
        values_[k] = joined;
      }
    }
  }
  std::optional<std::string> text(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end() || it->second.empty()) return std::nullopt;
    return it->second;
  }
  Result<std::optional<int64_t>> integer(const std::string& name, int64_t min, int64_t max) const {
    auto t = text(name);
    if (!t) return std::optional<int64_t>();
    SIYU_ASSIGN_OR_RETURN(int64_t v, parse_int(*t, name));
    if (v < min || v > max) {
      return invalid(name + " must be between " + std::to_string(min) + " and " + std::to_string(max), name);
    }
    return std::optional<int64_t>(v);
  }
  bool flag(const std::string& name) const {
    auto t = text(name);
    return t && (*t == "true" || *t == "1");
  }
  Result<std::vector<int64_t>> ids(const std::string& name) const {
    std::vector<int64_t> out;
    auto t = text(name);
    if (!t) return out;
    for (std::string_view part : split(*t, ',')) {
      SIYU_ASSIGN_OR_RETURN(int64_t id, parse_int(trim(part), name));
      out.push_back(id);
    }
    return out;
  }

 private:
  std::map<std::string, std::string> values_;
};

class AnalyticsHandlers {
 public:
  explicit AnalyticsHandlers(Services& s) : s_(s), engine_(*s.analytics) {}

  // ------------------------------------------------------------------ sales
  Result<Reply> sales(const httplib::Request& req, const Principal& who) {
    const Params p(req);
    SIYU_ASSIGN_OR_RETURN(Context c, context(p, who));
    analytics::SalesQuery q;
    q.period = c.period;
    SIYU_ASSIGN_OR_RETURN(q.grain, grain(p, analytics::Grain::kDay));
    SIYU_ASSIGN_OR_RETURN(q.by, breakdown(p, true));
    SIYU_ASSIGN_OR_RETURN(q.segments, segment_masks(p, who, *c.data));
    SIYU_ASSIGN_OR_RETURN(auto days, p.integer("repurchase_days", 1, 365));
    q.repurchase_days = static_cast<int>(days.value_or(30));
    const analytics::SalesReport r = analytics::sales(*c.data, q, c.mask, c.today);
    SIYU_ASSIGN_OR_RETURN(auto labels, labels_of(who, q.by));
    Json groups = Json::array();
    for (const auto& g : r.groups) groups.push_back(sales_group_json(g, labels));
    Json body = {{"period", period_json(c)},
                 {"grain", p.text("grain").value_or("day")},
                 {"by", analytics::dimension_name(q.by)},
                 {"repurchase_days", q.repurchase_days},
                 {"total", sales_group_json(r.total, labels)},
                 {"groups", groups}};
    if (p.flag("compare")) {
      q.period = c.period.previous();
      body["previous"] = sales_group_json(analytics::sales(*c.data, q, c.mask, c.today).total, labels);
      body["previous"].erase("points");
    }
    Table t{{"group", "period", "gmv", "orders", "buyers", "aov", "refunds", "refund_amount"}, {}};
    for (const auto* g : all_groups(r)) {
      for (const auto& pt : g->points) {
        const auto& f = pt.figures;
        t.rows.push_back({label(labels, g->key), pt.period, std::to_string(f.gmv), std::to_string(f.orders),
                          std::to_string(f.buyers), num(f.aov()), std::to_string(f.refunds),
                          std::to_string(f.refund_amount)});
      }
    }
    return answer(req, who, "sales", std::move(body), t, c);
  }

  /// Who buys: the period's buyers by layer, city, gender, age band, and their top tags.
  Result<Reply> buyers(const httplib::Request& req, const Principal& who) {
    const Params p(req);
    SIYU_ASSIGN_OR_RETURN(Context c, context(p, who));
    const std::vector<uint32_t> ids = analytics::buyers(*c.data, c.period, c.mask);
    Json body = {{"period", period_json(c)}, {"buyers", ids.size()}};
    Table t{{"dimension", "value", "buyers"}, {}};
    for (Dimension d : {Dimension::kLayer, Dimension::kCity, Dimension::kGender, Dimension::kAgeBand,
                        Dimension::kChannel}) {
      SIYU_ASSIGN_OR_RETURN(auto labels, labels_of(who, d));
      Json rows = Json::array();
      for (const auto& [value, n] : analytics::distribution(*c.data, ids, d, c.today)) {
        rows.push_back({{"value", value}, {"label", label(labels, value)}, {"buyers", n}});
        t.rows.push_back({std::string(analytics::dimension_name(d)), label(labels, value), std::to_string(n)});
      }
      body[std::string(analytics::dimension_name(d))] = rows;
    }
    SIYU_ASSIGN_OR_RETURN(const index::CustomerIndex* ix, s_.indexes.get(who.workspace));
    index::Bitmap set;
    set.addMany(ids.size(), ids.data());
    std::vector<std::pair<std::string, uint64_t>> tags;
    ix->read([&](const index::IndexView& v) {
      v.each_tag([&](const std::string& name, const index::Bitmap& b) {
        if (const uint64_t n = b.and_cardinality(set); n > 0) tags.emplace_back(name, n);
      });
      return 0;
    });
    std::sort(tags.begin(), tags.end(), [](const auto& a, const auto& b) {
      return std::tie(b.second, a.first) < std::tie(a.second, b.first);
    });
    if (tags.size() > 20) tags.resize(20);
    Json top = Json::array();
    for (const auto& [name, n] : tags) {
      top.push_back({{"value", name}, {"label", name}, {"buyers", n}});
      t.rows.push_back({"tag", name, std::to_string(n)});
    }
    body["tags"] = top;
    return answer(req, who, "buyers", std::move(body), t, c);
  }

  // ------------------------------------------------------------------ funnels
  Result<Reply> funnel(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    SIYU_ASSIGN_OR_RETURN(FunnelRequest f, funnel_request(body, who));
    const analytics::FunnelReport r = analytics::funnel(*f.c.data, f.q, f.c.mask, f.c.today);
    SIYU_ASSIGN_OR_RETURN(auto labels, labels_of(who, f.q.by));
    Json groups = Json::array();
    for (const auto& g : r.groups) groups.push_back(funnel_group_json(g, labels, f.q));
    Json out = {{"period", period_json(f.c)},
                {"window_hours", f.q.window_seconds / 3600},
                {"order", f.q.order == analytics::FunnelOrder::kStrict ? "strict" : "any_order"},
                {"by", analytics::dimension_name(f.q.by)},
                {"total", funnel_group_json(r.total, labels, f.q)},
                {"groups", groups}};
    if (Params(body).flag("compare")) {
      analytics::FunnelQuery prev = f.q;
      prev.period = f.c.period.previous();
      prev.by = Dimension::kNone;
      out["previous"] = funnel_group_json(analytics::funnel(*f.c.data, prev, f.c.mask, f.c.today).total, labels, f.q);
    }
    Table t{{"group", "step", "event", "customers", "conversion_from_first", "conversion_from_previous",
             "median_seconds", "mean_seconds"}, {}};
    std::vector<const analytics::FunnelGroup*> all{&r.total};
    for (const auto& g : r.groups) all.push_back(&g);
    for (const auto* g : all) {
      for (size_t k = 0; k < g->steps.size(); ++k) {
        const auto& s = g->steps[k];
        t.rows.push_back({label(labels, g->key), std::to_string(k + 1), f.q.steps[k].type,
                          std::to_string(s.customers), num(conversion(*g, k, 0)),
                          num(conversion(*g, k, k == 0 ? 0 : k - 1)), num(s.median_seconds),
                          num(s.mean_seconds)});
      }
    }
    return answer(req, who, "funnel", std::move(out), t, f.c);
  }

  /// Saves the customers who reached `step` but not the next as a segment: they get the tag
  /// 漏斗流失:<name> and a saved segment of that tag is created.
  Result<Reply> funnel_dropouts(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    const Json* step_json = body.contains("step") ? &body["step"] : nullptr;
    if (step_json == nullptr || !step_json->is_number_integer()) return invalid("step is required", "step");
    if (!body.contains("name") || !body["name"].is_string()) return invalid("name is required", "name");
    const std::string name(trim(body["name"].get<std::string>()));
    if (name.empty() || utf8_length(name) > 24) return invalid("name must be 1 to 24 characters", "name");
    Json rest = body;
    rest.erase("step");
    rest.erase("name");
    SIYU_ASSIGN_OR_RETURN(FunnelRequest f, funnel_request(rest, who));
    const int64_t step = step_json->get<int64_t>();
    if (step < 1 || step >= static_cast<int64_t>(f.q.steps.size())) {
      return invalid("step must be between 1 and " + std::to_string(f.q.steps.size() - 1), "step");
    }
    const auto ids = analytics::funnel_dropouts(*f.c.data, f.q, f.c.mask, static_cast<size_t>(step));
    std::vector<CustomerId> customers(ids.begin(), ids.end());
    const std::string tag = "漏斗流失:" + name;
    const EpochMs now = s_.clock.now_ms();
    SIYU_ASSIGN_OR_RETURN(int64_t tagged, s_.store.bulk_tag(who.workspace, customers, tag, false, who.actor, now, std::nullopt));
    reindex_tag(s_, who.workspace, tag, customers);
    store::Segment seg;
    seg.name = "漏斗流失 · " + name;
    seg.expression_json = Json{{"tag", tag}}.dump();
    seg.created_by = who.actor;
    seg.created_at = seg.updated_at = now;
    SIYU_ASSIGN_OR_RETURN(store::Segment made, s_.store.create_segment(who.workspace, seg));
    SIYU_RETURN_IF_ERROR(audit(s_, who, "analytics.funnel_dropouts", "segment:" + std::to_string(made.id),
                               {{"customers", ids.size()}, {"step", step}, {"tag", tag}}));
    return json_reply({{"segment_id", made.id}, {"segment_name", made.name}, {"tag", tag},
                       {"customers", ids.size()}, {"tagged", tagged}}, 201);
  }

  // ------------------------------------------------------------------ retention
  Result<Reply> retention(const httplib::Request& req, const Principal& who) {
    const Params p(req);
    SIYU_ASSIGN_OR_RETURN(Context c, context(p, who));
    analytics::RetentionQuery q;
    q.period = c.period;
    SIYU_ASSIGN_OR_RETURN(q.grain, grain(p, analytics::Grain::kWeek));
    if (q.grain == analytics::Grain::kDay) return invalid("grain must be week or month", "grain");
    q.first_event = p.text("first_event").value_or("order_paid");
    q.first_order = q.first_event == "order";
    q.return_event = p.text("return_event").value_or("");
    q.return_order = q.return_event == "order";
    if (q.first_event.size() > 64 || q.return_event.size() > 64) return invalid("event types are at most 64 characters", "first_event");
    SIYU_ASSIGN_OR_RETURN(auto periods, p.integer("periods", 1, 52));
    q.periods = static_cast<int>(periods.value_or(12));
    const auto r = analytics::retention(*c.data, q, c.mask, analytics::to_seconds(s_.clock.now_ms()));
    Json cohorts = Json::array();
    Table t{{"cohort", "size", "period", "returned", "rate"}, {}};
    for (const auto& k : r.cohorts) {
      Json rates = Json::array();
      for (size_t i = 0; i < k.returned.size(); ++i) {
        const double rate = analytics::ratio(static_cast<double>(k.returned[i]), static_cast<double>(k.size));
        rates.push_back(rate);
        t.rows.push_back({k.label, std::to_string(k.size), std::to_string(i), std::to_string(k.returned[i]), num(rate)});
      }
      cohorts.push_back({{"cohort", k.label}, {"size", k.size}, {"returned", k.returned}, {"rates", rates}});
    }
    Json body = {{"period", period_json(c)}, {"grain", q.grain == analytics::Grain::kWeek ? "week" : "month"},
                 {"first_event", q.first_event}, {"return_event", q.return_event.empty() ? "any" : q.return_event},
                 {"periods", q.periods}, {"cohorts", cohorts}};
    return answer(req, who, "retention", std::move(body), t, c);
  }

  // ------------------------------------------------------------------ layers
  Result<Reply> layers(const httplib::Request& req, const Principal& who) {
    const Params p(req);
    SIYU_ASSIGN_OR_RETURN(Context c, context(p, who));
    analytics::LayerQuery q;
    q.period = c.period;
    SIYU_ASSIGN_OR_RETURN(q.grain, grain(p, analytics::Grain::kWeek));
    const auto r = analytics::layer_progression(*c.data, q, c.mask);
    Table t{{"from", "to", "period", "customers"}, {}};
    const auto steps_json = [&](const std::vector<analytics::LayerStep>& steps) {
      Json out = Json::array();
      for (const auto& s : steps) {
        out.push_back({{"from", s.from}, {"to", s.to}, {"customers", s.customers}, {"by_period", s.by_period},
                       {"median_days", s.median_days}, {"mean_days", s.mean_days}});
        for (size_t i = 0; i < s.by_period.size(); ++i) {
          t.rows.push_back({s.from, s.to, r.periods[i], std::to_string(s.by_period[i])});
        }
      }
      return out;
    };
    Json body = {{"period", period_json(c)}, {"periods", r.periods}, {"steps", steps_json(r.steps)},
                 {"skips", steps_json(r.skips)}};
    if (p.flag("compare")) {
      q.period = c.period.previous();
      Json prev = Json::array();
      for (const auto& s : analytics::layer_progression(*c.data, q, c.mask).steps) {
        prev.push_back({{"from", s.from}, {"to", s.to}, {"customers", s.customers}});
      }
      body["previous"] = prev;
    }
    return answer(req, who, "layers", std::move(body), t, c);
  }

  // ------------------------------------------------------------------ acquisition
  Result<Reply> acquisition(const httplib::Request& req, const Principal& who) {
    const Params p(req);
    SIYU_ASSIGN_OR_RETURN(Context c, context(p, who));
    analytics::AcquisitionQuery q;
    q.period = c.period;
    const std::string by = p.text("by").value_or("channel");
    if (by != "channel" && by != "campaign" && by != "content" && by != "referrer_staff" && by != "partner") {
      return invalid("by must be channel, campaign, content, referrer_staff or partner", "by");
    }
    q.by = *analytics::parse_dimension(by);
    if (auto e = p.text("invite_event")) q.invite_event = *e;
    if (auto e = p.text("add_events")) {
      q.add_events.clear();
      for (std::string_view part : split(*e, ',')) q.add_events.emplace_back(trim(part));
    }
    SIYU_ASSIGN_OR_RETURN(auto channels, s_.store.channels(who.workspace));
    for (const auto& ch : channels) q.channel_codes[ch.code] = std::to_string(ch.id.value);
    const auto r = analytics::acquisition(*c.data, q, c.mask);
    SIYU_ASSIGN_OR_RETURN(auto labels, labels_of(who, q.by));
    Json rows = Json::array();
    for (const auto& row : r.rows) rows.push_back(acquisition_json(row, labels));
    Json body = {{"period", period_json(c)}, {"by", by}, {"invite_event", q.invite_event},
                 {"add_events", q.add_events}, {"total", acquisition_json(r.total, labels)}, {"rows", rows}};
    if (p.flag("compare")) {
      q.period = c.period.previous();
      body["previous"] = acquisition_json(analytics::acquisition(*c.data, q, c.mask).total, labels);
    }
    Table t{{"key", "invitations", "adds", "invite_conversion", "new_customers", "new_buyers",
             "buyer_conversion", "cost", "cost_per_new_customer", "revenue", "roi"}, {}};
    for (const auto& row : r.rows) {
      t.rows.push_back({label(labels, row.key), std::to_string(row.invitations), std::to_string(row.adds),
                        num(row.invite_conversion()), std::to_string(row.new_customers),
                        std::to_string(row.new_buyers), num(row.buyer_conversion()), std::to_string(row.cost),
                        num(row.cost_per_new_customer()), std::to_string(row.revenue), num(row.roi())});
    }
    return answer(req, who, "acquisition", std::move(body), t, c);
  }

  Result<Reply> ab_test(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    const Params p(body);
    SIYU_ASSIGN_OR_RETURN(Context c, context(p, who));
    analytics::AbQuery q;
    q.period = c.period;
    q.field = p.text("field").value_or("content");
    if (q.field != "content" && q.field != "campaign") return invalid("field must be content or campaign", "field");
    auto a = p.text("variant_a"), b = p.text("variant_b");
    if (!a) return invalid("variant_a is required", "variant_a");
    if (!b) return invalid("variant_b is required", "variant_b");
    if (*a == *b) return invalid("variant_b must differ from variant_a", "variant_b");
    q.variant_a = *a;
    q.variant_b = *b;
    q.exposure_event = p.text("exposure_event").value_or("invite");
    q.conversion_event = p.text("conversion_event").value_or("add_friend");
    SIYU_ASSIGN_OR_RETURN(auto hours, p.integer("window_hours", 1, 24 * 90));
    q.window_seconds = static_cast<uint32_t>(hours.value_or(24 * 7) * 3600);
    const analytics::AbResult r = analytics::ab_compare(*c.data, q, c.mask);
    const auto arm = [](const analytics::AbArm& x) {
      return Json{{"variant", x.name}, {"exposed", x.exposed}, {"converted", x.converted}, {"rate", x.rate()}};
    };
    Json out = {{"period", period_json(c)}, {"field", q.field}, {"exposure_event", q.exposure_event},
                {"conversion_event", q.conversion_event}, {"window_hours", q.window_seconds / 3600},
                {"a", arm(r.a)}, {"b", arm(r.b)}, {"z", r.z}, {"p_value", r.p_value},
                {"significant", r.significant}, {"alpha", 0.05}, {"power", 0.8},
                {"required_per_arm", r.required_per_arm}, {"still_needed", r.still_needed}};
    Table t{{"variant", "exposed", "converted", "rate"},
            {{r.a.name, std::to_string(r.a.exposed), std::to_string(r.a.converted), num(r.a.rate())},
             {r.b.name, std::to_string(r.b.exposed), std::to_string(r.b.converted), num(r.b.rate())}}};
    return answer(req, who, "ab-test", std::move(out), t, c);
  }

  // ------------------------------------------------------------------ value
  Result<Reply> rfm(const httplib::Request& req, const Principal& who) {
    const Params p(req);
    SIYU_ASSIGN_OR_RETURN(Context c, context(p, who));
    const analytics::RfmGrid g = analytics::rfm_grid(*c.data, c.mask);
    Json cells = Json::array();
    Table t{{"r", "f", "customers", "value"}, {}};
    for (const auto& cell : g.cells) {
      cells.push_back({{"r", cell.r}, {"f", cell.f}, {"customers", cell.customers}, {"value", cell.value}});
      t.rows.push_back({std::to_string(cell.r), std::to_string(cell.f), std::to_string(cell.customers),
                        std::to_string(cell.value)});
    }
    return answer(req, who, "rfm", {{"buyers", g.buyers}, {"cells", cells}, {"as_of", format_timestamp(c.data->built_at)}}, t, c);
  }

  /// The last refit's model and the distribution of predicted value and P(alive).
  Result<Reply> ltv(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto model, engine_.last_refit(who.workspace));
    Json body = {{"model", model ? *model : Json(nullptr)}};
    Table t{{"distribution", "range", "customers"}, {}};
    if (model) {
      SIYU_ASSIGN_OR_RETURN(const index::CustomerIndex* ix, s_.indexes.get(who.workspace));
      // Value bins: nine equal ones up to the 99th percentile and the rest in a tenth, so a
      // few very large customers do not squeeze everyone into the first bin.
      std::vector<double> predicted;
      std::vector<int64_t> alive_bins(10, 0);
      ix->read([&](const index::IndexView& v) {
        const index::NumberColumn* values = v.numbers(std::string(kPredictedValue));
        const index::NumberColumn* alive = v.numbers(std::string(kPAlive));
        if (values != nullptr) {
          for (uint32_t id : values->present()) predicted.push_back(values->at(id));
        }
        if (alive != nullptr) {
          for (uint32_t id : alive->present()) alive_bins[std::min<size_t>(9, static_cast<size_t>(alive->at(id) / 10))] += 1;
        }
        return 0;
      });
      std::sort(predicted.begin(), predicted.end());
      const double p99 = predicted.empty() ? 0 : predicted[predicted.size() * 99 / 100];
      const double width = p99 > 0 ? p99 / 9 : 1;
      std::vector<int64_t> value_bins(10, 0);
      for (double x : predicted) value_bins[std::min<size_t>(9, static_cast<size_t>(x / width))] += 1;
      Json values = Json::array(), alive = Json::array();
      for (size_t i = 0; i < 10; ++i) {
        const auto from = static_cast<int64_t>(width * static_cast<double>(i));
        const auto to = i == 9 ? static_cast<int64_t>(predicted.empty() ? 0 : predicted.back())
                               : static_cast<int64_t>(width * static_cast<double>(i + 1));
        values.push_back({{"from", from}, {"to", to}, {"customers", value_bins[i]}});
        alive.push_back({{"from", i * 10}, {"to", (i + 1) * 10}, {"customers", alive_bins[i]}});
        t.rows.push_back({"predicted_value", std::to_string(from) + "-" + std::to_string(to), std::to_string(value_bins[i])});
        t.rows.push_back({"p_alive", std::to_string(i * 10) + "-" + std::to_string((i + 1) * 10), std::to_string(alive_bins[i])});
      }
      body["value_distribution"] = values;
      body["p_alive_distribution"] = alive;
    }
    Context none;
    return answer(req, who, "ltv", std::move(body), t, none);
  }

  /// Body (optional): {"as_of": "YYYY-MM-DD"}, the end of the calibration period.
  Result<Reply> refit(const httplib::Request& req, const Principal& who) {
    std::optional<int32_t> as_of;
    if (!req.body.empty()) {
      SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
      JsonFields f(body, "");
      const auto day = f.opt_string("as_of", 10);
      SIYU_RETURN_IF_ERROR(f.finish());
      if (day) {
        auto d = parse_date(*day);
        if (!d) return invalid("as_of must be a date YYYY-MM-DD", "as_of");
        as_of = static_cast<int32_t>(days_from_civil(*d));
      }
    }
    SIYU_ASSIGN_OR_RETURN(auto r, engine_.refit(who.workspace, as_of));
    SIYU_RETURN_IF_ERROR(s_.indexes.refresh_all(who.workspace));
    SIYU_RETURN_IF_ERROR(audit(s_, who, "analytics.ltv_refit", "workspace",
                               {{"predictions", r.predictions}, {"seconds", r.seconds}}));
    SIYU_ASSIGN_OR_RETURN(auto model, engine_.last_refit(who.workspace));
    return json_reply({{"model", model ? *model : Json(nullptr)}});
  }

 private:
  /// What a query runs on: the snapshot, the period, and the customers it covers.
  struct Context {
    std::shared_ptr<const Dataset> data;
    Period period;
    int32_t today = 0;
    std::string from, to;
    CustomerMask mask;
  };

  Result<Context> context(const Params& p, const Principal& who) {
    Context c;
    SIYU_ASSIGN_OR_RETURN(c.data, engine_.dataset(who.workspace, p.flag("fresh")));
    const EpochMs now = s_.clock.now_ms();
    c.today = static_cast<int32_t>(local_day(now, c.data->offset_minutes));
    const auto date = [&](const std::string& name, int64_t fallback) -> Result<int64_t> {
      auto t = p.text(name);
      if (!t) return fallback;
      auto d = parse_date(*t);
      if (!d) return invalid(name + " must be a date YYYY-MM-DD", name);
      return days_from_civil(*d);
    };
    SIYU_ASSIGN_OR_RETURN(int64_t to, date("to", c.today));
    SIYU_ASSIGN_OR_RETURN(int64_t from, date("from", to - 29));
    if (from > to) return invalid("from must not be after to", "from");
    if (to - from >= kMaxDays) return invalid("a period is at most 3660 days", "from");
    const int64_t offset_s = int64_t{c.data->offset_minutes} * 60;
    c.period = {static_cast<uint32_t>(std::max<int64_t>(0, from * 86400 - offset_s)),
                static_cast<uint32_t>(std::max<int64_t>(0, (to + 1) * 86400 - offset_s))};
    c.from = format_date(civil_from_days(from));
    c.to = format_date(civil_from_days(to));
    SIYU_ASSIGN_OR_RETURN(c.mask, population(p, who, *c.data));
    return c;
  }

  /// The customers the filters segment, layer and channel leave (all when none is given).
  Result<CustomerMask> population(const Params& p, const Principal& who, const Dataset& d) {
    SIYU_ASSIGN_OR_RETURN(auto seg, p.integer("segment", 1, INT64_MAX));
    const auto layer = p.text("layer");
    const auto channel = p.text("channel");
    if (!seg && !layer && !channel) return CustomerMask::all();
    std::optional<index::Bitmap> members;
    if (seg) {
      SIYU_ASSIGN_OR_RETURN(members, segment_members(who, *seg, "segment"));
    }
    if (layer && analytics::layer_name(analytics::parse_layer(*layer)) != *layer) {
      return invalid("layer must be none, fan, community, friend or member", "layer");
    }
    const uint32_t channel_code = channel ? d.customer_text.find(*channel).value_or(UINT32_MAX) : 0;
    std::vector<uint32_t> ids;
    for (uint32_t c = 1; c < d.size(); ++c) {
      const auto& row = d.customers[c];
      if (!row.live) continue;
      if (members && !members->contains(c)) continue;
      if (layer && analytics::layer_name(row.layer) != *layer) continue;
      if (channel && row.channel != channel_code) continue;
      ids.push_back(c);
    }
    return CustomerMask::of(ids, d.size());
  }

  Result<index::Bitmap> segment_members(const Principal& who, int64_t id, const std::string& field) {
    auto parsed = expression_at(s_, who, Json{{"segment", id}}, "");
    if (!parsed) return Status(parsed.error().code(), parsed.error().message(), field);
    const segment::Expr& e = *parsed;
    SIYU_ASSIGN_OR_RETURN(const index::CustomerIndex* ix, s_.indexes.get(who.workspace));
    return ix->read([&](const index::IndexView& v) { return segment::evaluate(v, e, s_.clock.now_ms()); });
  }

  Result<std::vector<analytics::NamedMask>> segment_masks(const Params& p, const Principal& who,
                                                          const Dataset& d) {
    SIYU_ASSIGN_OR_RETURN(auto ids, p.ids("segments"));
    if (ids.size() > 10) return invalid("at most 10 segments", "segments");
    std::vector<analytics::NamedMask> out;
    for (int64_t id : ids) {
      SIYU_ASSIGN_OR_RETURN(store::Segment seg, s_.store.segment(who.workspace, id));
      SIYU_ASSIGN_OR_RETURN(index::Bitmap b, segment_members(who, id, "segments"));
      std::vector<uint32_t> members(b.begin(), b.end());
      out.push_back({seg.name, CustomerMask::of(members, d.size())});
    }
    return out;
  }

  static Result<analytics::Grain> grain(const Params& p, analytics::Grain fallback) {
    auto t = p.text("grain");
    if (!t) return fallback;
    auto g = analytics::parse_grain(*t);
    if (!g) return invalid("grain must be day, week or month", "grain");
    return *g;
  }

  static Result<Dimension> breakdown(const Params& p, bool orders) {
    auto t = p.text("by");
    if (!t) return Dimension::kNone;
    auto d = analytics::parse_dimension(*t);
    if (!d || (!orders && analytics::is_order_dimension(*d))) {
      return invalid(std::string("by must be one of layer, channel, campaign, content, owner_staff, "
                                 "referrer_staff, partner, city, gender, age_band, segment") +
                         (orders ? ", store, order_channel, order_staff" : ""),
                     "by");
    }
    if (*d == Dimension::kSegment && !p.text("segments")) {
      return invalid("segments lists the saved segments to compare", "segments");
    }
    return *d;
  }

  /// Display names of a dimension's values: channel names and staff names for their ids.
  Result<std::map<std::string, std::string>> labels_of(const Principal& who, Dimension d) {
    std::map<std::string, std::string> out;
    if (d == Dimension::kChannel) {
      SIYU_ASSIGN_OR_RETURN(auto channels, s_.store.channels(who.workspace));
      for (const auto& c : channels) out[std::to_string(c.id.value)] = c.name;
    } else if (d == Dimension::kOwnerStaff || d == Dimension::kReferrerStaff) {
      SIYU_ASSIGN_OR_RETURN(auto users, s_.store.users(who.workspace));
      for (const auto& u : users) out[std::to_string(u.id.value)] = u.display_name;
    }
    return out;
  }

  static std::string label(const std::map<std::string, std::string>& labels, const std::string& key) {
    auto it = labels.find(key);
    return it == labels.end() ? key : it->second;
  }

  static Json period_json(const Context& c) { return {{"from", c.from}, {"to", c.to}}; }

  static Json figures_json(const analytics::SalesFigures& f) {
    return {{"gmv", f.gmv}, {"orders", f.orders}, {"buyers", f.buyers}, {"aov", f.aov()},
            {"refunds", f.refunds}, {"refund_amount", f.refund_amount}, {"net", f.gmv - f.refund_amount}};
  }

  static Json sales_group_json(const analytics::SalesGroup& g, const std::map<std::string, std::string>& labels) {
    Json points = Json::array();
    for (const auto& pt : g.points) {
      Json j = figures_json(pt.figures);
      j["period"] = pt.period;
      points.push_back(std::move(j));
    }
    Json j = figures_json(g.totals);
    j["key"] = g.key;
    j["label"] = label(labels, g.key);
    j["visitors"] = g.visitors;
    j["converted"] = g.converted;
    j["conversion"] = g.conversion();
    j["first_buyers"] = g.first_buyers;
    j["repeat_buyers"] = g.repeat_buyers;
    j["repurchase_rate"] = g.repurchase_rate();
    j["points"] = points;
    return j;
  }

  static std::vector<const analytics::SalesGroup*> all_groups(const analytics::SalesReport& r) {
    std::vector<const analytics::SalesGroup*> out{&r.total};
    for (const auto& g : r.groups) out.push_back(&g);
    return out;
  }

  static double conversion(const analytics::FunnelGroup& g, size_t k, size_t base) {
    return analytics::ratio(static_cast<double>(g.steps[k].customers), static_cast<double>(g.steps[base].customers));
  }

  static Json funnel_group_json(const analytics::FunnelGroup& g, const std::map<std::string, std::string>& labels,
                                const analytics::FunnelQuery& q) {
    Json steps = Json::array();
    for (size_t k = 0; k < g.steps.size(); ++k) {
      const auto& s = g.steps[k];
      steps.push_back({{"type", q.steps[k].type}, {"customers", s.customers},
                       {"conversion_from_first", conversion(g, k, 0)},
                       {"conversion_from_previous", conversion(g, k, k == 0 ? 0 : k - 1)},
                       {"median_seconds", s.median_seconds}, {"mean_seconds", s.mean_seconds}});
    }
    return {{"key", g.key}, {"label", label(labels, g.key)}, {"steps", steps}};
  }

  static Json acquisition_json(const analytics::AcquisitionRow& r, const std::map<std::string, std::string>& labels) {
    return {{"key", r.key}, {"label", label(labels, r.key)}, {"invitations", r.invitations}, {"adds", r.adds},
            {"invite_conversion", r.invite_conversion()}, {"new_customers", r.new_customers},
            {"new_buyers", r.new_buyers}, {"buyer_conversion", r.buyer_conversion()}, {"cost", r.cost},
            {"cost_per_new_customer", r.cost_per_new_customer()}, {"revenue", r.revenue}, {"roi", r.roi()}};
  }

  struct FunnelRequest {
    Context c;
    analytics::FunnelQuery q;
  };

  /// A funnel from a JSON body: steps [{type, where: {field: value | [values]}}], window_hours,
  /// order (strict | any_order), by, segments and the shared parameters.
  Result<FunnelRequest> funnel_request(const Json& body, const Principal& who) {
    if (!body.is_object()) return invalid("body must be a JSON object", "");
    Json shared = body;
    shared.erase("steps");
    const Params p(shared);
    FunnelRequest f;
    SIYU_ASSIGN_OR_RETURN(f.c, context(p, who));
    const Json* steps = body.contains("steps") ? &body["steps"] : nullptr;
    if (steps == nullptr || !steps->is_array() || steps->size() < 2 || steps->size() > 10) {
      return invalid("steps must list 2 to 10 steps", "steps");
    }
    for (size_t i = 0; i < steps->size(); ++i) {
      const std::string path = "steps[" + std::to_string(i) + "]";
      const Json& s = (*steps)[i];
      if (!s.is_object()) return invalid(path + " must be an object", path);
      JsonFields fields(s, path);
      analytics::FunnelStep step;
      step.type = std::string(trim(fields.req_string("type", 64)));
      const Json* where = fields.opt_any("where");
      SIYU_RETURN_IF_ERROR(fields.finish());
      if (step.type.empty()) return invalid(path + ".type is required", path + ".type");
      if (where != nullptr) {
        if (!where->is_object()) return invalid(path + ".where must be an object", path + ".where");
        for (const auto& [field, value] : where->items()) {
          const std::string fp = path + ".where." + field;
          const bool known = field == "channel" || field == "campaign" || field == "content" ||
                             field == "staff" || (field.rfind("props.", 0) == 0 && field.size() > 6);
          if (!known) return invalid(fp + " must be channel, campaign, content, staff or props.NAME (a declared event property)", fp);
          analytics::EventFilter filter{field, {}};
          for (const Json& v : value.is_array() ? value : Json::array({value})) {
            if (!v.is_string() && !v.is_number() && !v.is_boolean()) return invalid(fp + " values must be text or numbers", fp);
            filter.values.push_back(v.is_string() ? v.get<std::string>() : v.dump());
          }
          if (filter.values.empty()) return invalid(fp + " needs at least one value", fp);
          step.filters.push_back(std::move(filter));
        }
      }
      f.q.steps.push_back(std::move(step));
    }
    SIYU_ASSIGN_OR_RETURN(auto hours, p.integer("window_hours", 1, 24 * 90));
    f.q.window_seconds = static_cast<uint32_t>(hours.value_or(24 * 7) * 3600);
    const std::string order = p.text("order").value_or("strict");
    if (order != "strict" && order != "any_order") return invalid("order must be strict or any_order", "order");
    f.q.order = order == "strict" ? analytics::FunnelOrder::kStrict : analytics::FunnelOrder::kAnyOrder;
    SIYU_ASSIGN_OR_RETURN(f.q.by, breakdown(p, false));
    SIYU_ASSIGN_OR_RETURN(f.q.segments, segment_masks(p, who, *f.c.data));
    f.q.period = f.c.period;
    return f;
  }

  /// The JSON body, or with format=csv the table as an audited CSV download.
  Result<Reply> answer(const httplib::Request& req, const Principal& who, const std::string& name, Json body,
                       const Table& t, const Context& c) {
    if (req.get_param_value("format") != "csv") {
      if (c.data) body["as_of"] = format_timestamp(c.data->built_at);
      return json_reply(std::move(body));
    }
    if (!allows(who.role, Permission::kExport)) {
      return Status(ErrorCode::kPermissionDenied, "exporting needs the export permission");
    }
    std::string csv(io::kUtf8Bom);
    io::append_csv_row(csv, t.header);
    for (const auto& row : t.rows) io::append_csv_row(csv, row);
    SIYU_RETURN_IF_ERROR(audit(s_, who, "export.analytics", name,
                               {{"rows", t.rows.size()}, {"from", c.from}, {"to", c.to}, {"query", req.target}}));
    return download(std::move(csv), false, name);
  }

  Services& s_;
  analytics::AnalyticsEngine& engine_;
};

}  // namespace

std::vector<Route> analytics_routes(Services& s) {
  auto h = std::make_shared<AnalyticsHandlers>(s);
  using H = AnalyticsHandlers;
  using P = Permission;
  auto bind = [h](Result<Reply> (H::*fn)(const httplib::Request&, const Principal&)) {
    return [h, fn](const httplib::Request& req, const Principal& who) { return ((*h).*fn)(req, who); };
  };
  return {
      {"GET", "/v1/analytics/sales", P::kRead, "read sales analytics", bind(&H::sales)},
      {"GET", "/v1/analytics/buyers", P::kRead, "read the buyer profile", bind(&H::buyers)},
      {"POST", "/v1/analytics/funnel", P::kRead, "run funnels", bind(&H::funnel)},
      {"POST", "/v1/analytics/funnel:dropouts", P::kWriteCustomers, "save funnel drop-outs as a segment",
       bind(&H::funnel_dropouts)},
      {"GET", "/v1/analytics/retention", P::kRead, "read retention cohorts", bind(&H::retention)},
      {"GET", "/v1/analytics/layers", P::kRead, "read layer progression", bind(&H::layers)},
      {"GET", "/v1/analytics/acquisition", P::kRead, "read acquisition analytics", bind(&H::acquisition)},
      {"POST", "/v1/analytics/ab-test", P::kRead, "compare two contents", bind(&H::ab_test)},
      {"GET", "/v1/analytics/rfm", P::kRead, "read the RFM grid", bind(&H::rfm)},
      {"GET", "/v1/analytics/ltv", P::kRead, "read lifetime value", bind(&H::ltv)},
      {"POST", "/v1/analytics/ltv:refit", P::kWriteCustomers, "refit lifetime value", bind(&H::refit)},
  };
}

}  // namespace siyu::api
