//! Tells the crate which optional HDF5 calls the HDF5 it links has (`hdf5-metno-sys` passes
//! the library's version to dependents as `DEP_HDF5_VERSION_<major>_<minor>_<micro>`).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hdf5_file_locking)");
    let has = |v: &str| std::env::var_os(format!("DEP_HDF5_VERSION_{v}")).is_some();
    // `H5Pset_file_locking` exists in 1.10.7+ of the 1.10 series and in 1.12.1+.
    if (has("1_10_7") && !has("1_12_0")) || has("1_12_1") {
        println!("cargo::rustc-cfg=hdf5_file_locking");
    }
}
