// FillMessage (proto_filler.h): a descriptor walk driven by the fuzzer's bytes.
#include "fuzz/proto_filler.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <algorithm>
#include <limits>

namespace meridian::fuzz {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

uint64_t Number(ByteSource& in) {
  switch (in.Below(8)) {
    case 0:
      return std::numeric_limits<uint64_t>::max() - in.Below(3);
    case 1:
      return in.U64();
    case 2:
      return in.Below(256);
    default:
      return in.Below(6);  // ids, sequence numbers and counters near the harness's
  }
}

std::string Text(ByteSource& in, const FillOptions& options) {
  const uint64_t pick = in.Below(8);
  if (pick < 5 && !options.dictionary.empty()) {
    return options.dictionary[in.Below(options.dictionary.size())];
  }
  if (pick == 5) return std::string(in.Below(256) * 8, static_cast<char>('a' + in.Below(26)));
  return in.Bytes(in.Below(24));
}

void FillDepth(ByteSource& in, const FillOptions& options, Message* message, int depth);

void SetOne(ByteSource& in, const FillOptions& options, Message* m, const FieldDescriptor* f,
            int depth) {
  const Reflection* r = m->GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      const auto v = static_cast<int32_t>(Number(in));
      rep ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      const auto v = static_cast<int64_t>(in.Bool() ? Number(in) : 0 - Number(in));
      rep ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      const auto v = static_cast<uint32_t>(Number(in));
      rep ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      const uint64_t v = Number(in);
      rep ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      const bool v = in.Bool();
      rep ? r->AddBool(m, f, v) : r->SetBool(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int v = static_cast<int>(in.Below(4));
      rep ? r->AddEnumValue(m, f, v) : r->SetEnumValue(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string v = Text(in, options);
      rep ? r->AddString(m, f, std::move(v)) : r->SetString(m, f, std::move(v));
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (depth >= options.depth_max) return;
      Message* child = rep ? r->AddMessage(m, f) : r->MutableMessage(m, f);
      FillDepth(in, options, child, depth + 1);
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      break;  // none in our protocol
  }
}

void FillDepth(ByteSource& in, const FillOptions& options, Message* message, int depth) {
  const auto* descriptor = message->GetDescriptor();
  // A oneof: one member, picked by the bytes (the message body of PeerMessage, StrongMessage).
  std::vector<const FieldDescriptor*> chosen;
  for (int i = 0; i < descriptor->oneof_decl_count(); ++i) {
    const auto* oneof = descriptor->oneof_decl(i);
    chosen.push_back(oneof->field(static_cast<int>(in.Below(oneof->field_count()))));
  }
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* f = descriptor->field(i);
    if (f->containing_oneof() != nullptr) {
      if (std::find(chosen.begin(), chosen.end(), f) == chosen.end()) continue;
    } else if (in.Below(4) == 0) {
      continue;  // absent now and then
    }
    if (!f->is_repeated()) {
      SetOne(in, options, message, f, depth);
      continue;
    }
    const size_t count = in.Below(16) == 0 ? in.Below(65) : in.Below(options.repeated_max + 1);
    for (size_t n = 0; n < count && !in.empty(); ++n)
      SetOne(in, options, message, f, depth);
  }
}

}  // namespace

void FillMessage(ByteSource& in, const FillOptions& options, Message* message) {
  FillDepth(in, options, message, 0);
}

}  // namespace meridian::fuzz
