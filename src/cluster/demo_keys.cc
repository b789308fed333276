#include "cluster/demo_keys.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "auth/key_store.h"

namespace meridian {

namespace {

namespace fs = std::filesystem;

Status WritePrivate(const std::string& path, const std::string& text) {
  {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out.flush()) return Internal("cannot write " + path);
  }
  std::error_code ec;
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
  if (ec) return Internal("cannot restrict " + path + ": " + ec.message());
  return Status::Ok();
}

Status AddKey(auth::KeyStore& store, const std::string& name, const std::string& key,
              const std::string& grant) {
  auth::KeyEntry entry{name, auth::HashApiKey(key), {}};
  entry.grants.push_back(*auth::ParseGrant(grant));
  return store.Add(std::move(entry));
}

}  // namespace

Result<DemoKeys> EnsureDemoKeys(const std::string& dir) {
  DemoKeys keys;
  keys.auth.keys_file = dir + "/keys.txt";
  keys.auth.router_key_file = dir + "/router.key";
  const std::string plain = dir + "/demo-keys.json";
  if (fs::exists(plain) && fs::exists(keys.auth.keys_file)) {
    std::ifstream in(plain);
    const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("client_key") || !j.contains("admin_key") ||
        !j.contains("router_key")) {
      return DataLoss(plain + " is not the demo's key file; remove the run directory");
    }
    keys.client_key = j["client_key"];
    keys.admin_key = j["admin_key"];
    keys.router_key = j["router_key"];
    return keys;
  }
  keys.client_key = auth::GenerateApiKey();
  keys.admin_key = auth::GenerateApiKey();
  keys.router_key = auth::GenerateApiKey();
  auth::KeyStore store;
  MERIDIAN_RETURN_IF_ERROR(AddKey(store, "client", keys.client_key, "*:rw"));
  MERIDIAN_RETURN_IF_ERROR(AddKey(store, "admin", keys.admin_key, "admin"));
  MERIDIAN_RETURN_IF_ERROR(AddKey(store, "router", keys.router_key, "*:rw"));
  MERIDIAN_RETURN_IF_ERROR(WritePrivate(keys.auth.keys_file, store.Format()));
  MERIDIAN_RETURN_IF_ERROR(WritePrivate(keys.auth.router_key_file, keys.router_key + "\n"));
  MERIDIAN_RETURN_IF_ERROR(WritePrivate(plain, nlohmann::json{{"client_key", keys.client_key},
                                                              {"admin_key", keys.admin_key},
                                                              {"router_key", keys.router_key}}
                                                       .dump(2) +
                                                   "\n"));
  return keys;
}

}  // namespace meridian
