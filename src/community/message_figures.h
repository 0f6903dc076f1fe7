// Counting stored messages into the figures that are written behind them: member activity and
// the day, hour and topic aggregates. The same counting serves live ingestion and the recount
// of messages after the last written mark at start, so both give the same figures.
#pragma once

#include "store/community_records.h"

namespace siyu::community {

/// Counts one stored message (its id, terms and reply author set) into `f`: messages and
/// violations of its group and workspace day, its hour in the heatmap of the group and of
/// group 0 (across groups), its topic terms, the sender's activity and the replies drawn by
/// the author it quotes.
void count_message(store::MessageFigures& f, const store::GroupMessage& m, int offset_minutes);

}  // namespace siyu::community
