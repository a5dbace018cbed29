//! MPI tutorial 2: bcast from any rank, send and recv. Needs 3 ranks (`mpiexec -n 3`).

#[path = "classes/test_mpiclasses.rs"]
mod test_mpiclasses;

use test_mpiclasses::{ComplexPerson, ComplexPlace, ComplexTrain};

fn main() -> anam::Result<()> {
    anam::mpi::run(true, |m| {
        if m.size() < 3 {
            println!("Error: This example needs at least three MPI nodes");
            std::process::exit(1);
        }
        match m.rank() {
            0 => {
                println!("Master node");
                let s_person = ComplexPerson {
                    name: "Fred".into(),
                    age: 42,
                };
                println!("Master: Created Person: {} {}", s_person.name, s_person.age);
                m.bcast(Some(s_person), 0)?;
                let s_place: ComplexPlace = m.bcast(None, 1)?;
                println!("Master: Recieved Place: {}", s_place.location);
            }
            1 => {
                println!("Slave node {}", m.rank());
                let s_person: ComplexPerson = m.bcast(None, 0)?;
                println!(
                    "Slave node {}: Recieved Person: {} {}",
                    m.rank(),
                    s_person.name,
                    s_person.age
                );
                let s_place = ComplexPlace {
                    location: "Manchester".into(),
                };
                println!(
                    "Slave node {}: Created place: {}",
                    m.rank(),
                    s_place.location
                );
                m.bcast(Some(s_place), 1)?;
                let _s_train: ComplexTrain = m.recv(2, 0)?;
                // (The Python script prints the person here, not the train: kept as it is.)
                println!(
                    "Slave node {}: Received Train: {} {}",
                    m.rank(),
                    s_person.name,
                    s_person.age
                );
            }
            _ => {
                println!("Slave node {}", m.rank());
                let s_person: ComplexPerson = m.bcast(None, 0)?;
                println!(
                    "Slave node {}: Received Person: {} {}",
                    m.rank(),
                    s_person.name,
                    s_person.age
                );
                let s_place: ComplexPlace = m.bcast(None, 1)?;
                println!(
                    "Slave node {}: Received Place: {}",
                    m.rank(),
                    s_place.location
                );
                if m.rank() == 2 {
                    let s_train = ComplexTrain {
                        destination: "Durham".into(),
                    };
                    println!(
                        "Slave node {}: Created train: {}",
                        m.rank(),
                        s_train.destination
                    );
                    m.send(&s_train, 1, 0)?;
                }
            }
        }
        Ok(())
    })
}
