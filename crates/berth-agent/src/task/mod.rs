//! One task's life on this host: its state (`state`), the pure decision of what to do next
//! (`decide`), rebuilding state after a restart (`adopt`) and the runner that executes the
//! decisions against the container runtime (`runner`).

pub mod adopt;
pub mod decide;
pub mod runner;
pub mod state;

#[cfg(test)]
mod tests;
