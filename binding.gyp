# Builds the Node addon: the C core (as C11) plus the thin C++ binding.
# The core is compiled from the same sources as libpgatomic, with no macro
# that changes its behaviour (STYLE 2.6).
{
  "targets": [
    {
      "target_name": "pgatomic",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('core/src').filter(f => f.endsWith('.c')).map(f => 'core/src/' + f).join(' ')\")",
        "bindings/node/addon.cc",
        "bindings/node/busypoll.cc",
        "bindings/node/connection.cc",
        "bindings/node/convert.cc",
        "bindings/node/errors.cc",
        "bindings/node/settle.cc"
      ],
      "include_dirs": [
        "core/include",
        "core/src",
        "<!(node bindings/node/build.js --include-dir)",
        "<!(pg_config --includedir)"
      ],
      "libraries": [
        "-L<!(pg_config --libdir)",
        "-lpq"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        # A worker being terminated cannot take a new exception; without
        # this node-addon-api turns that into a fatal error (seen when a
        # worker is terminated while it calls into the addon).
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags_c": ["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y", "-std=gnu++14"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-std=c11"],
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17"]
      }
    }
  ]
}
