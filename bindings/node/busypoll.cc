// busypoll.cc -- the core's busy poll (pgatomic.h "Busy polling") on an
// event loop: just before libuv would sleep in epoll_wait, poll the loop's
// own epoll fd without sleeping, for as long as the core lets a connection
// awaiting an answer spin, and no longer than the next timer.  Any of the
// loop's I/O ends the spin, ours or not, so nothing else waits behind it;
// the loop then finds the event without sleeping.  The budget and when to
// stop spinning altogether are the core's: nothing is decided here.
#include <poll.h>

#include <algorithm>

#include "connection.h"

namespace {

// Sockets of awaiting connections polled beside the epoll fd: a watch
// started in this loop turn reaches epoll only inside uv_run's poll phase.
constexpr int kSocketsPolled = 15;

void OnPrepare(uv_prepare_t* prepare) {
  auto* addon = static_cast<Addon*>(prepare->data);
  if (addon == nullptr) {
    return;
  }
  uv_loop_t* loop = addon->loop;
  struct pollfd fds[1 + kSocketsPolled];
  int nfds = 1;
  fds[0] = {uv_backend_fd(loop), POLLIN, 0};
  int left_us = 0;
  for (Connection* conn : addon->connections) {
    int left = conn->BusyPollLeft();
    if (left > 0) {
      left_us = std::max(left_us, left);
      if (nfds < 1 + kSocketsPolled) {
        fds[nfds++] = {conn->Socket(), POLLIN, 0};
      }
    }
  }
  if (left_us == 0) {
    // Nobody awaits a fast answer: stop until the next round trip is sent.
    uv_prepare_stop(prepare);
    return;
  }
  int timeout_ms = uv_backend_timeout(loop);
  if (timeout_ms == 0) {
    return;  // the loop will not sleep this turn
  }
  uint64_t stop_ns = uv_hrtime() + static_cast<uint64_t>(left_us) * 1000;
  if (timeout_ms > 0) {
    // The timer is due at the loop's cached now plus timeout_ms.
    uint64_t timer_ns = (uv_now(loop) + static_cast<uint64_t>(timeout_ms)) * 1000000;
    stop_ns = std::min(stop_ns, timer_ns);
  }
  while (poll(fds, static_cast<nfds_t>(nfds), 0) == 0 && uv_hrtime() < stop_ns) {
  }
  // libuv computes epoll_wait's timeout from its cached now: without this
  // a timer would fire late by the time spent spinning.
  uv_update_time(loop);
}

void OnPrepareClosed(uv_handle_t* handle) {
  delete reinterpret_cast<uv_prepare_t*>(handle);
}

}  // namespace

void BusyPoll::Start(Addon* addon) {
  if (prepare_ == nullptr) {
    prepare_ = new uv_prepare_t;
    if (uv_prepare_init(addon->loop, prepare_) != 0) {
      delete prepare_;
      prepare_ = nullptr;
      return;
    }
    prepare_->data = addon;
    // The spin never keeps the process alive: the connection's poll does.
    uv_unref(reinterpret_cast<uv_handle_t*>(prepare_));
  }
  uv_prepare_start(prepare_, OnPrepare);
}

void BusyPoll::Close() {
  if (prepare_ != nullptr) {
    prepare_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(prepare_), OnPrepareClosed);
    prepare_ = nullptr;
  }
}
