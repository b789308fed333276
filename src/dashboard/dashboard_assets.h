// The files of web/dashboard/, embedded at build time (cmake/EmbedFiles.cmake generates the
// definitions into the build tree).
#pragma once

#include <string_view>

namespace meridian::dashboard::assets {

std::string_view index_html();
std::string_view app_js();
std::string_view app_css();

}  // namespace meridian::dashboard::assets
