#include "index/registry.h"

#include <cmath>

#include <algorithm>
#include <forward_list>
#include <map>

#include <simdjson.h>

#include "core/json.h"
#include "core/time_format.h"
#include "index/bulk_load.h"

namespace siyu::index {

namespace {
/// The declared field named `key`, looked for from `next` on (and then from the start): the
/// store writes a customer's keys in name order and lists fields in name order, so this is
/// usually the first one tried. Moves `next` past the field found.
const store::FieldDef* field_named(std::string_view key, const std::vector<store::FieldDef>& fields,
                                   size_t& next) {
  for (size_t tried = 0; tried < fields.size(); ++tried) {
    const size_t at = (next + tried) % fields.size();
    if (fields[at].name == key) {
      next = at + 1;
      return &fields[at];
    }
  }
  return nullptr;
}

/// The customer's non-personal custom fields in the index's terms. simdjson: a rebuild reads
/// every customer's fields, and a DOM of maps cost as much as reading the rows.
void index_custom_fields(const store::CustomerFacts& f, const std::vector<store::FieldDef>& fields,
                         IndexedCustomer& c) {
  if (fields.empty() || f.custom_json.size() <= 2) return;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object custom;
  if (parser.parse(f.custom_json).get(custom) != simdjson::SUCCESS) return;
  c.custom_text.reserve(fields.size());
  c.custom_numbers.reserve(fields.size());
  size_t next = 0;
  for (const auto [key, v] : custom) {
    const store::FieldDef* d = field_named(key, fields, next);
    if (d == nullptr || d->personal || v.is_null()) continue;
    const std::string attr = "custom." + d->name;
    double number = 0;
    bool flag = false;
    std::string_view text;
    if (d->type == "number" && v.get_double().get(number) == simdjson::SUCCESS) {
      c.custom_numbers.emplace_back(attr, number);
    } else if (d->type == "date" && v.get_string().get(text) == simdjson::SUCCESS) {
      if (auto day = parse_date(text)) {
        c.custom_numbers.emplace_back(attr, static_cast<double>(days_from_civil(*day)));
      }
    } else if (d->type == "boolean" && v.get_bool().get(flag) == simdjson::SUCCESS) {
      c.custom_text.emplace_back(attr, flag ? "true" : "false");
    } else if (d->type == "string" && v.get_string().get(text) == simdjson::SUCCESS && !text.empty()) {
      c.custom_text.emplace_back(attr, std::string(text));
    }
  }
}

/// The values an event has for declared property `name`: its text, or each text of an array.
std::vector<std::string> property_values(const Json& properties, const std::string& name) {
  std::vector<std::string> out;
  auto it = properties.find(name);
  if (it == properties.end()) return out;
  if (it->is_string()) out.push_back(it->get<std::string>());
  if (it->is_array()) {
    for (const Json& v : *it) {
      if (v.is_string() && std::find(out.begin(), out.end(), v.get_ref<const std::string&>()) == out.end()) {
        out.push_back(v.get<std::string>());
      }
    }
  }
  return out;
}

/// Events summed into one cell per (type, day), and per (type with a declared property's
/// value, day), with days cut as `ix` cuts them.
std::vector<DayActivity> day_activity(const std::vector<store::ActivityRow>& rows,
                                      const CustomerIndex& ix,
                                      const std::vector<std::string>& event_properties) {
  std::vector<EventOnDay> events;
  events.reserve(rows.size());
  std::forward_list<std::string> keys;  // event_key()s the events point into
  for (const store::ActivityRow& row : rows) {
    const int32_t day = ix.day_of(row.ts);
    events.push_back({row.type, day, row.amount});
    if (event_properties.empty() || row.properties_json.size() <= 2) continue;
    auto properties = parse_json(row.properties_json);
    if (!properties || !properties->is_object()) continue;
    for (const std::string& name : event_properties) {
      for (const std::string& value : property_values(*properties, name)) {
        events.push_back({keys.emplace_front(event_key(row.type, name, value)), day, row.amount});
      }
    }
  }
  return sum_by_type_and_day(std::move(events));
}
}  // namespace

IndexedCustomer indexed(const store::CustomerFacts& f, const CustomerIndex& ix,
                        const std::vector<store::FieldDef>& fields,
                        const std::vector<std::string>& event_properties) {
  IndexedCustomer c{static_cast<uint32_t>(f.id.value),
                    f.layer,
                    f.gender,
                    f.city,
                    f.channel ? std::to_string(f.channel->value) : std::string(),
                    f.owner_staff ? std::to_string(f.owner_staff->value) : std::string(),
                    f.created_at,
                    f.groups,
                    {},
                    {},
                    {},
                    {}};
  c.activity = day_activity(f.activity, ix, event_properties);
  c.purchases.orders = static_cast<int32_t>(f.paid_orders);
  c.purchases.spend = f.spend;
  if (f.last_paid_at) c.purchases.last_day = ix.day_of(*f.last_paid_at);
  index_custom_fields(f, fields, c);
  // Lifetime-value predictions, as segments compare them: cents, and P(alive) in percent.
  if (f.predicted_value) c.custom_numbers.emplace_back("predicted_value", static_cast<double>(*f.predicted_value));
  if (f.p_alive) c.custom_numbers.emplace_back("p_alive", std::round(*f.p_alive * 1000) / 10);
  return c;
}

Result<IndexRegistry::Definitions> IndexRegistry::definitions(WorkspaceId ws) {
  Definitions d;
  SIYU_ASSIGN_OR_RETURN(d.fields, store_.field_defs(ws));
  SIYU_ASSIGN_OR_RETURN(auto declared, store_.event_properties(ws));
  for (const auto& p : declared) d.event_properties.push_back(p.name);
  return d;
}

Status IndexRegistry::reload_definitions(WorkspaceId ws) {
  Entry* e = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(ws);
    if (it == entries_.end()) return Status::ok();
    e = it->second.get();
  }
  SIYU_ASSIGN_OR_RETURN(Definitions d, definitions(ws));
  std::lock_guard refresh_lock(e->refresh_mu);
  e->definitions = std::move(d);
  return Status::ok();
}

