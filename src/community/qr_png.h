// QR codes as PNG images (libqrencode for the symbol, libpng for the file), for channel codes
// printed on posters and table cards.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace siyu::community {

/// A PNG of `text` encoded as a QR code (error correction M), `scale` pixels per module and a
/// four-module quiet zone. kInvalidArgument when the text is too long for a QR code.
Result<std::string> qr_png(std::string_view text, int scale);

}  // namespace siyu::community
