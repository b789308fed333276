// RespRoute: how the router's RESP front end treats each client command. Pure functions, no I/O.
//
// Rules:
//  1. Every command Meridian's regions treat as a write (SET MSET INCR INCRBY DECR DECRBY HSET HDEL
//     SADD SREM DEL) is sent as `MERIDIAN.IDEM <key> <command...>` with a key the router draws
//     once per command, and every attempt sends the same bytes: a retry on another region is
//     deduplicated there, or, when the original had not reached it yet, reconciled once it does
//     (replica/idempotency.h). A command the client already wrapped in MERIDIAN.IDEM passes
//     untouched, as a client's Idempotency-Key does over HTTP.
//  2. Reads, connection-free commands (PING ECHO INFO ...) and writes tagged by rule 1 are retried
//     on the next region after a transport failure or a retryable error reply. Handle claims
//     (SET name owner NX) are writes too; the region ignores the key for them, since a claim is
//     idempotent by owner.
//  3. A command the router does not know is forwarded as it is (the region answers it), and after
//     a transport failure it is not retried, since it may have taken effect: the client gets an
//     error saying so.
//  4. Commands whose effect is the connection's own state are the router's (resp_own_commands.h):
//     HELLO, CLIENT, QUIT, SELECT, MERIDIAN.REGION, MERIDIAN.SESSION (the router keeps each
//     client's session token itself, since its upstream connections are shared between clients).
//  5. A region's reply is delivered verbatim, unless it is a retryable error (TRYAGAIN, LOADING,
//     CLUSTERDOWN, MASTERDOWN): then the next region is tried, and the reply is kept to deliver
//     if no region serves.
//  6. Residency (docs/residency.md): a command naming keys may go only to the regions that may
//     hold every one of them (RespAllowedRegions), as an HTTP request for a pinned key does. The
//     command's name gives the key's class where it fixes it (SET MSET: register; INCR INCRBY
//     DECR DECRBY: counter; H*: profile; S*: tags); where it does not (GET and MGET: register or
//     counter; DEL EXISTS TYPE: any class), the key may be of any of those classes, and the
//     command goes only to the regions allowed for all of them: a possibly pinned key never
//     leaves any set it may belong to. A region holds every unpinned key, so a command is
//     served by the regions in the intersection of its keys' sets; when that is empty (two keys,
//     or two classes of one key, pinned to disjoint sets) the router answers an error and sends
//     the command nowhere. Handles cannot be pinned (docs/residency.md), so a handle key
//     restricts nothing.
//  7. Sessions: every write, and every data read of a client whose session token is not zero,
//     is sent as `MERIDIAN.SESSIONED <token or -> <command...>` (outside MERIDIAN.IDEM), the
//     client's token as the router read the command: the region runs it as on a connection with
//     that session (a read waits until the region has applied the token) and answers
//     [reply, token after it, its write or nil] (server/resp_commands.h). The router merges the
//     token and keeps the write with the region that made it, and the client gets the reply
//     element alone, byte for byte. Every attempt sends the same bytes (rule 1). A reply that is
//     not such an array (the wrapper refused: -LOADING, -NOAUTH) is the reply itself. Rule 5
//     judges the reply element. The cost, on the router's upstream bytes only: 25 bytes and
//     the token as a bulk string on the request, 4 bytes and the token and write as bulk
//     strings on the reply (the token is 8 characters after writes in one region, at most 160).
//  8. WAIT n timeout is sent as `MERIDIAN.WAITFOR <write> n timeout` to the region that made the
//     client's last write, once the client's earlier commands are answered (so a write
//     pipelined before it counts), and only there: no other region can count that write's
//     copies as its region does. Without a write it is answered 0 at once, as a region does;
//     when that region cannot be reached the client gets -TRYAGAIN saying so.
//  9. Slices (docs/slices.md): in a cluster of sliced regions every command naming keys goes to
//     the slice of its keys' hash slot in whichever region serves it (RespCommandSlice; keys of
//     two slots are answered -CROSSSLOT by the router, as a region would), any other to slice
//     0; SCAN and DBSIZE, which a slice answers for its own keys, are refused. The client's
//     session token is one vector per slice (api/session_token.h), each sent
//     only to its own slice; WAIT goes to the slice and region of the client's last write.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/hash_slot.h"
#include "base/status.h"
#include "replica/residency.h"

namespace meridian::router {

enum class RespCommandKind {
  kRead,    // retried freely (rule 2)
  kWrite,   // tagged with MERIDIAN.IDEM, then retried (rules 1, 2)
  kTagged,  // already MERIDIAN.IDEM: retried (rule 1)
  kOther,   // unknown to the router: forwarded, not retried once sent (rule 3)
  kRouter,  // answered by the router (rule 4)
  kWait,    // WAIT: to the region of the client's last write (rule 8)
};

// The kind of a command named `name` (any case).
RespCommandKind ClassifyRespCommand(std::string_view name);

// Whether a command of `kind` may be sent again after a transport failure.
bool RetryAfterTransportFailure(RespCommandKind kind);

// Rule 7: whether `args` (MERIDIAN.IDEM looked through) reads or writes data, and so runs
// inside MERIDIAN.SESSIONED; `write`: whether it writes.
bool IsRespDataCommand(std::span<const std::string_view> args, bool* write = nullptr);

// The command as a RESP multibulk request, prefixed by `MERIDIAN.IDEM idempotency_key` unless the
// key is empty, and before that by `MERIDIAN.SESSIONED session_token` when it is set (empty:
// "-", no token). REQUIRES: args is not empty.
std::string EncodeRespRequest(std::span<const std::string_view> args,
                              std::string_view idempotency_key,
                              std::optional<std::string_view> session_token = std::nullopt);

// Rule 7: a MERIDIAN.SESSIONED reply taken apart; views into the frame.
struct SessionedReply {
  std::string_view reply;                 // the command's own reply frame, byte for byte
  std::string_view token;                 // the session token after the command
  std::optional<std::string_view> write;  // the command's last write, if it wrote
};
// nullopt when `frame` (one whole reply) is not a MERIDIAN.SESSIONED answer.
std::optional<SessionedReply> SplitSessionedReply(std::string_view frame);

// Rule 5: whether the reply `frame` (one whole RESP reply) says another region may serve the
// command: an error (simple or blob) whose code is TRYAGAIN, LOADING, CLUSTERDOWN or MASTERDOWN.
bool IsRetryableRespReply(std::string_view frame);

// Rule 6: the regions that may serve `args` (a client command, MERIDIAN.IDEM looked through)
// under `residency`; nullopt when no rule pins any of its keys (every region may). Keys starting
// with `strong_prefix` (non-empty) are handles. FailedPrecondition, naming the sets, when the
// keys' sets share no region.
Result<std::optional<RegionMask>> RespAllowedRegions(std::span<const std::string_view> args,
                                                     const Residency& residency,
                                                     std::string_view strong_prefix,
                                                     const std::vector<std::string>& region_names);

// Rule 9: the slice serving `args` (MERIDIAN.IDEM looked through): its keys' slice, 0 for a
// command without keys or when `slices` is not sliced. Refused (the message is the RESP error
// line, code first) when its keys hash to two slots (CROSSSLOT), and for SCAN and DBSIZE of
// sliced regions, which one slice would answer for its own keys alone.
Result<uint32_t> RespCommandSlice(std::span<const std::string_view> args, const KeySlices& slices);

}  // namespace meridian::router
