#include "demo/online_retail.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_map>

#include "core/json.h"
#include "core/time_format.h"
#include "io/csv.h"

namespace siyu::demo {
namespace {

struct Line {
  std::string sku, name;
  int64_t quantity = 0;
  int64_t price_mills = 0;  // thousandths of a pound
};

struct Invoice {
  std::string id;
  std::string customer;  // "" for a guest
  std::string country;
  EpochMs at = 0;
  std::vector<Line> lines;
  // Filled by the refund matching (pence).
  int64_t refund = 0;
  EpochMs refunded_at = 0;
  std::map<std::string, int64_t> left;  // stock code → quantity not yet refunded
};

Result<int64_t> parse_mills(std::string_view s, const std::string& where) {
  const size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot), frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  int64_t w = 0;
  if (whole.empty() || std::from_chars(whole.data(), whole.data() + whole.size(), w).ec != std::errc()) {
    return invalid(where + ": UnitPrice \"" + std::string(s) + "\" is not a number", "UnitPrice");
  }
  std::string f(frac.substr(0, std::min<size_t>(frac.size(), 3)));
  f.resize(3, '0');
  int64_t m = 0;
  if (std::from_chars(f.data(), f.data() + 3, m).ec != std::errc()) {
    return invalid(where + ": UnitPrice \"" + std::string(s) + "\" is not a number", "UnitPrice");
  }
  return w * 1000 + m;
}

/// "17850.0" → "17850"; "" stays "".
std::string customer_id(std::string_view s) {
  const size_t dot = s.find('.');
  return std::string(s.substr(0, dot));
}

int64_t pence(int64_t mills) { return (mills + (mills >= 0 ? 5 : -5)) / 10; }

Result<std::vector<Invoice>> parse(std::string_view text, RetailImport& report) {
  SIYU_ASSIGN_OR_RETURN(std::vector<io::CsvRow> rows, io::parse_csv(text));
  if (rows.empty() || rows[0].size() != 8 || rows[0][0] != "InvoiceNo") {
    return invalid("the file must start with the header InvoiceNo,StockCode,Description,Quantity,"
                   "InvoiceDate,UnitPrice,CustomerID,Country", "file");
  }
  std::vector<Invoice> invoices;
  std::unordered_map<std::string, size_t> by_id;
  for (size_t i = 1; i < rows.size(); ++i) {
    const io::CsvRow& r = rows[i];
    const std::string where = "line " + std::to_string(i + 1);
    if (r.size() != 8) return invalid(where + ": expected 8 fields", "file");
    Line l;
    l.sku = r[1];
    l.name = r[2];
    if (std::from_chars(r[3].data(), r[3].data() + r[3].size(), l.quantity).ec != std::errc()) {
      return invalid(where + ": Quantity \"" + r[3] + "\" is not a whole number", "Quantity");
    }
    SIYU_ASSIGN_OR_RETURN(l.price_mills, parse_mills(r[5], where));
    auto [it, fresh] = by_id.try_emplace(r[0], invoices.size());
    if (fresh) {
      Invoice inv;
      inv.id = r[0];
      inv.customer = customer_id(r[6]);
      inv.country = r[7];
      auto at = parse_timestamp(r[4], 0);
      if (!at) return invalid(where + ": InvoiceDate \"" + r[4] + "\" is not a date and time", "InvoiceDate");
      inv.at = *at;
      invoices.push_back(std::move(inv));
    }
    invoices[it->second].lines.push_back(std::move(l));
    ++report.lines;
  }
  std::stable_sort(invoices.begin(), invoices.end(), [](const Invoice& a, const Invoice& b) { return a.at < b.at; });
  return invoices;
}

int64_t total_mills(const Invoice& inv) {
  int64_t t = 0;
  for (const Line& l : inv.lines) t += l.quantity * l.price_mills;
  return t;
}

bool priced(const Invoice& inv) {
  return std::any_of(inv.lines.begin(), inv.lines.end(), [](const Line& l) { return l.price_mills != 0; });
}

Json items_json(const Invoice& inv) {
  Json items = Json::array();
  for (const Line& l : inv.lines) {
    items.push_back({{"sku", l.sku}, {"name", l.name}, {"quantity", l.quantity}, {"price", pence(l.price_mills)}});
  }
  return items;
}

}  // namespace

