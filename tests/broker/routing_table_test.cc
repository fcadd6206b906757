#include "broker/routing_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/allocation_counter.h"

namespace roomq::broker {
namespace {

using wire::NamespaceTopic;
using wire::NodeTopic;
using wire::RoomTopic;
using wire::ServiceTopic;

wire::EnvelopeRoute RoomsRoute(std::string_view ns, const std::vector<std::string_view>& rooms) {
  wire::EnvelopeRoute route;
  route.version = v1::VERSION_1;
  route.kind = v1::KIND_EVENT;
  route.channel = v1::CHANNEL_ROOMS;
  route.ns = ns;
  for (std::string_view room : rooms) route.rooms.push_back(room);
  return route;
}

wire::EnvelopeRoute ServiceRoute(std::string_view ns) {
  wire::EnvelopeRoute route = RoomsRoute(ns, {});
  route.channel = v1::CHANNEL_SERVICE;
  return route;
}

wire::EnvelopeRoute NodeRoute(std::string_view node) {
  wire::EnvelopeRoute route = RoomsRoute("", {});
  route.channel = v1::CHANNEL_NODE;
  route.node = node;
  return route;
}

// Identities of every visit, in visit order (duplicates kept, to catch them).
std::vector<std::string> Visits(RoutingTable& table, const wire::EnvelopeRoute& route) {
  std::vector<std::string> visits;
  table.Match(route, [&](const Subscriber& s) { visits.push_back(s.identity()); });
  std::sort(visits.begin(), visits.end());
  return visits;
}

using Ids = std::vector<std::string>;

TEST(RoutingTable, MatchesRoomsExactly) {
  RoutingTable table;
  Subscriber* a = table.AddSubscriber("A");
  table.Subscribe(a, RoomTopic("/chat", "a"));
  Subscriber* ab = table.AddSubscriber("AB");
  table.Subscribe(ab, RoomTopic("/chat", "ab"));
  Subscriber* chatx = table.AddSubscriber("X");
  table.Subscribe(chatx, RoomTopic("/chatx", "a"));

  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {"a"})), Ids{"A"});
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {"ab"})), Ids{"AB"});
  EXPECT_EQ(Visits(table, RoomsRoute("/chatx", {"a"})), Ids{"X"});
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {""})), Ids{});  // room "" is not room "a"
  EXPECT_EQ(Visits(table, RoomsRoute("/cha", {"ta"})), Ids{});
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {"b"})), Ids{});
  EXPECT_EQ(Visits(table, RoomsRoute("/", {"a"})), Ids{});
}

TEST(RoutingTable, NamespaceWideReachesEveryRoomsMemberOfThatNamespaceOnly) {
  RoutingTable table;
  Subscriber* rooms = table.AddSubscriber("rooms");
  table.Subscribe(rooms, RoomTopic("/chat", "a"));
  table.Subscribe(rooms, RoomTopic("/chat", "b"));
  Subscriber* ns_only = table.AddSubscriber("ns");
  table.Subscribe(ns_only, NamespaceTopic("/chat"));
  Subscriber* other_ns = table.AddSubscriber("other");
  table.Subscribe(other_ns, RoomTopic("/chatx", "a"));
  Subscriber* service = table.AddSubscriber("service");
  table.Subscribe(service, ServiceTopic("/chat"));

  // Each member once, even with two rooms in the namespace.
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {})), (Ids{"ns", "rooms"}));
  EXPECT_EQ(Visits(table, RoomsRoute("/chatx", {})), Ids{"other"});
  EXPECT_EQ(Visits(table, RoomsRoute("/cha", {})), Ids{});
  EXPECT_EQ(table.NamespaceMemberCount("/chat"), 2u);
  // The namespace-alone subscription is an exact topic too.
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {""})), Ids{"ns"});
}

