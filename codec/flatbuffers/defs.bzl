"""tao_flatbuffers_library: C++ for .fbs schemas, with tao type ids.

    load("@tao//codec/flatbuffers:defs.bzl", "tao_flatbuffers_library")

    tao_flatbuffers_library(
        name = "position_fbs",
        srcs = ["position.fbs"],
    )

For each `x.fbs` it runs flatc (`@com_github_google_flatbuffers//:flatc`,
declared by tao_deps()) into `x_generated.h`, and //codec/flatbuffers:type_id_gen
into `x_tao.h`, which includes `x_generated.h` and specializes
tao::FlatBufferTypeId<Table> for every table carrying `tao_message_id: "N"`
(codec/flatbuffers/type_id.h). The cc_library `name` exports both headers;
include `x_tao.h`. Schemas must sit in the main repository (the headers are
included workspace-relative, as `package/x_tao.h`).
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

_FLATC = "@com_github_google_flatbuffers//:flatc"
_TYPE_ID_GEN = str(Label("//codec/flatbuffers:type_id_gen"))
_TYPE_ID = str(Label("//codec/flatbuffers:type_id"))
_RUNTIME = "@com_github_google_flatbuffers//:flatbuffers"

def tao_flatbuffers_library(name, srcs, deps = [], flatc_args = [], **kwargs):
    """A cc_library of the flatc output and tao type ids of `srcs`.

    Args:
      name: the cc_library.
      srcs: .fbs files of this package.
      deps: other tao_flatbuffers_library targets whose schemas `srcs`
        include (`include "pkg/other.fbs";`, workspace-relative).
      flatc_args: extra flatc flags (e.g. "--gen-object-api").
      **kwargs: testonly, visibility, tags: passed to every target.
    """
    package = native.package_name()
    prefix = package + "/" if package else ""
    generated = []
    type_id_headers = []
    flatc_cmds = []
    gen_cmds = []
    for src in srcs:
        if not src.endswith(".fbs"):
            fail("tao_flatbuffers_library %s: %s is not a .fbs file" % (name, src))
        base = src[:-len(".fbs")]
        directory = src.rpartition("/")[0]
        generated.append(base + "_generated.h")
        type_id_headers.append(base + "_tao.h")
        flatc_cmds.append(
            "$(execpath %s) --cpp --keep-prefix %s -I . -o $(RULEDIR)/%s $(execpath %s)" %
            (_FLATC, " ".join(flatc_args), directory, src),
        )
        gen_cmds.append("$(execpath %s) $(execpath %s) $(execpath %s) %s ." % (
            _TYPE_ID_GEN,
            src,
            base + "_tao.h",
            prefix + base + "_generated.h",
        ))

    schemas = [dep + "_schemas" for dep in deps]
    native.filegroup(
        name = name + "_schemas",
        srcs = srcs + schemas,
        **kwargs
    )
    native.genrule(
        name = name + "_flatc",
        srcs = srcs + schemas,
        outs = generated,
        tools = [_FLATC],
        cmd = " && ".join(flatc_cmds),
        message = "flatc --cpp " + " ".join(srcs),
        **kwargs
    )
    native.genrule(
        name = name + "_type_ids",
        srcs = srcs + schemas,
        outs = type_id_headers,
        tools = [_TYPE_ID_GEN],
        cmd = " && ".join(gen_cmds),
        message = "tao type ids of " + " ".join(srcs),
        **kwargs
    )
    cc_library(
        name = name,
        hdrs = generated + type_id_headers,
        deps = deps + [_RUNTIME, _TYPE_ID],
        **kwargs
    )
