#include "ecrs/common/redacting_stream.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <sstream>

#include "ecrs/common/secret.hpp"

namespace ecrs {
namespace {

const std::string kToken = "IQoJb3JpZ2luX2VjEXAMPLEredactingStreamToken0123456789";

TEST(RedactingStream, BlanksARegisteredCredentialEvenWhenWrittenInPieces) {
  const Secret token(kToken);  // registering is what holding a credential does
  std::ostringstream target;
  {
    RedactingStreambuf buf(*target.rdbuf());
    std::ostream out(&buf);
    out << "error: InvalidSignatureException: x-amz-security-token:" << kToken.substr(0, 10);
    out << kToken.substr(10) << "\n";
    out << "second line " << kToken << std::flush;
  }
  EXPECT_EQ(target.str().find(kToken), std::string::npos) << target.str();
  EXPECT_EQ(target.str(), "error: InvalidSignatureException: x-amz-security-token:***\nsecond line ***");
}

TEST(RedactingStream, PassesOrdinaryTextThroughUnchangedAndInOrder) {
  std::ostringstream target;
  RedactingStreambuf buf(*target.rdbuf());
  std::ostream out(&buf);
  out << "deleted 300/840 (35%)\r" << std::flush;
  EXPECT_EQ(target.str(), "deleted 300/840 (35%)\r") << "a flushed progress line is written at once";
  out << 'x' << "yz\n" << 42;
  EXPECT_EQ(target.str(), "deleted 300/840 (35%)\rxyz\n") << "a partial line waits for its end";
  out.flush();
  EXPECT_EQ(target.str(), "deleted 300/840 (35%)\rxyz\n42");
}

}  // namespace
}  // namespace ecrs