TEST(RoutingTable, MultiRoomVisitsEachSubscriberAtMostOnce) {
  RoutingTable table;
  Subscriber* both = table.AddSubscriber("both");
  table.Subscribe(both, RoomTopic("/chat", "a"));
  table.Subscribe(both, RoomTopic("/chat", "b"));
  Subscriber* only_b = table.AddSubscriber("only_b");
  table.Subscribe(only_b, RoomTopic("/chat", "b"));

  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {"a", "b"})), (Ids{"both", "only_b"}));
  // Repeated rooms and repeated matches stay single.
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {"b", "a", "b", "a"})), (Ids{"both", "only_b"}));
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {"a", "b"})), (Ids{"both", "only_b"}));
}

TEST(RoutingTable, ServiceAndNodeChannelsAreSeparateTopics) {
  RoutingTable table;
  Subscriber* svc = table.AddSubscriber("svc");
  table.Subscribe(svc, ServiceTopic("/chat"));
  table.Subscribe(svc, NodeTopic("svc-1"));
  Subscriber* room = table.AddSubscriber("room");
  table.Subscribe(room, NamespaceTopic("/chat"));

  EXPECT_EQ(Visits(table, ServiceRoute("/chat")), Ids{"svc"});
  EXPECT_EQ(Visits(table, ServiceRoute("/chatx")), Ids{});
  EXPECT_EQ(Visits(table, NodeRoute("svc-1")), Ids{"svc"});
  EXPECT_EQ(Visits(table, NodeRoute("svc-12")), Ids{});
  // A service subscription does not make its holder a namespace member.
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {})), Ids{"room"});
}

wire::EnvelopeRoute SocketServiceRoute(std::string_view ns, std::string_view socket_id) {
  wire::EnvelopeRoute route = ServiceRoute(ns);
  route.socket_id = socket_id;
  return route;
}

TEST(RoutingTable, AQueueGroupGetsEachServiceEnvelopeOnceWhileOthersGetAll) {
  RoutingTable table;
  for (const char* id : {"echo-1", "echo-2", "echo-3"}) {
    table.Subscribe(table.AddSubscriber(id), ServiceTopic("/chat", "echo"));
  }
  table.Subscribe(table.AddSubscriber("audit-1"), ServiceTopic("/chat", "audit"));
  table.Subscribe(table.AddSubscriber("log"), ServiceTopic("/chat"));
  table.Subscribe(table.AddSubscriber("other-ns"), ServiceTopic("/other", "echo"));
  EXPECT_EQ(table.ServiceGroupCount("/chat"), 2u);

  std::map<std::string, int> per_member;
  for (int i = 0; i < 300; ++i) {
    const std::string socket_id = "s" + std::to_string(i);
    Ids visits = Visits(table, SocketServiceRoute("/chat", socket_id));
    ASSERT_EQ(visits.size(), 3u) << socket_id;  // one echo, audit-1, log
    EXPECT_EQ(visits[0], "audit-1");
    EXPECT_EQ(visits[2], "log");
    ++per_member[visits[1]];
    // Every envelope about one socket goes to the same member.
    EXPECT_EQ(Visits(table, SocketServiceRoute("/chat", socket_id)), visits);
  }
  ASSERT_EQ(per_member.size(), 3u);  // spread over all three
  for (const auto& [member, count] : per_member) EXPECT_GT(count, 50) << member;
}

