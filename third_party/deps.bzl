"""The external repositories tao needs, for tao's WORKSPACE and for its users.

    load("@tao//third_party:deps.bzl", "tao_deps")
    tao_deps()

Every repository keeps its canonical upstream name and is declared only if the
WORKSPACE has not declared it already, so a user can substitute the upstream
archive of any of them by declaring it before calling tao_deps(). Nothing is
downloaded by Bazel: each comes from a Debian 12 package (see README.md), and
tao's own files are found through labels, never through paths into its tree.
"""

load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")

_ADD_DEB_SRC = (
    "as root run: sed -e '/^#/d' -e 's/^Types:.*/Types: deb-src/' " +
    "/etc/apt/sources.list.d/debian.sources >/etc/apt/sources.list.d/tao-src.sources " +
    "&& apt-get update"
)

def _what_to_run(rctx, apt_error, package, cache):
    """The one-line advice for a failed `apt-get source`."""
    if "deb-src" in apt_error or "Unable to find a source package" in apt_error:
        has_deb_src = rctx.execute([
            "grep",
            "-rqsE",
            "^(Types:.*deb-src|deb-src )",
            "/etc/apt/sources.list",
            "/etc/apt/sources.list.d/",
        ]).return_code == 0
        advice = "as root run: apt-get update" if has_deb_src else _ADD_DEB_SRC
    else:
        advice = "check that Debian's archive is reachable"
    return advice + " (or put %s_*.dsc and its tarballs into %s)" % (package, cache)

def _newest_dsc(rctx, directory, package):
    """The <package>_<version>.dsc in directory with the highest version, or None."""
    if not directory.exists:
        return None
    newest = None
    for f in directory.readdir():
        if not (f.basename.startswith(package + "_") and f.basename.endswith(".dsc")):
            continue
        version = f.basename[len(package) + 1:-len(".dsc")]
        if newest == None or rctx.execute(
            ["dpkg", "--compare-versions", version, "gt", newest[0]],
        ).return_code == 0:
            newest = (version, f)
    return newest[1] if newest else None

def _first_error(result):
    """The first apt 'E:' line of a failed command, or its last output line."""
    lines = (result.stderr + "\n" + result.stdout).strip().splitlines()
    for line in lines:
        if line.startswith("E:"):
            return line
    return lines[-1] if lines else "exit status %d" % result.return_code

def _debian_source_repository_impl(rctx):
    package = rctx.attr.package
    env = rctx.os.environ
    cache_home = env.get("XDG_CACHE_HOME") or env.get("HOME", "/nonexistent") + "/.cache"
    cache = rctx.path(cache_home + "/tao/debsrc")

    dsc = _newest_dsc(rctx, cache, package)
    if not dsc:
        if not rctx.which("apt-get"):
            fail("tao: cannot get %s's Debian source package: apt-get not found (tao builds on Debian 12)" % package)

        # Download into the shared cache when it is writable (./bazelw and
        # every other workspace on the machine reuse it), else right here.
        into = cache
        if rctx.execute(["mkdir", "-p", str(cache)]).return_code != 0 or \
           rctx.execute(["test", "-w", str(cache)]).return_code != 0:
            into = rctx.path("_download")
            rctx.execute(["mkdir", "-p", str(into)])
        rctx.report_progress("apt-get source --download-only " + package)
        result = rctx.execute(
            ["apt-get", "source", "--download-only", package],
            working_directory = str(into),
            timeout = 900,
        )
        if result.return_code != 0:
            error = _first_error(result)
            fail("tao: cannot get %s's Debian source package (apt-get source --download-only %s: %s); %s" %
                 (package, package, error, _what_to_run(rctx, error, package, cache)))
        dsc = _newest_dsc(rctx, into, package)
        if not dsc:
            fail("tao: apt-get source --download-only %s left no %s_*.dsc in %s" % (package, package, into))

    if not rctx.which("dpkg-source"):
        fail("tao: dpkg-source not found; as root run: apt-get install -y dpkg-dev")

    # dpkg-source -x checks the tarballs against the .dsc and applies Debian's
    # patches (security fixes included); it unpacks into a new directory.
    rctx.report_progress("dpkg-source -x " + dsc.basename)
    result = rctx.execute(["dpkg-source", "-x", str(dsc), "_unpacked"], timeout = 600)
    if result.return_code != 0:
        fail("tao: dpkg-source -x %s failed (%s); delete it from %s to download it again" %
             (dsc, _first_error(result), dsc.dirname))
    result = rctx.execute([
        "sh",
        "-c",
        "find _unpacked -mindepth 1 -maxdepth 1 -exec mv -f -t . {} + && rmdir _unpacked && rm -rf _download",
    ])
    if result.return_code != 0:
        fail("tao: cannot move the unpacked %s source into place: %s" % (package, _first_error(result)))
    rctx.file("DEBIAN_SOURCE", dsc.basename + "\n")

