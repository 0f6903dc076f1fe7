// Civil dates and ISO 8601 timestamps, without a time-zone database: workspaces carry a
// fixed UTC offset (China has no daylight saving; Asia/Shanghai is +08:00).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/ids.h"
#include "core/status.h"

namespace siyu {

constexpr EpochMs kMsPerDay = 86'400'000;

struct CivilDate {
  int year = 1970;
  int month = 1;
  int day = 1;
};

/// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(CivilDate d);
/// Inverse of days_from_civil.
CivilDate civil_from_days(int64_t days);

/// Parses "YYYY-MM-DD", checking the calendar (no 2023-02-30).
Result<CivilDate> parse_date(std::string_view s);
std::string format_date(CivilDate d);

/// Parses "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)" (a space may replace the T).
/// A timestamp without an offset is read in `default_offset_minutes`.
Result<EpochMs> parse_timestamp(std::string_view s, int default_offset_minutes = 0);
/// Formats as "YYYY-MM-DDTHH:MM:SS.fffZ".
std::string format_timestamp(EpochMs t);
/// Formats in a fixed offset as "YYYY-MM-DD HH:MM:SS".
std::string format_local(EpochMs t, int offset_minutes);

/// The day number (days since 1970-01-01) of instant `t` in a zone `offset_minutes` from UTC.
int64_t local_day(EpochMs t, int offset_minutes);

/// UTC offset in minutes for a supported zone name ("Asia/Shanghai" → 480), or an error.
Result<int> zone_offset_minutes(std::string_view zone);

}  // namespace siyu