TEST(RoutingTable, ALeavingGroupMemberMovesOnlyItsOwnSockets) {
  RoutingTable table;
  Subscriber* one = table.AddSubscriber("echo-1");
  table.Subscribe(one, ServiceTopic("/chat", "echo"));
  table.Subscribe(table.AddSubscriber("echo-2"), ServiceTopic("/chat", "echo"));
  table.Subscribe(table.AddSubscriber("echo-3"), ServiceTopic("/chat", "echo"));
  std::map<std::string, std::string> before;
  for (int i = 0; i < 300; ++i) {
    const std::string socket_id = "s" + std::to_string(i);
    before[socket_id] = Visits(table, SocketServiceRoute("/chat", socket_id)).at(0);
  }
  table.RemoveSubscriber(one);
  std::set<std::string> took_over;
  for (const auto& [socket_id, member] : before) {
    const Ids now = Visits(table, SocketServiceRoute("/chat", socket_id));
    ASSERT_EQ(now.size(), 1u);
    if (member == "echo-1") {
      took_over.insert(now[0]);
    } else {
      EXPECT_EQ(now[0], member) << socket_id;
    }
  }
  EXPECT_EQ(took_over, (std::set<std::string>{"echo-2", "echo-3"}));
  // The last member gone, the group is gone.
  table.RemoveSubscriber(table.FindSubscriber("echo-2"));
  table.Unsubscribe(table.FindSubscriber("echo-3"), ServiceTopic("/chat", "echo"));
  EXPECT_EQ(table.ServiceGroupCount("/chat"), 0u);
  EXPECT_EQ(Visits(table, SocketServiceRoute("/chat", "s1")), Ids{});
}

// Every publisher's envelopes spread evenly, whatever its name: with a fair
// hash a split worse than 50/150 of 200 is a 7-sigma event, while absl::Hash's
// raw values (before routing_table.cc's Mix) gave one for about 9% of names.
TEST(RoutingTable, ServiceEnvelopesWithoutASocketSpreadOverTheGroup) {
  RoutingTable table;
  table.Subscribe(table.AddSubscriber("echo-1"), ServiceTopic("/chat", "echo"));
  table.Subscribe(table.AddSubscriber("echo-2"), ServiceTopic("/chat", "echo"));
  wire::EnvelopeRoute route = ServiceRoute("/chat");
  for (int origin = 0; origin < 50; ++origin) {
    const std::string name = "svc-" + std::to_string(origin);
    route.origin = name;
    std::map<std::string, int> per_member;
    for (uint64_t id = 1; id <= 200; ++id) {
      route.message_id = id;
      const Ids visits = Visits(table, route);
      ASSERT_EQ(visits.size(), 1u);
      ++per_member[visits[0]];
    }
    EXPECT_GT(per_member["echo-1"], 50) << name;
    EXPECT_GT(per_member["echo-2"], 50) << name;
  }
}

TEST(RoutingTable, AFamilysServiceEnvelopesGoToTheFamilyNotTheChild) {
  RoutingTable table;
  table.Subscribe(table.AddSubscriber("family-1"), ServiceTopic("^/t-\\w+$", "svc"));
  table.Subscribe(table.AddSubscriber("family-2"), ServiceTopic("^/t-\\w+$", "svc"));
  table.Subscribe(table.AddSubscriber("family-log"), ServiceTopic("^/t-\\w+$"));
  table.Subscribe(table.AddSubscriber("child"), ServiceTopic("/t-a"));
  wire::EnvelopeRoute route = SocketServiceRoute("/t-a", "s1");
  route.service_family = "^/t-\\w+$";
  const Ids visits = Visits(table, route);
  ASSERT_EQ(visits.size(), 2u);
  EXPECT_TRUE(visits[0] == "family-1" || visits[0] == "family-2") << visits[0];
  EXPECT_EQ(visits[1], "family-log");
  route.service_family = {};
  EXPECT_EQ(Visits(table, route), Ids{"child"});
}

TEST(RoutingTable, AServerSideEmitReachesEveryMemberOfEveryGroup) {
  RoutingTable table;
  table.Subscribe(table.AddSubscriber("echo-1"), ServiceTopic("/chat", "echo"));
  table.Subscribe(table.AddSubscriber("echo-2"), ServiceTopic("/chat", "echo"));
  table.Subscribe(table.AddSubscriber("audit-1"), ServiceTopic("/chat", "audit"));
  table.Subscribe(table.AddSubscriber("log"), ServiceTopic("/chat"));
  wire::EnvelopeRoute route = SocketServiceRoute("/chat", "s1");
  EXPECT_EQ(Visits(table, route).size(), 3u);  // one per group, and the group-less one
  route.kind = v1::KIND_SERVER_EVENT;
  Ids visits = Visits(table, route);
  std::sort(visits.begin(), visits.end());
  EXPECT_EQ(visits, (Ids{"audit-1", "echo-1", "echo-2", "log"}));
}

