#include "tls/chain_verify.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace meridian {

namespace {

struct FreeBio {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct FreeX509 {
  void operator()(X509* x509) const { X509_free(x509); }
};
struct FreeStack {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};
struct FreeStore {
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
};
struct FreeStoreCtx {
  void operator()(X509_STORE_CTX* ctx) const { X509_STORE_CTX_free(ctx); }
};

// Every certificate of a PEM text, in order; empty when none parses.
std::unique_ptr<STACK_OF(X509), FreeStack> ReadAll(std::string_view pem) {
  std::unique_ptr<STACK_OF(X509), FreeStack> all(sk_X509_new_null());
  std::unique_ptr<BIO, FreeBio> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!all || !bio) return all;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (sk_X509_push(all.get(), cert) == 0) {
      X509_free(cert);
      break;
    }
  }
  return all;
}

}  // namespace

Status VerifyChainToCa(std::string_view ca_pem, std::string_view chain_pem) {
  auto cas = ReadAll(ca_pem);
  if (!cas || sk_X509_num(cas.get()) == 0)
    return InvalidArgument("no CA certificate to verify with");
  auto chain = ReadAll(chain_pem);
  if (!chain || sk_X509_num(chain.get()) == 0)
    return PermissionDenied("the peer sent no certificate that parses");
  std::unique_ptr<X509_STORE, FreeStore> store(X509_STORE_new());
  if (!store) return Internal("X509_STORE_new failed");
  for (int i = 0; i < sk_X509_num(cas.get()); ++i) {
    if (X509_STORE_add_cert(store.get(), sk_X509_value(cas.get(), i)) != 1)
      return Internal("cannot add the CA to the store");
  }
  // The leaf leaves the stack (we own it); the rest stay as untrusted intermediates.
  std::unique_ptr<X509, FreeX509> leaf(sk_X509_shift(chain.get()));
  std::unique_ptr<X509_STORE_CTX, FreeStoreCtx> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), chain.get()) != 1)
    return Internal("X509_STORE_CTX_init failed");
  if (X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT) != 1)
    return Internal("X509_STORE_CTX_set_purpose failed");
  if (X509_verify_cert(ctx.get()) == 1) return Status::Ok();
  return PermissionDenied(std::string("certificate verify failed: ") +
                          X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
}

}  // namespace meridian
