// tao's version. A release bumps it together with CHANGELOG.md; the release
// archive (`./bazelw run //:release -- <dir>`) is tao-<TAO_VERSION>.tar.gz.
#ifndef TAO_VERSION_H_
#define TAO_VERSION_H_

#define TAO_VERSION_MAJOR 0
#define TAO_VERSION_MINOR 1
#define TAO_VERSION_PATCH 0
#define TAO_VERSION "0.1.0"

#endif  // TAO_VERSION_H_
