// The holiday calendar journeys count down to (节日营销): Chinese festivals on the lunar
// calendar, solar-term days and shopping days, with their Gregorian dates for 2024–2030.
// Lunar dates come from the published calendar, not from a computation; extend the table
// before 2031.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time_format.h"

namespace siyu::journey {

struct Holiday {
  std::string name;     // 春节, 中秋, 双十一, ...
  std::string english;  // Spring Festival, ...
  CivilDate date;
};

/// Whether `name` (Chinese or English) is in the calendar.
bool is_holiday(std::string_view name);

/// The holiday's date in `year`, or nullopt outside the table's years.
std::optional<CivilDate> holiday_date(std::string_view name, int year);

/// Every holiday of the calendar in [from_year, to_year], by date.
std::vector<Holiday> holidays_between(int from_year, int to_year);

}  // namespace siyu::journey
