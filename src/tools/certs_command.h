// `meridian certs --config FILE --out DIR`: a new cluster CA and one certificate per region, per
// router location and per client role, in the layout of tls/cert_files.h, made with the OpenSSL
// library. Point the config's `tls.dir` at DIR (docs/security.md).
#pragma once

#include <CLI/CLI.hpp>

namespace meridian {

void AddCertsCommand(CLI::App& app, int* exit_code);

}  // namespace meridian