Status IndexRegistry::refresh_all(WorkspaceId ws) {
  SIYU_ASSIGN_OR_RETURN(const CustomerIndex* ix, get(ws));
  SIYU_RETURN_IF_ERROR(reload_definitions(ws));
  std::vector<CustomerId> all = ix->read([](const IndexView& v) {
    std::vector<CustomerId> ids;
    ids.reserve(v.live().cardinality());
    for (uint32_t id : v.live()) ids.emplace_back(id);
    return ids;
  });
  constexpr size_t kChunk = 5'000;
  for (size_t first = 0; first < all.size(); first += kChunk) {
    const auto last = all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), first + kChunk));
    SIYU_RETURN_IF_ERROR(refresh(ws, std::vector<CustomerId>(all.begin() + static_cast<std::ptrdiff_t>(first), last)));
  }
  return Status::ok();
}

EpochMs IndexRegistry::activity_since() const {
  return clock_.now_ms() - int64_t{kActivityDays} * 86'400'000;
}

Result<IndexRegistry::Entry*> IndexRegistry::entry(WorkspaceId ws) {
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(ws); it != entries_.end()) return it->second.get();
  SIYU_ASSIGN_OR_RETURN(store::Workspace w, store_.workspace(ws));
  SIYU_ASSIGN_OR_RETURN(int offset, zone_offset_minutes(w.timezone));
  auto e = std::make_unique<Entry>(offset);
  SIYU_ASSIGN_OR_RETURN(e->definitions, definitions(ws));
  const Definitions& d = e->definitions;
  // Built while holding the registry lock: a second caller waits instead of building twice.
  // The store is read in kReadLanes parts at once while the load's own thread fills the index.
  BulkLoad load(e->index, kReadLanes);
  SIYU_ASSIGN_OR_RETURN(e->built_generation, store_.scan_customer_facts(ws, activity_since(), !d.event_properties.empty(), kReadLanes, [&](int part, const store::CustomerFacts& f) {
    load.add(part, indexed(f, e->index, d.fields, d.event_properties), f.tags);
  }, [&](int part) { load.done(part); }));
  load.finish();
  Entry* raw = e.get();
  entries_.emplace(ws, std::move(e));
  return raw;
}

Result<const CustomerIndex*> IndexRegistry::get(WorkspaceId ws) {
  SIYU_ASSIGN_OR_RETURN(Entry * e, entry(ws));
  return &e->index;
}

IndexRegistry::Entry* IndexRegistry::built(WorkspaceId ws) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(ws);
  return it == entries_.end() ? nullptr : it->second.get();
}

