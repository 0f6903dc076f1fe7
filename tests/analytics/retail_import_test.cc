// The Online Retail import on the first 8,000 lines of the real file: one order per invoice,
// GMV and refunds equal to plain sums over the lines, guests in GMV but not customers, and a
// second import changing nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "analytics/sales.h"
#include "demo/online_retail.h"
#include "io/csv.h"
#include "support/temp_dir.h"
#include "support/test_store.h"

namespace siyu::demo {
namespace {

std::string sample() {
  std::ifstream in(std::string(SIYU_DATASETS) + "/online-retail-sample.csv", std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RetailImportTest, LoadsInvoicesAsOrdersWithRefunds) {
  siyu::testing::TempDir dir;
  auto store = siyu::testing::open_test_store(dir);
  const WorkspaceId ws = store->create_workspace({WorkspaceId(), "r", "R", "UTC", 0})->id;
  const std::string text = sample();
  auto report = import_online_retail(*store, ws, text, SystemClock::instance());
  ASSERT_TRUE(report) << report.error().message();

  // The reference: plain sums over the lines (prices in thousandths of a pound).
  auto rows = *io::parse_csv(text);
  std::map<std::string, double> invoice_total;
  std::set<std::string> priced, customers, guests;
  double cancelled = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const double line = std::stod(r[3]) * std::stod(r[5]);
    if (!r[6].empty()) customers.insert(r[6]);  // also those who only cancelled
    if (r[0][0] == 'C') {
      if (std::stod(r[5]) > 0) cancelled += -line;
      continue;
    }
    invoice_total[r[0]] += line;
    if (std::stod(r[5]) != 0) priced.insert(r[0]);
    if (r[6].empty()) guests.insert(r[0]);
  }
  double gmv = 0;
  int64_t orders = 0, guest_orders = 0;
  for (const auto& [id, total] : invoice_total) {
    if (!priced.contains(id) || total < 0) continue;
    gmv += total;
    ++orders;
    guest_orders += guests.contains(id) ? 1 : 0;
  }
  EXPECT_EQ(report->guest_orders, guest_orders);
  EXPECT_GT(guest_orders, 0);
  EXPECT_EQ(report->invoices, orders);
  EXPECT_NEAR(static_cast<double>(report->gmv) / 100, gmv, 0.01 * static_cast<double>(orders));
  EXPECT_EQ(report->customers, static_cast<int64_t>(customers.size()));
  EXPECT_EQ(report->customers_created, report->customers);
  EXPECT_GT(report->cancellations, 0);
  EXPECT_GT(report->refunds_matched, 0);
  EXPECT_NEAR(static_cast<double>(report->refunded) / 100, cancelled, 0.01 * static_cast<double>(report->cancellations + report->refunds_matched));

  // The engine sees the same: GMV over the whole file, guests counted, buyers are customers.
  auto data = analytics::load_dataset(*store, ws, 0, {});
  ASSERT_TRUE(data);
  const analytics::SalesQuery q{.period = {1'000'000'000, 2'000'000'000}, .grain = analytics::Grain::kMonth,
                                .by = analytics::Dimension::kNone, .segments = {}, .repurchase_days = 30};
  const auto sales = analytics::sales(*data, q, analytics::CustomerMask::all(), 0);
  EXPECT_EQ(sales.total.totals.gmv, report->gmv);
  EXPECT_EQ(sales.total.totals.orders, report->invoices);
  EXPECT_EQ(sales.total.totals.refund_amount, report->refunded);
  EXPECT_LE(sales.total.totals.buyers, report->customers);
  EXPECT_EQ(*store->count_customers(ws), report->customers);

  // Importing again changes nothing.
  const int64_t events = *store->count_events(ws);
  auto again = import_online_retail(*store, ws, text, SystemClock::instance());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->customers_created, 0);
  EXPECT_EQ(*store->count_events(ws), events);
  EXPECT_EQ(*store->count_customers(ws), report->customers);
}

TEST(RetailImportTest, RefusesAnotherFile) {
  siyu::testing::TempDir dir;
  auto store = siyu::testing::open_test_store(dir);
  const WorkspaceId ws = store->create_workspace({WorkspaceId(), "r", "R", "UTC", 0})->id;
  auto r = import_online_retail(*store, ws, "a,b\n1,2\n", SystemClock::instance());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field(), "file");
  auto bad = import_online_retail(*store, ws,
                                  "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
                                  "1,A,x,2,2011-01-01 10:00:00,abc,1.0,UK\n",
                                  SystemClock::instance());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field(), "UnitPrice");
  EXPECT_EQ(*store->count_customers(ws), 0);
}

}  // namespace
}  // namespace siyu::demo
