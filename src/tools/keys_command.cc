#include "tools/keys_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "auth/key_store.h"

namespace meridian {
namespace {

struct KeysFlags {
  std::string file;
  std::string name;
  std::vector<std::string> grants;
};

Result<auth::KeyStore> LoadOrEmpty(const std::string& path) {
  if (!std::filesystem::exists(path)) return auth::KeyStore();
  return auth::KeyStore::Load(path);
}

// Writes beside the file and renames over it, so a crash leaves the old file or the new one,
// and the file is readable only by its owner (it lists who may do what).
Status WriteKeyFile(const std::string& path, const auth::KeyStore& store) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << store.Format();
    if (!out.flush()) return Internal("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::permissions(
      tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Internal("cannot replace " + path + ": " + ec.message());
  return Status::Ok();
}

int RunAdd(const KeysFlags& f) {
  auto store = LoadOrEmpty(f.file);
  if (!store.ok()) {
    std::fprintf(stderr, "keys add: %s\n", store.status().ToString().c_str());
    return 2;
  }
  const std::string key = auth::GenerateApiKey();
  auth::KeyEntry entry{f.name, auth::HashApiKey(key), {}};
  for (const std::string& text : f.grants) {
    auto grant = auth::ParseGrant(text);
    if (!grant.ok()) {
      std::fprintf(stderr, "keys add: %s\n", grant.status().message().c_str());
      return 2;
    }
    entry.grants.push_back(std::move(grant).value());
  }
  if (Status added = store->Add(std::move(entry)); !added.ok()) {
    std::fprintf(stderr, "keys add: %s\n", added.ToString().c_str());
    return 2;
  }
  if (Status written = WriteKeyFile(f.file, *store); !written.ok()) {
    std::fprintf(stderr, "keys add: %s\n", written.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "keys add: stored the hash of key %s in %s; the key is shown only now:\n",
               f.name.c_str(), f.file.c_str());
  std::printf("%s\n", key.c_str());
  return 0;
}

int RunList(const KeysFlags& f) {
  auto store = auth::KeyStore::Load(f.file);
  if (!store.ok()) {
    std::fprintf(stderr, "keys list: %s\n", store.status().ToString().c_str());
    return 2;
  }
  for (const auth::KeyEntry& e : store->entries()) {
    std::string grants;
    for (const auth::Grant& g : e.grants)
      grants += " " + auth::FormatGrant(g);
    std::printf("%s%s\n", e.name.c_str(), grants.c_str());
  }
  return 0;
}

}  // namespace

void AddKeysCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<KeysFlags>();
  CLI::App* keys = app.add_subcommand("keys", "API keys: add one, list them");
  keys->require_subcommand(1);
  CLI::App* add = keys->add_subcommand("add", "make a key, store its hash, print it once");
  add->add_option("--file", flags->file, "the key file (auth.keys_file of the config)")->required();
  add->add_option("--name", flags->name, "a unique name, [A-Za-z0-9_.-]")->required();
  add->add_option("--grant", flags->grants,
                  "CLASS:OPS[:PREFIX] (class profile|counter|tags|register|handle|*, ops r|w|rw) "
                  "or admin; repeat for several")
      ->required();
  add->callback([flags, exit_code] { *exit_code = RunAdd(*flags); });
  CLI::App* list = keys->add_subcommand("list", "names and grants of the stored keys");
  list->add_option("--file", flags->file, "the key file")->required();
  list->callback([flags, exit_code] { *exit_code = RunList(*flags); });
}

}  // namespace meridian
