//! MPI tutorial 1: broadcasting objects. Run with `mpiexec -n 3` (`make mpi-demo`).
//!
//! The master creates a person, a place and a train and broadcasts them; the other ranks
//! receive them without naming their types (the class tag travels with each object).

#[path = "classes/test_mpiclasses.rs"]
mod test_mpiclasses;

use anam::AnamObject;
use test_mpiclasses::{ComplexPerson, ComplexPlace, ComplexTrain};

fn main() -> anam::Result<()> {
    // All nodes must do this; an error on any rank aborts the whole job.
    anam::mpi::run(true, |m| {
        if m.rank() == 0 {
            println!("Master node");
            let s_person = ComplexPerson {
                name: "Fred".into(),
                age: 42,
            };
            let s_place = ComplexPlace {
                location: "York".into(),
            };
            let s_train = ComplexTrain {
                destination: "Disastersville".into(),
            };
            println!("Master: Person: {} {}", s_person.name, s_person.age);
            println!("Master: Place: {}", s_place.location);
            println!("Master: Train to: {}", s_train.destination);
            m.bcast_obj(Some(Box::new(s_person)), 0)?;
            m.bcast_obj(Some(Box::new(s_place)), 0)?;
            m.bcast_obj(Some(Box::new(s_train)), 0)?;
        } else {
            println!("Slave node {}", m.rank());
            // The receivers learn each object's type from the message.
            let s_person = m.bcast_obj(None, 0)?.downcast::<ComplexPerson>()?;
            let s_place = m.bcast_obj(None, 0)?.downcast::<ComplexPlace>()?;
            let s_train: Box<dyn AnamObject> = m.bcast_obj(None, 0)?;
            let s_train = s_train.downcast::<ComplexTrain>()?;
            println!(
                "Slave node {}: Person: {} {}",
                m.rank(),
                s_person.name,
                s_person.age
            );
            println!("Slave node {}: Place: {}", m.rank(), s_place.location);
            println!("Slave node {}: Train: {}", m.rank(), s_train.destination);
        }
        Ok(())
    })
}
