#include "codec/message_id.h"

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "codec/proto/envelope.pb.h"
#include "codec/proto/test_messages.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

TEST(MessageTypeIdTest, ReadsTheOption) {
  EXPECT_EQ(MessageTypeId(*test::Chat::descriptor()).value(), 1);
  EXPECT_EQ(MessageTypeId(*test::Numbers::descriptor()).value(), 2);
  EXPECT_EQ(MessageTypeId(*test::Negative::descriptor()).value(), -5);
  EXPECT_EQ(MessageTypeId(*test::Duplicate::descriptor()).value(), 1);
}

TEST(MessageTypeIdTest, MissingOptionIsNotFoundNamingTheMessage) {
  for (const google::protobuf::Descriptor* d :
       {test::Untyped::descriptor(), Envelope::descriptor()}) {
    absl::StatusOr<int32_t> id = MessageTypeId(*d);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kNotFound);
    EXPECT_NE(id.status().message().find(d->full_name()), std::string::npos)
        << id.status();
  }
}

TEST(MessageTypeIdTest, RepeatedCallsAgree) {
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(MessageTypeId(*test::Chat::descriptor()).value(), 1);
    ASSERT_EQ(MessageTypeId(*test::Numbers::descriptor()).value(), 2);
    ASSERT_EQ(MessageTypeId(*test::Untyped::descriptor()).status().code(),
              absl::StatusCode::kNotFound);
  }
}

TEST(MessageTypeIdTest, ConcurrentCalls) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 10000; ++i) {
        ASSERT_EQ(MessageTypeId(*test::Chat::descriptor()).value(), 1);
        ASSERT_EQ(MessageTypeId(*test::Negative::descriptor()).value(), -5);
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

// Descriptors of a pool built at run time (as for DynamicMessage) work too,
// and are not cached: a later pool may reuse their addresses.
TEST(MessageTypeIdTest, DescriptorsFromARuntimePool) {
  for (int round = 0; round < 3; ++round) {
    google::protobuf::DescriptorPool pool;
    for (const google::protobuf::FileDescriptor* file :
         {google::protobuf::DescriptorProto::descriptor()->file(),
          Envelope::descriptor()->file()->pool()->FindFileByName(
              "codec/proto/options.proto"),
          test::Chat::descriptor()->file()}) {
      ASSERT_NE(file, nullptr);
      google::protobuf::FileDescriptorProto proto;
      file->CopyTo(&proto);
      ASSERT_NE(pool.BuildFile(proto), nullptr) << proto.name();
    }
    const google::protobuf::Descriptor* chat =
        pool.FindMessageTypeByName("tao.test.Chat");
    const google::protobuf::Descriptor* untyped =
        pool.FindMessageTypeByName("tao.test.Untyped");
    ASSERT_NE(chat, nullptr);
    ASSERT_NE(untyped, nullptr);
    ASSERT_NE(chat, test::Chat::descriptor());
    EXPECT_EQ(MessageTypeId(*chat).value(), 1);
    EXPECT_EQ(MessageTypeId(*untyped).status().code(),
              absl::StatusCode::kNotFound);
  }
}

}  // namespace
}  // namespace tao
