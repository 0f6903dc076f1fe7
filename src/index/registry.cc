#include "index/registry.h"

#include <map>

#include "core/json.h"
#include "core/time_format.h"

namespace siyu::index {

namespace {
/// The customer's non-personal custom fields in the index's terms.
void index_custom_fields(const store::CustomerFacts& f, const std::vector<store::FieldDef>& fields,
                         IndexedCustomer& c) {
  if (fields.empty() || f.custom_json.size() <= 2) return;
  auto custom = parse_json(f.custom_json);
  if (!custom || !custom->is_object()) return;
  for (const store::FieldDef& d : fields) {
    if (d.personal) continue;
    auto it = custom->find(d.name);
    if (it == custom->end() || it->is_null()) continue;
    const std::string attr = "custom." + d.name;
    if (d.type == "number" && it->is_number()) {
      c.custom_numbers.emplace_back(attr, it->get<double>());
    } else if (d.type == "date" && it->is_string()) {
      if (auto day = parse_date(it->get_ref<const std::string&>())) {
        c.custom_numbers.emplace_back(attr, static_cast<double>(days_from_civil(*day)));
      }
    } else if (d.type == "boolean" && it->is_boolean()) {
      c.custom_text.emplace_back(attr, it->get<bool>() ? "true" : "false");
    } else if (d.type == "string" && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      c.custom_text.emplace_back(attr, it->get<std::string>());
    }
  }
}
}  // namespace

IndexedCustomer indexed(const store::CustomerFacts& f, const CustomerIndex& ix,
                        const std::vector<store::FieldDef>& fields) {
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
  // Events arrive in time order: each (type, day) is summed into one cell.
  std::map<std::pair<std::string_view, int32_t>, size_t> cell_of;
  for (const store::ActivityRow& row : f.activity) {
    const int32_t day = ix.day_of(row.ts);
    auto [it, fresh] = cell_of.try_emplace({row.type, day}, c.activity.size());
    if (fresh) c.activity.push_back({row.type, day, 0, 0});
    DayActivity& cell = c.activity[it->second];
    ++cell.count;
    cell.amount += row.amount;
  }
  c.purchases.orders = static_cast<int32_t>(f.paid_orders);
  c.purchases.spend = f.spend;
  if (f.last_paid_at) c.purchases.last_day = ix.day_of(*f.last_paid_at);
  index_custom_fields(f, fields, c);
  return c;
}

EpochMs IndexRegistry::activity_since() const {
  return clock_.now_ms() - int64_t{kActivityDays} * 86'400'000;
}

Result<IndexRegistry::Entry*> IndexRegistry::entry(WorkspaceId ws) {
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(ws); it != entries_.end()) return it->second.get();
  SIYU_ASSIGN_OR_RETURN(store::Workspace w, store_.workspace(ws));
  SIYU_ASSIGN_OR_RETURN(int offset, zone_offset_minutes(w.timezone));
  SIYU_ASSIGN_OR_RETURN(auto fields, store_.field_defs(ws));
  auto e = std::make_unique<Entry>(offset);
  e->index.begin_bulk();
  // Built while holding the registry lock: a second caller waits instead of building twice.
  SIYU_RETURN_IF_ERROR(store_.scan_customer_facts(ws, activity_since(), [&](const store::CustomerFacts& f) {
    const uint32_t id = static_cast<uint32_t>(f.id.value);
    e->index.upsert(indexed(f, e->index, fields));
    e->index.set_tags(id, f.tags);
  }));
  e->index.end_bulk();
  Entry* raw = e.get();
  entries_.emplace(ws, std::move(e));
  return raw;
}

Result<const CustomerIndex*> IndexRegistry::get(WorkspaceId ws) {
  SIYU_ASSIGN_OR_RETURN(Entry * e, entry(ws));
  return &e->index;
}

Status IndexRegistry::refresh(WorkspaceId ws, const std::vector<CustomerId>& ids) {
  if (ids.empty()) return Status::ok();
  Entry* e = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(ws);
    if (it == entries_.end()) return Status::ok();
    e = it->second.get();
  }
  std::lock_guard refresh_lock(e->refresh_mu);
  SIYU_ASSIGN_OR_RETURN(auto fields, store_.field_defs(ws));
  SIYU_ASSIGN_OR_RETURN(auto facts, store_.customer_facts(ws, ids, activity_since()));
  for (const auto& f : facts) {
    const uint32_t id = static_cast<uint32_t>(f.id.value);
    if (!f.live) {
      e->index.remove(id);
      continue;
    }
    e->index.upsert(indexed(f, e->index, fields));
    e->index.set_tags(id, f.tags);
  }
  return Status::ok();
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
