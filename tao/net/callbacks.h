// The callback types for connection events, in one place. The byte layer
// delivers events to a ConnectionHandler (connection_handler.h); these
// function types are what endpoints built on it (the message Server and
// Client) accept from users for the same events.
//
// They run on the connection's I/O loop thread. A callback must not block:
// it delays every other connection of that loop.
#ifndef TAO_NET_CALLBACKS_H_
#define TAO_NET_CALLBACKS_H_

#include <cstddef>
#include <functional>
#include <memory>

#include "absl/status/status.h"

namespace tao {

class Buffer;
class Connection;

using ConnectionPtr = std::shared_ptr<Connection>;

// A new connection is established. Returning false refuses it: the connection
// is closed at once (OnClose still runs, exactly once, like for any other).
using ConnectCallback = std::function<bool(Connection&)>;

// The connection is closed; runs exactly once per connection whose
// ConnectCallback ran. Connection::close_reason() says why (OK for an orderly
// close by either side).
using CloseCallback = std::function<void(Connection&)>;

// Something went wrong on the connection (bad input, I/O error, output cap).
// Runs before the CloseCallback when the error closes the connection.
using ErrorCallback = std::function<void(Connection&, const absl::Status&)>;

// Bytes arrived. The callback consumes what it can from the buffer
// (Buffer::Retrieve) and leaves partial frames for the next call.
using DataCallback = std::function<void(Connection&, Buffer&)>;

// Queued output crossed the high water mark going up (once per crossing).
using HighWaterMarkCallback = std::function<void(Connection&, size_t queued)>;

// Queued output fell to the low water mark or below after having crossed the
// high water mark; the connection is writable again.
using LowWaterMarkCallback = std::function<void(Connection&, size_t queued)>;

}  // namespace tao

#endif  // TAO_NET_CALLBACKS_H_
