// Names the calling thread (at most 15 characters are kept), so `top -H`, perf and gdb show
// which part of the server a thread belongs to.
#pragma once

#include <pthread.h>

namespace eventcrm {

inline void name_this_thread(const char* name) {
  ::pthread_setname_np(::pthread_self(), name);
}

}  // namespace eventcrm