TEST(RoutingTable, ASubscriberInAGroupAndWithoutOneIsVisitedOnce) {
  RoutingTable table;
  Subscriber* both = table.AddSubscriber("both");
  table.Subscribe(both, ServiceTopic("/chat"));
  table.Subscribe(both, ServiceTopic("/chat", "echo"));
  EXPECT_EQ(Visits(table, SocketServiceRoute("/chat", "s1")), Ids{"both"});
}

TEST(RoutingTable, SubscribeIsIdempotentAndUnsubscribeUndoesIt) {
  RoutingTable table;
  Subscriber* s = table.AddSubscriber("s");
  EXPECT_TRUE(table.Subscribe(s, RoomTopic("/chat", "a")));
  EXPECT_FALSE(table.Subscribe(s, RoomTopic("/chat", "a")));
  EXPECT_TRUE(table.Subscribe(s, RoomTopic("/chat", "b")));
  EXPECT_EQ(table.SubscriberCountOf(RoomTopic("/chat", "a")), 1u);
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {"a"})), Ids{"s"});

  EXPECT_TRUE(table.Unsubscribe(s, RoomTopic("/chat", "a")));
  EXPECT_FALSE(table.Unsubscribe(s, RoomTopic("/chat", "a")));
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {"a"})), Ids{});
  // Still a namespace member through room b.
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {})), Ids{"s"});
  EXPECT_TRUE(table.Unsubscribe(s, RoomTopic("/chat", "b")));
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {})), Ids{});
  EXPECT_EQ(table.NamespaceMemberCount("/chat"), 0u);
  EXPECT_EQ(table.topic_count(), 0u);
  EXPECT_EQ(s->topic_count(), 0u);
}

TEST(RoutingTable, RemoveSubscriberCleansBothDirections) {
  RoutingTable table;
  Subscriber* gone = table.AddSubscriber("gone");
  Subscriber* stays = table.AddSubscriber("stays");
  for (Subscriber* s : {gone, stays}) {
    table.Subscribe(s, RoomTopic("/chat", "a"));
    table.Subscribe(s, ServiceTopic("/chat"));
  }
  table.Subscribe(gone, RoomTopic("/other", "x"));
  table.Subscribe(gone, NodeTopic("gone-node"));
  ASSERT_EQ(table.topic_count(), 4u);

  table.RemoveSubscriber(gone);
  EXPECT_EQ(table.FindSubscriber("gone"), nullptr);
  EXPECT_EQ(table.subscriber_count(), 1u);
  EXPECT_EQ(table.topic_count(), 2u);  // /other#x and node:gone-node are gone with it
  EXPECT_EQ(table.SubscriberCountOf(RoomTopic("/chat", "a")), 1u);
  EXPECT_EQ(table.SubscriberCountOf(NodeTopic("gone-node")), 0u);
  EXPECT_EQ(table.NamespaceMemberCount("/other"), 0u);
  EXPECT_EQ(table.NamespaceMemberCount("/chat"), 1u);
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {"a"})), Ids{"stays"});
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {})), Ids{"stays"});
  EXPECT_EQ(Visits(table, RoomsRoute("/other", {})), Ids{});
  EXPECT_EQ(Visits(table, ServiceRoute("/chat")), Ids{"stays"});
}

TEST(RoutingTable, ClearSubscriptionsKeepsTheSubscriber) {
  RoutingTable table;
  Subscriber* s = table.AddSubscriber("s");
  table.Subscribe(s, RoomTopic("/chat", "a"));
  table.ClearSubscriptions(s);
  EXPECT_EQ(table.FindSubscriber("s"), s);
  EXPECT_EQ(table.topic_count(), 0u);
  EXPECT_EQ(table.NamespaceMemberCount("/chat"), 0u);
  EXPECT_TRUE(table.Subscribe(s, RoomTopic("/chat", "a")));
  EXPECT_EQ(Visits(table, RoomsRoute("/chat", {})), Ids{"s"});
}

