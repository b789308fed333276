// resp_benchmark: the Redis protocol codec's cost per command, the part of a RESP request's CPU
// that is ours before any store work (DESIGN.md section 8 budgets server CPU per request at
// 2x redis-server's).
//
//   ParsePipelinedSetGet  a redis-benchmark-like stream (SET key:<12 digits> <value>, GET key,
//                         alternating) arriving in 16 KiB reads (Redis's PROTO_IOBUF_LEN), each
//                         read appended, drained with Next(), then compacted: what a connection's
//                         pass does. Items are commands; value size is the argument.
//   ParseInline           the same commands sent inline, as telnet would.
//   ParseLargeValue       one SET of a 1 MiB value in 16 KiB reads: bytes per second, the
//                         evidence that a large bulk is not rescanned or moved per read.
//   Write*                the replies those commands get, appended to a reused output buffer.
//
// Run:  resp_benchmark [Google Benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "resp/resp_parser.h"
#include "resp/resp_writer.h"

namespace meridian {
namespace {

constexpr size_t kCommands = 1000;
constexpr size_t kReadBytes = 16 * 1024;

std::string Key(size_t i) {
  char key[32];
  std::snprintf(key, sizeof(key), "key:%012zu", i * 7919 % 100000);
  return key;
}

std::string Bulk(std::string_view bytes) {
  return "$" + std::to_string(bytes.size()) + "\r\n" + std::string(bytes) + "\r\n";
}

std::string SetGetStream(size_t value_bytes, bool inline_form) {
  const std::string value(value_bytes, 'v');
  std::string stream;
  for (size_t i = 0; i < kCommands; ++i) {
    const std::string key = Key(i / 2);
    if (inline_form) {
      stream += i % 2 == 0 ? "SET " + key + " " + value + "\r\n" : "GET " + key + "\r\n";
    } else if (i % 2 == 0) {
      stream += "*3\r\n" + Bulk("SET") + Bulk(key) + Bulk(value);
    } else {
      stream += "*2\r\n" + Bulk("GET") + Bulk(key);
    }
  }
  return stream;
}

// Feeds `stream` in reads of kReadBytes the way a connection's pass would; returns the commands.
size_t ParseInReads(RespParser& parser, std::string_view stream) {
  size_t commands = 0;
  for (size_t at = 0; at < stream.size(); at += kReadBytes) {
    const std::string_view read = stream.substr(at, kReadBytes);
    const std::span<char> tail = parser.PrepareAppend(read.size());
    read.copy(tail.data(), read.size());
    parser.CommitAppend(read.size());
    while (parser.Next() == RespParser::Outcome::kCommand) {
      benchmark::DoNotOptimize(parser.args().data());
      ++commands;
    }
    parser.Compact();
  }
  return commands;
}

void RunParse(benchmark::State& state, bool inline_form) {
  const std::string stream = SetGetStream(static_cast<size_t>(state.range(0)), inline_form);
  RespParser parser;
  for (auto _ : state) {
    if (ParseInReads(parser, stream) != kCommands) state.SkipWithError("lost commands");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kCommands));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}

void BM_ParsePipelinedSetGet(benchmark::State& state) {
  RunParse(state, false);
}
BENCHMARK(BM_ParsePipelinedSetGet)->ArgName("value_bytes")->Arg(16)->Arg(128)->Arg(1024);

void BM_ParseInline(benchmark::State& state) {
  RunParse(state, true);
}
BENCHMARK(BM_ParseInline)->ArgName("value_bytes")->Arg(16)->Arg(128);

void BM_ParseLargeValue(benchmark::State& state) {
  const std::string stream =
      "*3\r\n" + Bulk("SET") + Bulk("key") + Bulk(std::string(size_t{1} << 20, 'v'));
  RespParser parser;
  for (auto _ : state) {
    if (ParseInReads(parser, stream) != 1) state.SkipWithError("lost the command");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_ParseLargeValue);

// Writes kCommands replies with `write` per iteration into a reused buffer.
template <typename Write>
void RunWrite(benchmark::State& state, RespVersion version, Write write) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    RespWriter writer(&out, version);
    for (size_t i = 0; i < kCommands; ++i)
      write(writer, i);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kCommands));
}

void BM_WriteOk(benchmark::State& state) {
  RunWrite(state, RespVersion::kResp2, [](RespWriter& w, size_t) { w.WriteSimpleString("OK"); });
}
BENCHMARK(BM_WriteOk);

void BM_WriteBulk(benchmark::State& state) {
  const std::string value(static_cast<size_t>(state.range(0)), 'v');
  RunWrite(state, RespVersion::kResp2, [&](RespWriter& w, size_t) { w.WriteBulk(value); });
}
BENCHMARK(BM_WriteBulk)->ArgName("value_bytes")->Arg(16)->Arg(128)->Arg(1024);

void BM_WriteInteger(benchmark::State& state) {
  RunWrite(state, RespVersion::kResp2,
           [](RespWriter& w, size_t i) { w.WriteInteger(static_cast<int64_t>(i * 1234567)); });
}
BENCHMARK(BM_WriteInteger);

void BM_WriteNull(benchmark::State& state) {
  RunWrite(state, RespVersion::kResp2, [](RespWriter& w, size_t) { w.WriteNull(); });
}
BENCHMARK(BM_WriteNull);

// An HGETALL-like reply: a map of 5 field/value pairs, as RESP3 sends it.
void BM_WriteMapOf5(benchmark::State& state) {
  RunWrite(state, RespVersion::kResp3, [](RespWriter& w, size_t) {
    static constexpr std::string_view kFields[] = {"name", "email", "city", "plan", "since"};
    w.WriteMapHeader(5);
    for (std::string_view field : kFields) {
      w.WriteBulk(field);
      w.WriteBulk("a typical value");
    }
  });
}
BENCHMARK(BM_WriteMapOf5);

void BM_WriteDouble(benchmark::State& state) {
  RunWrite(state, RespVersion::kResp3,
           [](RespWriter& w, size_t i) { w.WriteDouble(static_cast<double>(i) * 0.37); });
}
BENCHMARK(BM_WriteDouble);

}  // namespace
}  // namespace meridian

BENCHMARK_MAIN();