Status IndexRegistry::refresh(WorkspaceId ws, const std::vector<CustomerId>& ids) {
  Entry* e = built(ws);
  if (ids.empty() || e == nullptr) return Status::ok();
  // Read under the lock: the last refresh applies the newest committed state whatever order
  // writers finish in, and every notice applied before the read is inside its snapshot, so
  // the snapshot's generation never moves a customer's back.
  std::lock_guard refresh_lock(e->refresh_mu);
  const Definitions& d = e->definitions;
  SIYU_ASSIGN_OR_RETURN(auto snapshot, store_.customer_facts(ws, ids, activity_since(), !d.event_properties.empty()));
  for (const auto& f : snapshot.facts) {
    const auto id = static_cast<uint32_t>(f.id.value);
    e->generation(id) = snapshot.generation;
    if (!f.live) {
      e->index.remove(id);
      continue;
    }
    e->index.upsert(indexed(f, e->index, d.fields, d.event_properties));
    e->index.set_tags(id, f.tags);
  }
  return Status::ok();
}

Status IndexRegistry::refresh_tag(WorkspaceId ws, const std::string& tag,
                                  const std::vector<CustomerId>& ids) {
  Entry* e = built(ws);
  if (ids.empty() || e == nullptr) return Status::ok();
  // Under the lock, like refresh: the last reader applies the newest committed state.
  std::lock_guard refresh_lock(e->refresh_mu);
  SIYU_ASSIGN_OR_RETURN(auto holders, store_.tagged_among(ws, tag, ids));
  std::vector<uint32_t> listed, holding;
  listed.reserve(ids.size());
  for (CustomerId id : ids) listed.push_back(static_cast<uint32_t>(id.value));
  holding.reserve(holders.size());
  for (CustomerId id : holders) holding.push_back(static_cast<uint32_t>(id.value));
  e->index.set_tag_holders(tag, listed, holding);
  return Status::ok();
}

void IndexRegistry::events_committed(store::EventsCommitted notice) {
  std::lock_guard lock(queue_mu_);
  queue_.push_back(std::move(notice));
}

void IndexRegistry::apply_committed() {
  std::lock_guard applying(apply_mu_);
  std::vector<store::EventsCommitted> notices;
  {
    std::lock_guard lock(queue_mu_);
    notices.swap(queue_);
  }
  for (const store::EventsCommitted& n : notices) {
    // Workspaces not built yet read these events when they are.
    if (Entry* e = built(n.workspace)) apply(*e, n);
  }
}

void IndexRegistry::apply(Entry& e, const store::EventsCommitted& notice) {
  std::lock_guard refresh_lock(e.refresh_mu);
  const Definitions& d = e.definitions;
  const EpochMs since = activity_since();
  // Each customer's events, in batch order: the index sums them by day, so order does not matter.
  std::map<uint32_t, std::vector<store::ActivityRow>> rows;
  for (const auto& [customer, row] : notice.events) {
    if (row.ts >= since) rows[static_cast<uint32_t>(customer.value)].push_back(row);
  }
  // A customer made by this ingest has only defaults and these events.
  for (CustomerId made : notice.created) {
    const auto id = static_cast<uint32_t>(made.value);
    int64_t& generation = e.generation(id);
    if (generation >= notice.generation) continue;
    generation = notice.generation;
    store::CustomerFacts f;
    f.id = made;
    f.live = true;
    f.layer = "none";
    f.gender = "unknown";
    f.created_at = notice.at;
    if (auto it = rows.find(id); it != rows.end()) {
      f.activity = std::move(it->second);
      rows.erase(it);
    }
    e.index.upsert(indexed(f, e.index, d.fields, d.event_properties));
  }
  std::vector<CustomerIndex::AddedActivity> added;
  for (const auto& [id, list] : rows) {
    int64_t& generation = e.generation(id);
    if (generation >= notice.generation) continue;
    generation = notice.generation;
    added.emplace_back(id, day_activity(list, e.index, d.event_properties));
  }
  e.index.add_activity(added);
}

Status IndexRegistry::build_all() {
  SIYU_ASSIGN_OR_RETURN(auto all, store_.workspaces());
  for (const auto& w : all) SIYU_RETURN_IF_ERROR(get(w.id).status());
  return Status::ok();
}

IndexRegistry::Stats IndexRegistry::stats() const {
  std::lock_guard lock(mu_);
  Stats s;
  for (const auto& [ws, e] : entries_) {
    s.customers += e->index.size();
    s.bytes += e->index.memory_bytes();
  }
  return s;
}

}  // namespace siyu::index