TEST(RoutingTable, AddSubscriberReturnsTheExistingOne) {
  RoutingTable table;
  Subscriber* first = table.AddSubscriber(std::string("\0id", 3));
  EXPECT_EQ(table.AddSubscriber(std::string("\0id", 3)), first);
  EXPECT_EQ(table.FindSubscriber(std::string("\0id", 3)), first);
  EXPECT_EQ(table.FindSubscriber("id"), nullptr);
  EXPECT_EQ(table.subscriber_count(), 1u);
}

TEST(RoutingTable, MatchAllocatesNothing) {
  RoutingTable table;
  for (const char* id : {"s1", "s2", "s3"}) {
    Subscriber* s = table.AddSubscriber(id);
    table.Subscribe(s, RoomTopic("/chat", "a"));
    table.Subscribe(s, RoomTopic("/chat", "b"));
    table.Subscribe(s, ServiceTopic("/chat"));
    table.Subscribe(s, ServiceTopic("/chat", "group"));
  }
  const auto multi = RoomsRoute("/chat", {"a", "b", "missing"});
  const auto wide = RoomsRoute("/chat", {});
  const auto service = ServiceRoute("/chat");
  int visits = 0;
  auto count = [&](const Subscriber&) { ++visits; };
  table.Match(multi, count);  // the key scratch buffer grows here, once
  test_support::AllocationScope scope;
  for (int i = 0; i < 100; ++i) {
    table.Match(multi, count);
    table.Match(wide, count);
    table.Match(service, count);
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(visits, 3 + 100 * 9);
}

TEST(RoutingTable, AgreesWithABruteForceModel) {
  // Random subscribe/unsubscribe/remove sequences checked against a naive
  // model: subscriber -> set of (ns, room).
  std::mt19937 rng(42);
  const std::vector<std::string> namespaces = {"/", "/a", "/ab"};
  const std::vector<std::string> rooms = {"", "x", "xy", "y"};
  RoutingTable table;
  std::map<std::string, std::set<std::pair<std::string, std::string>>> model;
  auto pick = [&](const auto& v) -> const auto& { return v[rng() % v.size()]; };
  for (int step = 0; step < 5000; ++step) {
    const std::string id = "s" + std::to_string(rng() % 6);
    const std::string& ns = pick(namespaces);
    const std::string& room = pick(rooms);
    switch (rng() % 5) {
      case 0:
      case 1:
        table.Subscribe(table.AddSubscriber(id), RoomTopic(ns, room));
        model[id].insert({ns, room});
        break;
      case 2:
        if (Subscriber* s = table.FindSubscriber(id)) table.Unsubscribe(s, RoomTopic(ns, room));
        if (model.contains(id)) model[id].erase({ns, room});
        break;
      case 3:
        if (rng() % 4 == 0) {
          if (Subscriber* s = table.FindSubscriber(id)) table.RemoveSubscriber(s);
          model.erase(id);
        }
        break;
      case 4: {
        std::vector<std::string_view> targets;
        for (int n = static_cast<int>(rng() % 3); n > 0; --n) targets.push_back(pick(rooms));
        Ids expected;
        for (const auto& [sub, topics] : model) {
          bool hit = false;
          for (const auto& [tns, troom] : topics) {
            if (tns != ns) continue;
            if (targets.empty()) hit = true;
            for (std::string_view t : targets) hit = hit || t == troom;
          }
          if (hit) expected.push_back(sub);
        }
        ASSERT_EQ(Visits(table, RoomsRoute(ns, targets)), expected)
            << "step " << step << " ns " << ns << " targets " << targets.size();
        break;
      }
    }
  }
}

}  // namespace
}  // namespace roomq::broker
