use lifecycle::prelude::*;

pub struct Server;

impl Resource for Server {
    fn close(self) -> Result<(), lifecycle::Error> {
        Ok(())
    }
}

// One place with a mistake: one error, and the other places are still declared.
defresource!(pub SERVER: Server; static CACHE: Server; pub BACKUP: Server);

fn main() {
    let _ = SERVER.get();
    let _ = BACKUP.get();
}