Result<RetailImport> import_online_retail(store::Store& store, WorkspaceId ws, std::string_view csv,
                                          const Clock& clock) {
  RetailImport report;
  SIYU_ASSIGN_OR_RETURN(std::vector<Invoice> invoices, parse(csv, report));
  // Match cancellations to the customer's latest earlier invoice with the stock code.
  std::unordered_map<std::string, std::vector<size_t>> sales_of;  // customer → sale invoices
  std::vector<Invoice> refund_only;
  for (size_t i = 0; i < invoices.size(); ++i) {
    Invoice& inv = invoices[i];
    if (inv.id.rfind('C', 0) != 0) {
      for (const Line& l : inv.lines) inv.left[l.sku] += l.quantity;
      if (!inv.customer.empty()) sales_of[inv.customer].push_back(i);
      continue;
    }
    ++report.cancellations;
    Invoice rest = inv;
    rest.lines.clear();
    for (const Line& l : inv.lines) {
      const int64_t qty = -l.quantity;
      Invoice* origin = nullptr;
      if (qty > 0 && l.price_mills > 0 && !inv.customer.empty()) {
        auto& candidates = sales_of[inv.customer];
        for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) {
          Invoice& s = invoices[*it];
          auto left = s.left.find(l.sku);
          if (left != s.left.end() && left->second >= qty) {
            origin = &s;
            left->second -= qty;
            break;
          }
        }
      }
      if (origin != nullptr) {
        origin->refund += pence(qty * l.price_mills);
        origin->refunded_at = inv.at;
        ++report.refunds_matched;
      } else {
        rest.lines.push_back(l);
      }
    }
    if (priced(rest)) refund_only.push_back(std::move(rest));
  }

  // Customers: one per CustomerID, created at its first invoice.
  std::map<std::string, std::pair<EpochMs, std::string>> customers;  // id → (first seen, country)
  for (const Invoice& inv : invoices) {
    if (!inv.customer.empty()) customers.try_emplace(inv.customer, inv.at, inv.country);
  }
  report.customers = static_cast<int64_t>(customers.size());
  std::vector<std::pair<store::Customer, std::vector<store::Identity>>> fresh;
  for (const auto& [id, first] : customers) {
    SIYU_ASSIGN_OR_RETURN(auto known, store.find_identity(ws, "member_card", "", id));
    if (known) continue;
    store::Customer c;
    c.workspace = ws;
    c.city = first.second;
    c.created_at = c.updated_at = first.first;
    store::Identity identity;
    identity.type = "member_card";
    identity.key = id;
    identity.display = id;
    identity.created_at = first.first;
    fresh.push_back({std::move(c), {std::move(identity)}});
  }
  for (size_t from = 0; from < fresh.size(); from += 1000) {
    std::vector<std::pair<store::Customer, std::vector<store::Identity>>> chunk(
        fresh.begin() + static_cast<ptrdiff_t>(from),
        fresh.begin() + static_cast<ptrdiff_t>(std::min(fresh.size(), from + 1000)));
    SIYU_ASSIGN_OR_RETURN(auto ids, store.create_customers(ws, chunk));
    report.customers_created += static_cast<int64_t>(ids.size());
  }

  // Orders and their events, in batches.
  std::vector<store::PendingOrder> orders;
  std::vector<store::PendingEvent> events;
  const auto identity_of = [](const std::string& id) {
    store::Identity i;
    i.type = "member_card";
    i.key = id;
    return i;
  };
  // An invoice as an order of `amount` pence: its customer (or a guest), lines and time.
  const auto order_of = [&](const Invoice& inv, int64_t amount) {
    store::PendingOrder p;
    p.guest = inv.customer.empty();
    if (!p.guest) p.identity = identity_of(inv.customer);
    store::Order& o = p.order;
    o.order_id = inv.id;
    o.amount = amount;
    o.currency = "GBP";
    o.channel = "online";
    o.items_json = items_json(inv).dump();
    o.ordered_at = inv.at;
    return p;
  };
  const auto flush = [&]() -> Status {
    if (!orders.empty()) {
      SIYU_ASSIGN_OR_RETURN(auto results, store.upsert_orders(ws, orders, clock.now_ms()));
      for (const auto& r : results) SIYU_RETURN_IF_ERROR(r.status);
    }
    if (!events.empty()) {
      SIYU_ASSIGN_OR_RETURN(auto stored, store.ingest_events(ws, events, clock.now_ms()));
      (void)stored;
    }
    orders.clear();
    events.clear();
    return Status::ok();
  };
  const auto add_event = [&](const Invoice& inv, const char* type, const std::string& id, EpochMs at, int64_t amount) {
    if (inv.customer.empty()) return;
    store::PendingEvent e;
    e.identity = identity_of(inv.customer);
    e.event.event_id = id;
    e.event.type = type;
    e.event.ts = at;
    e.event.amount = amount;
    e.event.channel = "online";
    events.push_back(std::move(e));
  };
  for (const Invoice& inv : invoices) {
    if (inv.id.rfind('C', 0) == 0) continue;
    const int64_t amount = pence(total_mills(inv));
    if (!priced(inv) || amount < 0) {
      ++report.skipped_invoices;
      continue;
    }
    store::PendingOrder p = order_of(inv, amount);
    store::Order& o = p.order;
    o.refund_amount = std::min(inv.refund, amount);
    o.status = o.refund_amount > 0 && o.refund_amount == amount ? "refunded" : "paid";
    o.paid_at = inv.at;
    if (o.refund_amount > 0) o.refunded_at = inv.refunded_at;
    orders.push_back(std::move(p));
    add_event(inv, "order_paid", "order:" + inv.id, inv.at, amount);
    if (inv.refund > 0) add_event(inv, "refund", "refund:" + inv.id, inv.refunded_at, std::min(inv.refund, amount));
    ++report.invoices;
    report.guest_orders += inv.customer.empty() ? 1 : 0;
    report.gmv += amount;
    report.refunded += std::min(inv.refund, amount);
    if (orders.size() >= 500) SIYU_RETURN_IF_ERROR(flush());
  }
  for (const Invoice& inv : refund_only) {
    const int64_t amount = -pence(total_mills(inv));
    if (amount <= 0) continue;
    store::PendingOrder p = order_of(inv, amount);
    store::Order& o = p.order;
    o.refund_amount = amount;
    o.status = "refunded";
    o.refunded_at = inv.at;
    orders.push_back(std::move(p));
    add_event(inv, "refund", "refund:" + inv.id, inv.at, amount);
    ++report.refund_orders;
    report.refunded += amount;
    if (orders.size() >= 500) SIYU_RETURN_IF_ERROR(flush());
  }
  SIYU_RETURN_IF_ERROR(flush());
  return report;
}

}  // namespace siyu::demo
