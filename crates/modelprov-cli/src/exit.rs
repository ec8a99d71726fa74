//! The exit-code contract shared by every command.

use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything checked out.
    Ok,
    /// The model is not what it claims to be.
    VerificationFailed,
    /// Bad usage or unusable input; nothing was decided about the model.
    InputError,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            Outcome::Ok => 0,
            Outcome::VerificationFailed => 1,
            Outcome::InputError => 2,
        })
    }
}

pub fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    Outcome::InputError.exit_code()
}
