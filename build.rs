//! Compiles our own `.proto` files with `protox` (a pure-Rust protobuf compiler), so building the
//! crate never needs a system `protoc`.

use std::io;

const PROTOS: &[&str] = &["wechaty/puppet.proto", "grpc/health/v1/health.proto"];

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(PROTOS, ["proto"]).map_err(io::Error::other)?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // The server half exists for the mock puppet service only.
        .server_mod_attribute("wechaty", r#"#[cfg(feature = "mock")]"#)
        .server_mod_attribute("grpc.health.v1", r#"#[cfg(feature = "mock")]"#)
        // RPCs the mock does not model answer `Unimplemented` instead of forcing a stub each.
        .generate_default_stubs(true)
        // File chunks as `Bytes`: Upload/Download pass them on without copying.
        .bytes(".")
        .compile_fds(descriptors)
}
