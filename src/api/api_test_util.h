// Test helpers for the HTTP API tests: requests as a client would send them.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "api/http_api.h"

namespace meridian::testing {

// `target` may carry a query string; header names are given lower-case, as the server delivers.
inline HttpRequest MakeRequest(std::string method, std::string_view target, std::string body = "",
                               HttpFieldMap headers = {}) {
  HttpRequest request;
  request.method = std::move(method);
  request.target = std::string(target);
  const size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) {
    auto query = ParseQuery(target.substr(question + 1));
    EXPECT_TRUE(query.ok()) << target;
    if (query.ok()) request.query = std::move(*query);
  }
  request.headers = std::move(headers);
  request.body = std::move(body);
  return request;
}

inline ApiCommand Parse(std::string method, std::string_view target, std::string body = "",
                        HttpFieldMap headers = {}) {
  return ParseApiRequest(
      MakeRequest(std::move(method), target, std::move(body), std::move(headers)),
      ApiOptions{3, ""});
}

// The error of a refused request; a failed expectation (and an empty error) otherwise.
inline ApiError ErrorOf(const ApiCommand& command) {
  if (const auto* error = std::get_if<ApiError>(&command)) return *error;
  ADD_FAILURE() << "request was accepted, expected an error";
  return {};
}

// The write of an accepted write; a failed expectation (and an empty write) otherwise.
inline ClientWrite WriteOf(const ApiCommand& command) {
  if (const auto* write = std::get_if<WriteCommand>(&command)) return write->write;
  if (const auto* error = std::get_if<ApiError>(&command)) {
    ADD_FAILURE() << "refused: " << error->http_status << " " << error->message;
  } else {
    ADD_FAILURE() << "not a write";
  }
  return {};
}

inline ReadCommand ReadOf(const ApiCommand& command) {
  if (const auto* read = std::get_if<ReadCommand>(&command)) return *read;
  if (const auto* error = std::get_if<ApiError>(&command)) {
    ADD_FAILURE() << "refused: " << error->http_status << " " << error->message;
  } else {
    ADD_FAILURE() << "not a read";
  }
  return {};
}

}  // namespace meridian::testing
