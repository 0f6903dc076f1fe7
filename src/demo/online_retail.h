// Loads the UCI "Online Retail" order lines (InvoiceNo, StockCode, Description, Quantity,
// InvoiceDate, UnitPrice, CustomerID, Country) as a workspace. The mapping, documented in
// docs/analytics.md:
//   - one order per invoice (order_id = InvoiceNo), paid at InvoiceDate (read as UTC), amount
//     the sum of quantity × price in pence, currency GBP, the lines as items;
//   - customers by CustomerID written as a float ("17850.0" → member card 17850), created at
//     their first invoice, Country as their city; a blank CustomerID is a guest checkout:
//     counted in GMV and orders, not as a customer;
//   - cancellations (C-prefixed invoices, negative quantities) are refunds: each line is
//     taken off the customer's latest earlier invoice holding that stock code (refund_amount,
//     refunded_at; status refunded once nothing is left); lines with no such invoice (the
//     purchase predates the file, or a guest) become one refund-only order "C…" per
//     cancellation invoice, never paid;
//   - lines priced 0 carry no money; invoices without a priced line (stock adjustments) are
//     skipped and counted;
//   - each paid order also gives an order_paid event and each refund a refund event, so
//     funnels and retention see purchases.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "store/store.h"

namespace siyu::demo {

struct RetailImport {
  int64_t lines = 0;
  int64_t invoices = 0;          // orders stored
  int64_t guest_orders = 0;
  int64_t customers = 0;         // distinct customer ids in the file
  int64_t customers_created = 0;
  int64_t cancellations = 0;     // cancellation invoices
  int64_t refunds_matched = 0;   // cancellation lines taken off an earlier invoice
  int64_t refund_orders = 0;     // refund-only orders for the unmatched lines
  int64_t skipped_invoices = 0;  // no priced line
  int64_t gmv = 0;               // pence, paid orders
  int64_t refunded = 0;          // pence
};

/// Imports `csv` (the file's text) into workspace `ws`. Repeating it changes nothing.
Result<RetailImport> import_online_retail(store::Store& store, WorkspaceId ws, std::string_view csv,
                                          const Clock& clock);

}  // namespace siyu::demo
