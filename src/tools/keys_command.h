// `meridian keys add --file F --name N --grant G...`: makes an API key, stores only its hash in
// key file F (created when missing) and prints the key once, on stdout, for the operator to hand
// out. `meridian keys list --file F`: names and grants (never a key: the file has none).
#pragma once

#include <CLI/CLI.hpp>

namespace meridian {

void AddKeysCommand(CLI::App& app, int* exit_code);

}  // namespace meridian
