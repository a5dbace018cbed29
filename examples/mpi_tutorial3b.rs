//! MPI tutorial 3b: scatter_list and gather_list on 300 strings. Needs 3 ranks.

/// Python's way of printing a list of strings.
fn py(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", quoted.join(", "))
}

fn main() -> anam::Result<()> {
    anam::mpi::run(true, |m| {
        if m.size() < 3 {
            println!("Error: This example needs at least three MPI nodes");
            std::process::exit(1);
        }
        let num_pts = 300;
        if m.rank() == 0 {
            println!("Master node");
            let data: Vec<String> = (0..num_pts).map(|x| x.to_string()).collect();
            println!("Master node: Full data array: len: {}", data.len());
            let m1_data = m.scatter_list(Some(&data), 0)?;
            println!("Master node M1: m1_data len: {}", m1_data.len());
            let all_ret_data = m.gather_list(&m1_data, true)?;
            println!("Master node: gathered list len: {}", all_ret_data.len());
            for start in [0, 100, 200] {
                println!(
                    "all_ret_data {start}:{}:  {}",
                    start + 10,
                    py(&all_ret_data[start..start + 10])
                );
            }
        } else {
            println!("Slave node {}", m.rank());
            let m1_data: Vec<String> = m.scatter_list(None, 0)?;
            println!("Slave node {}: data len: {}", m.rank(), m1_data.len());
            m.gather_list(&m1_data, false)?;
        }
        Ok(())
    })
}
