#include "store/sqlite/analytics_sql.h"

namespace siyu::store::sqlite::analytics_sql {
namespace {

std::optional<int64_t> opt(const Statement& s, int col) { return s.opt_int_at(col); }

Status scan_customers(Connection& c, WorkspaceId ws, AnalyticsSink& sink) {
  SIYU_PREPARE(s, c,
               "SELECT id, created_at, layer, gender, city, birthday, campaign, content, "
               "referrer_partner, channel_id, owner_staff, referrer_staff FROM customers "
               "WHERE workspace_id=? AND merged_into IS NULL AND erased_at IS NULL ORDER BY id");
  s->bind(1, ws.value);
  while (s->step()) {
    CustomerProfile p;
    p.id = CustomerId(s->int_at(0));
    p.created_at = s->int_at(1);
    p.layer = s->view_at(2);
    p.gender = s->view_at(3);
    p.city = s->view_at(4);
    p.birthday = s->view_at(5);
    p.campaign = s->view_at(6);
    p.content = s->view_at(7);
    p.referrer_partner = s->view_at(8);
    p.channel = opt(*s, 9);
    p.owner_staff = opt(*s, 10);
    p.referrer_staff = opt(*s, 11);
    sink.customer(p);
  }
  const Status st = s->status();
  s->reset();
  return st;
}

Status scan_events(Connection& c, WorkspaceId ws, AnalyticsSink& sink) {
  // The table's own order: a sequential read, cheaper than visiting it through an index.
  SIYU_PREPARE(s, c,
               "SELECT customer_id, ts, amount, type, coalesce(channel,''), coalesce(campaign,''), "
               "coalesce(content,''), coalesce(staff,''), coalesce(properties,'{}') FROM events "
               "NOT INDEXED WHERE workspace_id=?");
  s->bind(1, ws.value);
  while (s->step()) {
    EventFact e;
    e.customer = CustomerId(s->int_at(0));
    e.ts = s->int_at(1);
    e.amount = s->int_at(2);
    e.type = s->view_at(3);
    e.channel = s->view_at(4);
    e.campaign = s->view_at(5);
    e.content = s->view_at(6);
    e.staff = s->view_at(7);
    e.properties_json = s->view_at(8);
    sink.event(e);
  }
  const Status st = s->status();
  s->reset();
  return st;
}

Status scan_orders(Connection& c, WorkspaceId ws, AnalyticsSink& sink) {
  SIYU_PREPARE(s, c,
               "SELECT customer_id, status, store, channel, staff, amount, refund_amount, "
               "ordered_at, paid_at, refunded_at FROM orders WHERE workspace_id=?");
  s->bind(1, ws.value);
  while (s->step()) {
    OrderFact o;
    o.customer = CustomerId(s->int_at(0));
    o.status = s->view_at(1);
    o.store = s->view_at(2);
    o.channel = s->view_at(3);
    o.staff = s->view_at(4);
    o.amount = s->int_at(5);
    o.refund_amount = s->int_at(6);
    o.ordered_at = s->int_at(7);
    o.paid_at = opt(*s, 8);
    o.refunded_at = opt(*s, 9);
    sink.order(o);
  }
  const Status st = s->status();
  s->reset();
  return st;
}

Status scan_layer_changes(Connection& c, WorkspaceId ws, AnalyticsSink& sink) {
  SIYU_PREPARE(s, c,
               "SELECT customer_id, from_layer, to_layer, at FROM layer_changes "
               "WHERE workspace_id=? ORDER BY customer_id, at, id");
  s->bind(1, ws.value);
  while (s->step()) {
    sink.layer_change({CustomerId(s->int_at(0)), s->view_at(1), s->view_at(2), s->int_at(3)});
  }
  const Status st = s->status();
  s->reset();
  return st;
}

Status scan_costs(Connection& c, WorkspaceId ws, AnalyticsSink& sink) {
  SIYU_PREPARE(s, c, "SELECT channel_id, day, amount FROM channel_costs WHERE workspace_id=?");
  s->bind(1, ws.value);
  while (s->step()) sink.cost({s->int_at(0), s->view_at(1), s->int_at(2)});
  const Status st = s->status();
  s->reset();
  return st;
}

}  // namespace

Status scan(Connection& c, WorkspaceId ws, AnalyticsSink& sink) {
  SIYU_RETURN_IF_ERROR(scan_customers(c, ws, sink));
  SIYU_RETURN_IF_ERROR(scan_events(c, ws, sink));
  SIYU_RETURN_IF_ERROR(scan_orders(c, ws, sink));
  SIYU_RETURN_IF_ERROR(scan_layer_changes(c, ws, sink));
  return scan_costs(c, ws, sink);
}

Status put_predictions(Connection& c, WorkspaceId ws, const std::vector<Prediction>& predictions,
                       EpochMs at) {
  SIYU_PREPARE(clear, c, "DELETE FROM customer_predictions WHERE workspace_id=?");
  clear->bind(1, ws.value);
  SIYU_RETURN_IF_ERROR(clear->run());
  SIYU_PREPARE(put, c,
               "INSERT INTO customer_predictions (workspace_id, customer_id, expected_purchases, "
               "p_alive, predicted_value, fitted_at) VALUES (?,?,?,?,?,?)");
  for (const Prediction& p : predictions) {
    put->bind(1, ws.value).bind(2, p.customer.value);
    put->bind_real(3, p.expected_purchases).bind_real(4, p.p_alive);
    put->bind(5, p.predicted_value).bind(6, at);
    SIYU_RETURN_IF_ERROR(put->run());
  }
  return Status::ok();
}

}  // namespace siyu::store::sqlite::analytics_sql