debian_source_repository = repository_rule(
    implementation = _debian_source_repository_impl,
    doc = "A Debian source package, unpacked with `dpkg-source -x` (which applies " +
          "Debian's patches). Taken from ~/.cache/tao/debsrc if a .dsc is there, " +
          "else fetched with `apt-get source --download-only` (needs a deb-src entry).",
    attrs = {
        "package": attr.string(mandatory = True, doc = "the source package, e.g. abseil"),
    },
    environ = ["HOME", "XDG_CACHE_HOME"],
)

def _tao_shim_repository_impl(rctx):
    directory = rctx.path(rctx.attr.build_file).dirname
    for entry in directory.readdir():
        rctx.symlink(entry, entry.basename)
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

tao_shim_repository = repository_rule(
    implementation = _tao_shim_repository_impl,
    doc = "A small repository kept in tao's tree: the directory of `build_file`.",
    attrs = {
        "build_file": attr.label(mandatory = True, allow_single_file = True),
    },
)

def tao_deps():
    """Declares the repositories tao's libraries need (what @tao//tao builds with)."""

    # Bazel 4.2.3's bazel_tools only needs @rules_cc//cc:defs.bzl re-exporting
    # the native rules; Debian's bazel-rules-cc is too new for Bazel 4.2.3.
    maybe(
        tao_shim_repository,
        name = "rules_cc",
        build_file = Label("//third_party/rules_cc:BUILD"),
    )
    maybe(
        native.local_repository,
        name = "rules_java",
        path = "/usr/share/bazel/rules/java",
    )
    maybe(
        native.local_repository,
        name = "bazel_skylib",
        path = "/usr/share/bazel/tools/skylib",
    )
    maybe(
        native.local_repository,
        name = "platforms",
        path = "/usr/share/bazel/tools/platforms",
    )

    # Every cc_test needs these labels to exist; coverage is not available offline.
    maybe(
        tao_shim_repository,
        name = "remote_coverage_tools",
        build_file = Label("//third_party/remote_coverage_tools:BUILD"),
    )

    # Abseil built from Debian's source package, so ThreadSanitizer sees
    # absl::Mutex and the labels are upstream's.
    maybe(
        debian_source_repository,
        name = "com_google_absl",
        package = "abseil",
    )
    maybe(
        native.new_local_repository,
        name = "com_google_protobuf",
        build_file = str(Label("//third_party/protobuf:BUILD.system")),
        path = "/usr",
    )
    maybe(
        native.new_local_repository,
        name = "com_github_google_flatbuffers",
        build_file = str(Label("//third_party/flatbuffers:BUILD.system")),
        path = "/usr",
    )
    # Only //tao/cluster (the Redis pub/sub bridge) uses it: a workspace that
    # does not build that package needs no libhiredis-dev.
    maybe(
        native.new_local_repository,
        name = "com_github_redis_hiredis",
        build_file = str(Label("//third_party/hiredis:BUILD.system")),
        path = "/usr",
    )
    maybe(
        native.new_local_repository,
        name = "boringssl",
        build_file = str(Label("//third_party/boringssl:BUILD.system")),
        path = "/usr",
    )

def tao_test_deps():
    """Declares what only tao's own tests, examples and benchmarks need."""
    maybe(
        native.new_local_repository,
        name = "com_google_googletest",
        build_file = str(Label("//third_party/googletest:BUILD.system")),
        path = "/usr",
    )
    maybe(
        native.new_local_repository,
        name = "com_github_google_benchmark",
        build_file = str(Label("//third_party/benchmark:BUILD.system")),
        path = "/usr",
    )
    maybe(
        native.new_local_repository,
        name = "asio",
        build_file = str(Label("//third_party/asio:BUILD.system")),
        path = "/usr",
    )
