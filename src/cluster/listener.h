// Which process holds a listening socket: how the demo supervisor tells its own child's answer
// from another cluster's on the same port (a second demo on busy ports once probed the first
// demo's regions and called itself ready).
//
// Contract:
//  1. ProcessListensOn is true only when one of `pid`'s open file descriptors is a TCP socket
//     (IPv4 or IPv6) in the LISTEN state on `port`, any local address. It reads /proc and never
//     blocks; an unreadable /proc entry (the process is gone, or not ours) reads as false.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace meridian {

bool ProcessListensOn(pid_t pid, uint16_t port);

}  // namespace meridian
