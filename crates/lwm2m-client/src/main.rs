//! The demo LwM2M client.

fn main() {
    println!("lwm2m-client: the demo client arrives with the client engine");
}
