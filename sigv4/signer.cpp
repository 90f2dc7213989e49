#include "ecrs/sigv4/signer.hpp"
// Implementation in progress.
