//! Integration tests of the command line: the real `stockpicks` binary in a fresh working
//! directory, against the simulator on loopback and against hostile servers.

mod helpers;

mod cli;
mod hostile;
