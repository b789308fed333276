#include "tls/cert_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace meridian {

namespace {

std::string Stem(const std::string& dir, const PeerIdentity& identity) {
  return dir + "/" + std::string(PeerRoleName(identity.role)) + "-" + identity.name;
}

// Contract 1: the mode is set at creation (and again with fchmod, whatever the umask), before
// any byte is written, and the file only appears under its name once complete.
Status WriteFileMode(const std::string& path, const std::string& text, mode_t mode) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Unavailable(temp + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ::fsync(fd) == 0 && ok;
  const int saved = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(ok ? errno : saved);
    ::unlink(temp.c_str());
    return Unavailable(path + ": " + why);
  }
  return Status::Ok();
}

Status WritePair(const std::string& cert_path, const std::string& key_path, const PemPair& pair) {
  MERIDIAN_RETURN_IF_ERROR(WriteFileMode(key_path, pair.key_pem, 0600));
  return WriteFileMode(cert_path, pair.cert_pem, 0644);
}

}  // namespace

std::string CaCertPath(const std::string& dir) {
  return dir + "/ca.pem";
}
std::string CaKeyPath(const std::string& dir) {
  return dir + "/ca.key";
}
std::string CertPath(const std::string& dir, const PeerIdentity& identity) {
  return Stem(dir, identity) + ".pem";
}
std::string KeyPath(const std::string& dir, const PeerIdentity& identity) {
  return Stem(dir, identity) + ".key";
}
std::string ListenerCertPath(const std::string& dir) {
  return dir + "/listener.pem";
}
std::string ListenerKeyPath(const std::string& dir) {
  return dir + "/listener.key";
}

Status WriteClusterCertificates(const std::string& dir, const std::vector<std::string>& regions,
                                const std::vector<std::string>& clients,
                                const std::vector<std::string>& listener_hosts) {
  std::vector<PeerIdentity> identities;
  for (const std::string& name : regions) {
    identities.push_back({PeerRole::kRegion, name});
    identities.push_back({PeerRole::kRouter, name});
  }
  for (const std::string& name : clients) {
    identities.push_back({PeerRole::kClient, name});
  }
  for (const PeerIdentity& identity : identities) {
    MERIDIAN_RETURN_IF_ERROR(CheckIdentityName(identity.name));
  }
  if (listener_hosts.empty()) return InvalidArgument("the listener certificate needs a host");
  for (const std::string& host : listener_hosts) {
    MERIDIAN_RETURN_IF_ERROR(CheckListenerHost(host));
  }
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Unavailable(dir + ": " + error.message());
  if (std::filesystem::exists(CaCertPath(dir))) {
    return AlreadyExists(CaCertPath(dir) + " exists: refusing to replace a CA (contract 2)");
  }
  Result<CertificateAuthority> ca =
      CertificateAuthority::Create("Meridian cluster CA", kCertificateValidDays);
  if (!ca.ok()) return ca.status();
  for (const PeerIdentity& identity : identities) {
    Result<PemPair> pair = ca->Issue(identity, kCertificateValidDays);
    if (!pair.ok()) return pair.status();
    MERIDIAN_RETURN_IF_ERROR(WritePair(CertPath(dir, identity), KeyPath(dir, identity), *pair));
  }
  Result<PemPair> listener = ca->IssueServer(listener_hosts, kCertificateValidDays);
  if (!listener.ok()) return listener.status();
  MERIDIAN_RETURN_IF_ERROR(WritePair(ListenerCertPath(dir), ListenerKeyPath(dir), *listener));
  // The CA last: its presence says the directory is complete (contract 2 keys on it).
  return WritePair(CaCertPath(dir), CaKeyPath(dir), ca->pem());
}

Status EnsureListenerCertificate(const std::string& dir, const std::vector<std::string>& hosts) {
  if (std::filesystem::exists(ListenerCertPath(dir))) return Status::Ok();
  Result<std::string> cert = ReadTextFile(CaCertPath(dir));
  if (!cert.ok()) return cert.status();
  Result<std::string> key = ReadTextFile(CaKeyPath(dir));
  if (!key.ok()) {
    return NotFound(ListenerCertPath(dir) + " is missing and " + CaKeyPath(dir) +
                    " is not here to issue it: run `meridian certs` where the CA key is");
  }
  Result<CertificateAuthority> ca = CertificateAuthority::FromPem({*cert, *key});
  if (!ca.ok()) return ca.status();
  Result<PemPair> listener = ca->IssueServer(hosts, kCertificateValidDays);
  if (!listener.ok()) return listener.status();
  return WritePair(ListenerCertPath(dir), ListenerKeyPath(dir), *listener);
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return NotFound(path + ": read error");
  return text.str();
}

Result<TlsMaterial> LoadTlsMaterial(const std::string& dir, const PeerIdentity& identity) {
  TlsMaterial material;
  Result<std::string> ca = ReadTextFile(CaCertPath(dir));
  if (!ca.ok()) return ca.status();
  Result<std::string> cert = ReadTextFile(CertPath(dir, identity));
  if (!cert.ok()) return cert.status();
  Result<std::string> key = ReadTextFile(KeyPath(dir, identity));
  if (!key.ok()) return key.status();
  return TlsMaterial{*std::move(ca), *std::move(cert), *std::move(key)};
}

}  // namespace meridian
