// BroadcastOperator's presence queries (roomq/client.h): a selection
// becomes a v1::Presence walked page by page by the ClientCore.

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/src/client_core.h"
#include "roomq/client.h"

namespace roomq {
namespace {

// As the broker checks it (proto/roomq.proto Presence).
constexpr size_t kMaxPresenceRooms = 100;
constexpr size_t kMaxPageSize = 1000;

absl::StatusOr<v1::Presence> PresenceQuery(const BroadcastOperator& target) {
  if (absl::Status status =
          internal::ValidateTargets(target.ns(), target.rooms(), target.except_rooms());
      !status.ok()) {
    return status;
  }
  if (target.rooms().size() > kMaxPresenceRooms ||
      target.except_rooms().size() > kMaxPresenceRooms) {
    return absl::InvalidArgumentError(
        absl::StrCat("over ", kMaxPresenceRooms, " rooms in one presence query"));
  }
  v1::Presence query;
  query.set_namespace_(target.ns());
  query.mutable_rooms()->Assign(target.rooms().begin(), target.rooms().end());
  query.mutable_except_rooms()->Assign(target.except_rooms().begin(), target.except_rooms().end());
  query.set_except_socket(target.except_socket());
  return query;
}

SocketInfo ToSocketInfo(v1::Session& session) {
  SocketInfo info;
  info.id = std::move(*session.mutable_socket_id());
  info.ns = std::move(*session.mutable_namespace_());
  info.rooms.assign(std::make_move_iterator(session.mutable_rooms()->begin()),
                    std::make_move_iterator(session.mutable_rooms()->end()));
  info.data = std::move(*session.mutable_data());
  info.address = std::move(*session.mutable_address());
  info.user_agent = std::move(*session.mutable_user_agent());
  info.subject = std::move(*session.mutable_subject());
  info.gateway = std::move(*session.mutable_node());
  return info;
}

}  // namespace

absl::Status BroadcastOperator::FetchSocketPages(size_t page_size,
                                                 SocketPageHandler on_page) const {
  if (page_size == 0 || page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat("page size must be 1..", kMaxPageSize));
  }
  if (!on_page) return absl::InvalidArgumentError("FetchSocketPages needs a page handler");
  auto query = PresenceQuery(*this);
  if (!query.ok()) return query.status();
  query->set_limit(static_cast<uint32_t>(page_size));
  return core_->QueryPresence(
      *std::move(query), [on_page = std::move(on_page)](absl::StatusOr<v1::PresenceAnswer> answer) {
        if (!answer.ok()) return on_page(answer.status(), /*last=*/true);
        std::vector<SocketInfo> page;
        page.reserve(static_cast<size_t>(answer->sockets_size()));
        for (v1::Session& session : *answer->mutable_sockets())
          page.push_back(ToSocketInfo(session));
        return on_page(std::move(page), /*last=*/answer->next_after().empty());
      });
}

absl::Status BroadcastOperator::FetchSockets(SocketsCallback done) const {
  if (!done) return absl::InvalidArgumentError("FetchSockets needs a callback");
  auto all = std::make_shared<std::vector<SocketInfo>>();
  return FetchSocketPages(
      kMaxPageSize,
      [all, done = std::move(done)](absl::StatusOr<std::vector<SocketInfo>> page, bool last) {
        if (!page.ok()) {
          done(page.status());
          return false;
        }
        all->insert(all->end(), std::make_move_iterator(page->begin()),
                    std::make_move_iterator(page->end()));
        if (last) done(std::move(*all));
        return true;
      });
}

absl::Status BroadcastOperator::CountSockets(CountCallback done) const {
  if (!done) return absl::InvalidArgumentError("CountSockets needs a callback");
  auto query = PresenceQuery(*this);
  if (!query.ok()) return query.status();
  query->set_count_only(true);
  return core_->QueryPresence(*std::move(query),
                              [done = std::move(done)](absl::StatusOr<v1::PresenceAnswer> answer) {
                                if (!answer.ok()) {
                                  done(answer.status());
                                } else {
                                  done(answer->total());
                                }
                                return false;
                              });
}

}  // namespace roomq
