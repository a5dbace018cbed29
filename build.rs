//! Tells the crate which optional HDF5 calls the HDF5 it links has (`hdf5-metno-sys` passes
//! the library's version to dependents as `DEP_HDF5_VERSION_<major>_<minor>_<micro>`), and
//! stops a build with the `mpio` feature against an HDF5 that is not MPI-enabled.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hdf5_file_locking)");
    let has = |v: &str| std::env::var_os(format!("DEP_HDF5_VERSION_{v}")).is_some();
    // `H5Pset_file_locking` exists in 1.10.7+ of the 1.10 series and in 1.12.1+.
    if (has("1_10_7") && !has("1_12_0")) || has("1_12_1") {
        println!("cargo::rustc-cfg=hdf5_file_locking");
    }
    // hdf5-metno-sys declares the MPI-IO calls only for a parallel HDF5: say so plainly
    // instead of leaving an unresolved import.
    if std::env::var_os("CARGO_FEATURE_MPIO").is_some()
        && std::env::var_os("DEP_HDF5_HAVE_PARALLEL").is_none()
    {
        let dir = std::env::var("DEP_HDF5_INCLUDE").unwrap_or_else(|_| "?".into());
        panic!(
            "the `mpio` feature needs an MPI-enabled (parallel) HDF5, and the HDF5 found \
             (headers in {dir}) is serial. Point HDF5_DIR at a parallel HDF5 built with the \
             MPI that rsmpi uses; on Debian/Ubuntu with MPICH: `apt-get install \
             libhdf5-mpich-dev` and HDF5_DIR=/usr/lib/x86_64-linux-gnu/hdf5/mpich (`make \
             deps-mpio test-mpio` does both)."
        );
    }
}
