//! Tells the tests which instruction sets this machine can run, so that a test of a path
//! the CPU lacks is reported as ignored (with the reason) instead of passing without
//! running. The library itself decides at run time (`cnn_book::fast::simd`); these flags
//! only mark tests.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(cpu_avx2)");
    println!("cargo::rustc-check-cfg=cfg(cpu_avx512)");
    // Only when the tests run where they are built (not when cross-compiling).
    let native = std::env::var("TARGET").ok() == std::env::var("HOST").ok();
    #[cfg(target_arch = "x86_64")]
    if native {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            println!("cargo::rustc-cfg=cpu_avx2");
        }
        if std::is_x86_feature_detected!("avx512f") {
            println!("cargo::rustc-cfg=cpu_avx512");
        }
    }
    let _ = native;
}
