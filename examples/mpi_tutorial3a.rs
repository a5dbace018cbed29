//! MPI tutorial 3a: scatter_array, get_scatter_indices and gather on 300 points of
//! dimension 20. Needs 3 ranks (`mpiexec -n 3`).

use ndarray::{s, Array1, Array2, Axis};

/// numpy's way of printing a 1-D integer array.
fn np(a: &Array1<i64>) -> String {
    let items: Vec<String> = a.iter().map(|x| x.to_string()).collect();
    format!("[{}]", items.join(" "))
}

fn shape(a: &Array2<i64>) -> String {
    format!("({}, {})", a.shape()[0], a.shape()[1])
}

fn main() -> anam::Result<()> {
    anam::mpi::run(true, |m| {
        if m.size() < 3 {
            println!("Error: This example needs at least three MPI nodes");
            std::process::exit(1);
        }
        let (data_dim, num_pts) = (20, 300);
        let rank = m.rank();
        let who = if rank == 0 {
            "Master node".to_string()
        } else {
            format!("Slave node {rank}")
        };
        println!("{who}");
        // Row i holds i*100 + 0..19.
        let data = (rank == 0)
            .then(|| Array2::from_shape_fn((num_pts, data_dim), |(i, j)| (i * 100 + j) as i64));
        if let Some(d) = &data {
            println!("Master node: Full data array: {}", shape(d));
        }

        // 1. scatter_array
        let m1_data = m.scatter_array(data.as_ref(), 0)?;
        if rank == 0 {
            println!("Master node M1: m1_data shape: {}", shape(&m1_data));
        } else {
            println!("Slave node {rank} M1: data shape: {}", shape(&m1_data));
        }

        // 2. Broadcast everything, then each rank takes its rows.
        let data: Array2<i64> = m.bcast(data.map(anam::NdArray), 0)?.0;
        let indices = (rank == 0).then(|| m.get_scatter_indices(data.shape()[0]));
        let scatter_indices: Vec<(usize, usize)> = m.bcast(indices, 0)?;
        let (a, b) = scatter_indices[rank];
        let m2_data = data.slice_axis(Axis(0), (a..b).into()).to_owned();
        if rank == 0 {
            println!("Master node M2: m2_data shape: {}", shape(&m2_data));
        } else {
            println!("Slave node {rank} M2: data shape: {}", shape(&m2_data));
        }

        // 3. gather
        let ret_data =
            Array1::from_iter((0..m2_data.shape()[0] as i64).map(|x| x + rank as i64 * 100))
                .insert_axis(Axis(1));
        let first10 = ret_data.slice(s![0..10, 0]).to_owned();
        if rank == 0 {
            println!("Master node: data to gather shape: {}", shape(&ret_data));
            println!("Master node: first 10 elements:  {}", np(&first10));
        } else {
            println!(
                "Slave node {rank}: data to gather shape: {}",
                shape(&ret_data)
            );
            println!("Slave node {rank}: first 10 elements:  {}", np(&first10));
        }
        if let Some(all_ret_data) = m.gather(&ret_data, 0)? {
            println!("Master node: gathered data shape: {}", shape(&all_ret_data));
            for start in [0, 100, 200] {
                let part = all_ret_data.slice(s![start..start + 10, 0]).to_owned();
                println!("all_ret_data {start}:{}:  {}", start + 10, np(&part));
            }
        }
        Ok(())
    })
}
