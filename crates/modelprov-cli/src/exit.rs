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
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::VerificationFailed => 1,
            Outcome::InputError => 2,
        }
    }

    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(self.code())
    }
}
