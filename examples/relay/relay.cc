#include "examples/relay/relay.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "examples/relay/backend.h"

namespace relay {

Relay::Relay(tao::ClientOptions upstream,
             const std::vector<int32_t>& answer_types) {
  for (int32_t type : answer_types) {
    TAO_CHECK(
        upstream_registry_
            .RegisterRaw(type,
                         [this](tao::Context& ctx, absl::string_view payload) {
                           Answer(ctx, payload);
                         })
            .ok());
  }
  upstream.codec = LinkCodec();
  upstream_ =
      std::make_unique<tao::Client>(std::move(upstream), &upstream_registry_);
  upstream_->OnClose([this](tao::Connection& c) {
    absl::MutexLock lock(&mu_);
    DropPending(c.id());
  });
}

Relay::~Relay() { Stop(); }

absl::Status Relay::RegisterRequests(
    tao::Registry* front, const std::vector<int32_t>& request_types) {
  for (int32_t type : request_types) {
    TAO_RETURN_IF_ERROR(front->RegisterRaw(
        type, [this](tao::Context& ctx, absl::string_view payload) {
          Forward(ctx, payload);
        }));
  }
  return absl::OkStatus();
}

absl::Status Relay::Connect(absl::string_view address, absl::Duration timeout) {
  TAO_RETURN_IF_ERROR(upstream_->Connect(address));
  return upstream_->WaitConnected(timeout);
}

void Relay::Forward(tao::Context& ctx, absl::string_view payload) {
  absl::MutexLock lock(&mu_);  // invariant 2
  tao::ConnectionPtr link = upstream_->connection();
  absl::Status sent =
      link == nullptr
          ? absl::UnavailableError("no connection to the back server")
          : upstream_->SendRaw(*link, ctx.type(), payload);
  if (!sent.ok()) {
    ctx.connection().CloseWithError(
        absl::UnavailableError(absl::StrCat("relay: ", sent.ToString())));
    return;
  }
  pending_.push_back(
      {ctx.connection().weak_from_this(), &ctx.endpoint(), link->id()});
}

void Relay::Answer(tao::Context& ctx, absl::string_view payload) {
  Pending asker;
  {
    absl::MutexLock lock(&mu_);
    // Entries of an earlier upstream connection (lost before its OnClose
    // dropped them) can never be answered on this one.
    while (!pending_.empty() && pending_.front().upstream_id != ctx.net_id()) {
      DropPending(pending_.front().upstream_id);
    }
    if (pending_.empty()) {
      ctx.connection().CloseWithError(absl::DataLossError(
          absl::StrCat("relay: an answer (type ", ctx.type(),
                       ") to no request from the back server")));
      return;
    }
    asker = pending_.front();
    pending_.pop_front();
    ++relayed_;
  }
  if (tao::ConnectionPtr client = asker.asker.lock(); client != nullptr) {
    (void)asker.front->SendRaw(*client, ctx.type(), payload);
  }
}

void Relay::DropPending(uint64_t upstream_id) {
  std::deque<Pending> kept;
  for (Pending& p : pending_) {
    if (p.upstream_id != upstream_id) {
      kept.push_back(std::move(p));
    } else if (tao::ConnectionPtr client = p.asker.lock(); client != nullptr) {
      client->CloseWithError(
          absl::UnavailableError("relay: the back server went away"));
    }
  }
  pending_.swap(kept);
}

uint64_t Relay::relayed() const {
  absl::MutexLock lock(&mu_);
  return relayed_;
}

}  // namespace relay
